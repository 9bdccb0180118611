"""Many async clients appending to one session at once lose nothing and list each message once."""

from __future__ import annotations

import asyncio
from pathlib import Path

from clann_devserver.server import running
from pyclann import AsyncChatClient

CLIENTS, EACH = 20, 15


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
