"""Many clients, tasks and threads at once: nothing lost or doubled, no call sees another's answer.

The first test runs the dev server; the next ones a small in-memory stand-in on
127.0.0.1 for one session's messages (append, and list in pages after a
message), which checks each answer against the call that asked for it, so that
the clients' pools, parsing and paging run truly concurrently. The last two
(issue 22) share one sync ChatClient between 32 threads against the dev server,
writing and walking at once, then through the soak's fault proxy, and audit the
server's state afterwards.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from pyclann import AsyncChatClient, ChatClient, ClannError
from pyclann.devserver.server import running
from pyclann.testing import scaled_retries
from scripts.faults.proxy import TAG_HEADER, FaultProxy, SeededFaults
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


THREADS, SESSIONS_EACH, MESSAGES_EACH = 32, 3, 3


def test_32_threads_sharing_one_sync_client_lose_and_double_nothing(tmp_path: Path) -> None:
    """Writes of every kind and walks from 32 threads on one ChatClient, audited against the server's state.

    Each thread owns its sessions (so it knows exactly what they must hold, and checks
    every walk of them as it goes), and all append to one shared session.
    """
    with (
        running(tmp_path / "chat.sqlite3", {"t-alice": "alice"}) as server,
        ChatClient(server.url, token="t-alice") as chat,
    ):
        shared = chat.create_session("shared", "alice")
        start = threading.Barrier(THREADS)
        kept: dict[str, tuple[str, list[str]]] = {}  # each session that must remain: its title and messages
        wrong: list[str] = []
        lock = threading.Lock()

        def work(n: int) -> None:
            mine: dict[str, tuple[str, list[str]]] = {}
            start.wait()
            for s in range(SESSIONS_EACH):
                session = chat.create_session(f"t{n}-s{s}", "alice")
                contents = [f"t{n}-s{s}-m{m}" for m in range(MESSAGES_EACH)]
                for content in contents:
                    chat.append_message(session, "user", content)
                chat.append_message(shared, "user", f"t{n}-s{s}")
                walked = [message.content for message in chat.iter_messages(session, page_size=2)]
                if walked != contents:
                    wrong.append(f"thread {n} walked {walked}, wrote {contents}")
                title = chat.update_session(session, title=f"t{n}-s{s}-renamed").title
                mine[session.id] = (title, contents)
                listed = [found.id for found in chat.iter_sessions("alice", page_size=7)]
                if len(listed) != len(set(listed)):
                    wrong.append(f"thread {n}: a walk of the sessions yielded one twice")
                if session.id not in listed:
                    wrong.append(f"thread {n}: a walk started after {session.id} was renamed missed it")
            for gone in list(mine)[::2]:
                chat.delete_session(gone)
                del mine[gone]
            with lock:
                kept.update(mine)

        errors: list[BaseException] = []

        def run(n: int) -> None:
            try:
                work(n)
            except BaseException as error:  # reported below: a thread's exception would otherwise be lost
                errors.append(error)

        threads = [threading.Thread(target=run, args=(n,)) for n in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert wrong == []

        with ChatClient(server.url, token="t-alice") as auditor:
            sessions = auditor.list_sessions("alice")
            assert sorted(s.id for s in sessions) == sorted([*kept, shared.id]), "a session lost, doubled or undead"
            for found in sessions:
                if found.id == shared.id:
                    continue
                title, contents = kept[found.id]
                assert found.title == title
                assert [m.content for m in auditor.list_messages(found)] == contents
            in_shared = [m.content for m in auditor.list_messages(shared)]
            expected = [f"t{n}-s{s}" for n in range(THREADS) for s in range(SESSIONS_EACH)]
            assert sorted(in_shared) == sorted(expected), "a shared message lost or doubled"


def test_32_threads_calling_again_with_their_keys_on_one_sync_client_through_faults_store_each_once(
    tmp_path: Path,
) -> None:
    """The same, through the soak's fault proxy: each thread settles its appends as the retries guide says.

    Every call that raised is called again with the error's key on the shared client, whose
    memory of the keys in doubt all 32 threads use and change at once.
    """
    with (
        running(tmp_path / "chat.sqlite3", {"t-alice": "alice"}) as server,
        FaultProxy(server.url, SeededFaults(2026, 0.4), drip_seconds=0.6) as proxy,
        ChatClient(proxy.url, token="t-alice", timeout=0.3) as chat,
    ):
        shared = chat.create_session("shared", "alice")  # its tag ("") meets no faults: the proxy's counts start at 0
        told: dict[str, str] = {}  # each content, and the ID of the message the thread was told was stored
        unsettled: list[str] = []
        lock = threading.Lock()

        def work(n: int) -> None:
            for i in range(MESSAGES_EACH + 1):
                content = f"t{n}-{i}"
                tagged = chat.with_options(headers={TAG_HEADER: content})
                key: str | None = None
                for _ in range(20):
                    try:
                        stored = tagged.append_message(shared, "user", content, idempotency_key=key)
                    except ClannError as error:
                        key = error.idempotency_key
                        time.sleep(0.01 * min(getattr(error, "retry_after", None) or 1.0, 60.0))
                        continue
                    with lock:
                        told[content] = stored.id
                    break
                else:
                    unsettled.append(content)

        with scaled_retries(0.01):
            threads = [threading.Thread(target=contextvars.copy_context().run, args=(work, n)) for n in range(THREADS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        assert unsettled == []
        faults = proxy.injected
        assert faults["reset-after"], f"no answer was lost: the run showed nothing ({faults})"
        with ChatClient(server.url, token="t-alice") as auditor:
            stored_messages = auditor.list_messages(shared)
    contents = [m.content for m in stored_messages]
    assert sorted(contents) == sorted(f"t{n}-{i}" for n in range(THREADS) for i in range(MESSAGES_EACH + 1))
    assert {m.content: m.id for m in stored_messages} == told, "each thread was told of the message it stored"
