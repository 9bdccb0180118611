"""Concurrency where the latency is waiting: 1,000 calls at concurrency 50, each answer 20 ms away.

The server (bench/slowserver.py, in a process of its own) sleeps 20 ms before
every answer and costs little CPU, so what concurrency gains is the client's
doing. Each round is 1,000 `append_message` calls, 50 in flight at once, with a
new client; the figure is the round's time per call. Sequential sync calls are
measured over 100 calls a round (each costs the same 20 ms and more, however
many there are), which keeps the run short.

Figures (issues 14 and 19), with no extra installed: the default AsyncChatClient has
at least 25x the throughput of sequential ChatClient calls, and takes at most
1.1x the time of raw httpx2.AsyncClient sending the same requests over its own
pool. The two are measured interleaved, round by round, in one run.

Reported beside them, from the same rounds: the CPU time this process spends per
request, pyclann's against raw httpx2's, and raw httpx2's CPU per request against
a sequential call's time. Fifty tasks share one thread, so a round can go no
faster than its CPU time: a sequential call's time over the CPU per request is
the most throughput any client on that stack can reach on this machine.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager, contextmanager
from pathlib import Path

import httpx2

import pyclann
from bench.measure import Figure, interleaved
from bench.processes import listening
from pyclann import AsyncChatClient, ChatClient

TOKEN = "bench-token"
ULID = "01JDXV3C5Z0K8Y8T6W3M2Q9R4N"
SESSION_ID = f"chat_session:{ULID}"
CONCURRENCY = 50
THROUGHPUT_GOAL = 25.0
RAW_GOAL = 1.1


@contextmanager
def slow_server(delay_ms: float = 20.0) -> Iterator[str]:
    """bench/slowserver.py on a free port of 127.0.0.1, stopped on exit; its URL."""
    with tempfile.TemporaryDirectory(prefix="clann-bench-slow-") as folder:
        port_file = Path(folder) / "port"
        command = [sys.executable, "-m", "bench.slowserver", str(port_file), str(delay_ms)]
        with listening(command, port_file) as (_, url):
            yield url


def _headers() -> dict[str, str]:
    """What pyclann sends with an append, for a raw client to send the same request."""
    return {
        "User-Agent": f"python-httpx2/{httpx2.__version__} pyclann/{pyclann.__version__}",
        "Accept": "application/json",
        "Accept-Encoding": "gzip, deflate",
        "Authorization": f"Bearer {TOKEN}",
        "Idempotency-Key": str(uuid.uuid4()),
    }


Call = Callable[[], Awaitable[object]]


async def _gather(calls: int, make: Callable[[], AbstractAsyncContextManager[Call]]) -> None:
    gate = asyncio.Semaphore(CONCURRENCY)
    async with make() as call:

        async def one() -> None:
            async with gate:
                await call()

        await asyncio.gather(*(one() for _ in range(calls)))


class _Ours:
    """The default AsyncChatClient (its own httpx2 client), appending as one call."""

    def __init__(self, url: str) -> None:
        self.url = url

    async def __aenter__(self) -> Call:
        self.chat = AsyncChatClient(self.url, token=TOKEN)
        return lambda: self.chat.append_message(SESSION_ID, "user", "a message")

    async def __aexit__(self, *exc: object) -> None:
        await self.chat.aclose()


class _Raw:
    """Raw httpx2.AsyncClient sending the same POST, reading the JSON."""

    def __init__(self, url: str) -> None:
        self.url = url

    async def __aenter__(self) -> Call:
        self.http = httpx2.AsyncClient(timeout=pyclann.DEFAULT_TIMEOUT)
        target = f"{self.url}/api/chat/sessions/{ULID}/messages"

        async def call() -> object:
            response = await self.http.post(target, json={"role": "user", "content": "a message"}, headers=_headers())
            response.raise_for_status()
            return json.loads(response.content)

        return call

    async def __aexit__(self, *exc: object) -> None:
        await self.http.aclose()


def figures(calls: int, sequential_calls: int, rounds: int) -> list[Figure]:
    with slow_server() as url:

        def run(make: Callable[[], AbstractAsyncContextManager[Call]]) -> Callable[[], None]:
            return lambda: asyncio.run(_gather(calls, make))

        cpu: dict[str, list[float]] = {"ours": [], "raw": []}

        def timed(name: str, round_: Callable[[], None]) -> Callable[[], None]:
            """`round_`, noting its CPU time per call (this process's: the server runs in another)."""

            def measured() -> None:
                started = time.process_time()
                round_()
                cpu[name].append((time.process_time() - started) / calls)

            return measured

        ours = run(lambda: _Ours(url))
        raw = timed("raw", run(lambda: _Raw(url)))
        chat = ChatClient(url, token=TOKEN)

        def sequential() -> None:
            for _ in range(sequential_calls):
                chat.append_message(SESSION_ID, "user", "a message")

        def per_call(seconds: list[float], n: int = calls) -> list[float]:
            return [s / n for s in seconds]

        concurrent, seq = interleaved(ours, sequential, rounds, 1)
        ours_vs_raw, raw_vs_ours = interleaved(timed("ours", ours), raw, rounds, 1)
        chat.close()
    name = f"{calls:,} append_message at concurrency {CONCURRENCY}, 20 ms server"
    throughput = f">= {THROUGHPUT_GOAL:g}x throughput (<= {1 / THROUGHPUT_GOAL:g}x per call)"
    return [
        Figure(
            f"{name}: AsyncChatClient",
            "ms",
            1e3,
            per_call(concurrent),
            per_call(seq, sequential_calls),
            "sequential ChatClient calls",
            throughput,
            1 / THROUGHPUT_GOAL,
        ),
        Figure(
            "  AsyncChatClient, its own httpx2 pool",
            "ms",
            1e3,
            per_call(ours_vs_raw),
            per_call(raw_vs_ours),
            "raw httpx2.AsyncClient, its own pool",
            f"<= {RAW_GOAL}x",
            RAW_GOAL,
        ),
        Figure(
            "  CPU per request, AsyncChatClient (this process)",
            "ms",
            1e3,
            cpu["ours"],
            cpu["raw"],
            "raw httpx2.AsyncClient",
            "report",
            None,
        ),
        Figure(
            "  CPU per request of raw httpx2.AsyncClient: 1 / ratio is the most throughput it can reach",
            "ms",
            1e3,
            cpu["raw"],
            per_call(seq, sequential_calls),
            "sequential ChatClient calls",
            "report",
            None,
        ),
    ]


if __name__ == "__main__":
    from bench.__main__ import render

    print(render(figures(1000, 100, 3)))
