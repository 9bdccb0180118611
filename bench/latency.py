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
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
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

        ours = run(lambda: _Ours(url))
        raw = run(lambda: _Raw(url))
        chat = ChatClient(url, token=TOKEN)

        def sequential() -> None:
            for _ in range(sequential_calls):
                chat.append_message(SESSION_ID, "user", "a message")

        def per_call(seconds: list[float], n: int = calls) -> list[float]:
            return [s / n for s in seconds]

        concurrent, seq = interleaved(ours, sequential, rounds, 1)
        ours_vs_raw, raw_vs_ours = interleaved(ours, raw, rounds, 1)
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
    ]


if __name__ == "__main__":
    from bench.__main__ import render

    print(render(figures(1000, 100, 3)))
