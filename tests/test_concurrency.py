"""Many clients, tasks and threads at once: nothing lost or doubled, no call sees another's answer.

The first test runs the dev server; the others a small in-memory stand-in on
127.0.0.1 for one session's messages (append, and list in pages after a
message), which checks each answer against the call that asked for it, so that
the clients' pools, parsing and paging run truly concurrently.
"""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from pyclann import AsyncChatClient, ChatClient
from pyclann.devserver.server import running
from tests.helpers import MESSAGE, SESSION_ID, TOKEN, ulid
from tests.servers import Exchange, Server, response

CLIENTS, EACH = 20, 15
FAKE_CLIENTS, FAKE_EACH = 10, 12


async def test_concurrent_appends_to_one_session_are_all_kept_once_in_order(tmp_path: Path) -> None:
    with running(tmp_path / "chat.sqlite3", {"t-alice": "alice"}) as server:
        clients = [AsyncChatClient(server.url, token="t-alice") for _ in range(CLIENTS)]
        session = await clients[0].create_session("busy", "alice")

        async def writer(n: int, client: AsyncChatClient) -> list[str]:
            return [(await client.append_message(session.id, "user", f"c{n}-{i}")).id for i in range(EACH)]

        written = await asyncio.gather(*(writer(n, c) for n, c in enumerate(clients)))
        listed = await clients[0].list_messages(session.id)
        again = await clients[1].list_messages(session.id)
        for client in clients:
            await client.aclose()
    ids = [m.id for m in listed]
    assert len(ids) == CLIENTS * EACH == len(set(ids))
    assert set(ids) == {message for batch in written for message in batch}
    assert ids == sorted(ids), "oldest first, ties broken on the ID"
    assert [m.id for m in again] == ids
    for n in range(CLIENTS):
        mine = [m.content for m in listed if m.content.startswith(f"c{n}-")]
        assert mine == [f"c{n}-{i}" for i in range(EACH)], "each writer's messages keep its order"


class Messages:
    """One session's messages, appended under a lock, listed in pages."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.stored: list[dict[str, object]] = []

    def handle(self, exchange: Exchange) -> None:
        request = exchange.read_request()
        head, _, body = request.partition(b"\r\n\r\n")
        method, target, _ = head.split(b"\r\n", 1)[0].decode().split(" ", 2)
        url = urlsplit(target)
        if method == "POST":
            sent = json.loads(body)
            with self.lock:
                record = {**MESSAGE, "id": f"chat_message:{ulid(len(self.stored) + 1)}", "content": sent["content"]}
                self.stored.append(record)
            exchange.send(response(201, record, {"X-Request-Id": str(record["id"])}))
            return
        query = parse_qs(url.query)
        limit = int(query["limit"][0])
        after = query.get("after", [None])[0]
        with self.lock:
            ids = [str(m["id"]) for m in self.stored]
            start = 0 if after is None else next(i for i, m in enumerate(ids) if m.endswith(after)) + 1
            page = self.stored[start : start + limit]
            more = start + limit < len(self.stored)
        last = page[-1]["id"] if page else None
        body_out = {"data": page, "has_more": more, "first_id": page[0]["id"] if page else None, "last_id": last}
        exchange.send(response(200, body_out))


def test_concurrent_appends_from_many_async_clients_come_back_once_each_in_order() -> None:
    messages = Messages()
    with Server(messages.handle) as server:

        async def writer(n: int, client: AsyncChatClient) -> list[tuple[str, str]]:
            written = []
            for i in range(FAKE_EACH):
                message = await client.append_message(SESSION_ID, "user", f"c{n}-{i}")
                written.append((message.id, message.content))
            return written

        async def run() -> tuple[list[list[tuple[str, str]]], list[str]]:
            clients = [AsyncChatClient(server.url, token=TOKEN) for _ in range(FAKE_CLIENTS)]
            shared = AsyncChatClient(server.url, token=TOKEN)
            try:
                tasks = [writer(n, c) for n, c in enumerate(clients)]
                tasks += [writer(FAKE_CLIENTS + n, shared) for n in range(3)]  # three tasks on one client
                written = await asyncio.gather(*tasks)
                listed = [m.id async for m in shared.iter_messages(SESSION_ID, page_size=7)]
                return written, listed
            finally:
                for client in [*clients, shared]:
                    await client.aclose()

        written, listed = asyncio.run(run())
    for n, batch in enumerate(written):
        # Each call got its own answer: the message it sent, never another task's.
        assert [content for _, content in batch] == [f"c{n}-{i}" for i in range(FAKE_EACH)]
    assert len(listed) == (FAKE_CLIENTS + 3) * FAKE_EACH == len(set(listed))
    assert set(listed) == {message_id for batch in written for message_id, _ in batch}
    assert listed == [str(m["id"]) for m in messages.stored], "oldest first, each once, across pages"


def test_concurrent_calls_from_threads_on_one_sync_client_each_get_their_own_answer() -> None:
    messages = Messages()
    with Server(messages.handle) as server, ChatClient(server.url, token=TOKEN) as client:
        mixed: list[str] = []

        def writer(n: int) -> None:
            for i in range(FAKE_EACH):
                message = client.append_message(SESSION_ID, "user", f"t{n}-{i}")
                if message.content != f"t{n}-{i}":
                    mixed.append(message.content)

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        listed = client.list_messages(SESSION_ID)
    assert mixed == []
    assert len(listed) == 6 * FAKE_EACH == len({m.id for m in listed})
