"""The bell of long polling: a held request looks only when rung or when its wait runs out.

The HTTP behaviour (what each held listing is answered, and when) is tested
through a running server in test_waiting.py; this is the bell alone, on an
event loop of the test's own.
"""

from __future__ import annotations

import asyncio
import functools
import threading

from pyclann.devserver.waiting import Bell

# Stops a test that would otherwise hang; never a measure of anything.
PATIENCE = 60.0


def test_a_held_request_looks_once_when_rung_and_once_when_its_wait_runs_out() -> None:
    bell = Bell()
    looks: list[int] = []

    def look() -> list[str]:
        looks.append(len(looks))
        return ["new"] if len(looks) == 2 else []

    async def main() -> tuple[list[str], list[str]]:
        woken = asyncio.create_task(bell.hold("S", 30, look, lambda found: not found))
        await asyncio.sleep(0)  # the request runs until it waits
        assert bell.held == 1
        bell.ring("S")
        first = await woken
        # Nothing rings now: it looks when it starts, and once more when its second runs out.
        return first, await bell.hold("S", 1, look, lambda found: not found)

    assert asyncio.run(main()) == (["new"], [])
    assert len(looks) == 4


def test_a_bell_rung_from_another_thread_wakes_the_request() -> None:
    bell = Bell()
    found: list[str] = []

    async def main() -> list[str]:
        # Held for an hour: only the ring can end it within the test's patience.
        held = asyncio.create_task(bell.hold("S", 3600, lambda: list(found), lambda got: not got))
        await asyncio.sleep(0)  # the request runs until it waits
        assert bell.held == 1

        def write() -> None:
            found.append("new")
            bell.ring("S")

        writer = threading.Thread(target=write)
        writer.start()
        woken = await asyncio.wait_for(held, PATIENCE)
        writer.join()
        return woken

    assert asyncio.run(main()) == ["new"]


async def _held(bell: Bell, *tasks: asyncio.Task[list[str]]) -> None:
    await asyncio.sleep(0)  # each request runs until it waits
    assert bell.held == len(tasks)


def test_requests_woken_by_one_ring_share_a_look_when_they_ask_the_same() -> None:
    bell = Bell()
    looks: list[str] = []
    appended: list[str] = []

    def look(user: str) -> list[str]:
        looks.append(user)
        return list(appended)

    async def main() -> list[list[str]]:
        users = ["alice", "alice", "bob", "alice", "bob"]
        tasks = [
            asyncio.create_task(bell.hold("S", 30, functools.partial(look, user), lambda found: not found, share=user))
            for user in users
        ]
        await _held(bell, *tasks)
        looks.clear()
        appended.append("new")
        bell.ring("S")
        return list(await asyncio.gather(*tasks))

    assert asyncio.run(main()) == [["new"]] * 5
    assert sorted(looks) == ["alice", "bob"]


def test_a_later_ring_is_looked_at_afresh() -> None:
    bell = Bell()
    found: list[str] = []

    async def main() -> tuple[list[str], list[str]]:
        first = asyncio.create_task(bell.hold("S", 30, lambda: list(found), lambda got: not got, share="same"))
        await _held(bell, first)
        bell.ring("S")  # nothing new yet: it looks, finds nothing, and waits again
        await asyncio.sleep(0.01)
        assert bell.held == 1
        found.append("new")
        bell.ring("S")
        return await first, found

    woken, now = asyncio.run(main())
    assert woken == now == ["new"]


def test_a_ring_on_another_session_wakes_nobody_here() -> None:
    bell = Bell()
    looks: list[str] = []

    def look() -> list[str]:
        looks.append("S")
        return []

    async def main() -> int:
        held = asyncio.create_task(bell.hold("S", 30, look, lambda got: not got))
        await _held(bell, held)
        bell.ring("T")
        await asyncio.sleep(0.01)
        still = bell.held
        bell.stop()
        await held
        return still

    assert asyncio.run(main()) == 1
    assert looks == ["S", "S"]  # when held, and when the stop answered it


def test_a_stopped_bell_holds_nothing() -> None:
    bell = Bell()

    async def main() -> list[str]:
        bell.stop()
        # An hour's wait is answered at once: the server is stopping.
        return await asyncio.wait_for(bell.hold("S", 3600, lambda: [], lambda got: not got), PATIENCE)

    assert asyncio.run(main()) == []
    assert bell.stopping
