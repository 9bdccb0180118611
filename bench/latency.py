"""Concurrency where the latency is waiting: 1,000 calls at concurrency 50, each answer 20 ms away.

The server (bench/slowserver.py, in a process of its own) sleeps 20 ms before
every answer and costs little CPU, so what concurrency gains is the client's
doing. Each round is 1,000 `append_message` calls, 50 in flight at once, with a
new client; the figure is the round's time per call. Sequential sync calls are
measured over 100 calls a round (each costs the same 20 ms and more, however
many there are), which keeps the run short.

Figures (issue 14), over the aiohttp transport (`pyclann[aiohttp]`): AsyncChatClient
has at least 20x the throughput of sequential ChatClient calls, and stays
within 1.2x of raw httpx.AsyncClient sending the same requests over the same
transport. Over httpx's own pool both are reported, without a goal: that pool
is the ceiling (raw httpx over it takes ~3x as long as over aiohttp's), and it
is bimodal: a round of 1,000 calls costs httpx itself either ~1.3 s or ~3.3 s
of CPU, raw or under pyclann alike, so a median of a few rounds compares modes,
not clients. The last figure shows that ceiling.
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

import httpx

import pyclann
from bench.measure import Figure, interleaved
from bench.processes import listening
from pyclann import AsyncChatClient, ChatClient
from pyclann.transport import aiohttp_client

TOKEN = "bench-token"
ULID = "01JDXV3C5Z0K8Y8T6W3M2Q9R4N"
SESSION_ID = f"chat_session:{ULID}"
CONCURRENCY = 50
THROUGHPUT_GOAL = 20.0
RAW_GOAL = 1.2


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
        "User-Agent": f"python-httpx/{httpx.__version__} pyclann/{pyclann.__version__}",
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
    """An AsyncChatClient (over `http`, or its own httpx client), appending as one call."""

    def __init__(self, url: str, aiohttp: bool) -> None:
        self.url, self.aiohttp = url, aiohttp

    async def __aenter__(self) -> Call:
        self.http = aiohttp_client() if self.aiohttp else None
        self.chat = AsyncChatClient(self.url, token=TOKEN, http_client=self.http)
        return lambda: self.chat.append_message(SESSION_ID, "user", "a message")

    async def __aexit__(self, *exc: object) -> None:
        await self.chat.aclose()
        if self.http is not None:
            await self.http.aclose()


class _Raw:
    """Raw httpx.AsyncClient (httpx's pool, or aiohttp's) sending the same POST, reading the JSON."""

    def __init__(self, url: str, aiohttp: bool) -> None:
        self.url, self.aiohttp = url, aiohttp

    async def __aenter__(self) -> Call:
        self.http = aiohttp_client() if self.aiohttp else httpx.AsyncClient(timeout=pyclann.DEFAULT_TIMEOUT)
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

        ours_aiohttp = run(lambda: _Ours(url, aiohttp=True))
        raw_aiohttp = run(lambda: _Raw(url, aiohttp=True))
        ours_httpx = run(lambda: _Ours(url, aiohttp=False))
        raw_httpx = run(lambda: _Raw(url, aiohttp=False))
        chat = ChatClient(url, token=TOKEN)

        def sequential() -> None:
            for _ in range(sequential_calls):
                chat.append_message(SESSION_ID, "user", "a message")

        def per_call(seconds: list[float], n: int = calls) -> list[float]:
            return [s / n for s in seconds]

        async_aiohttp, seq = interleaved(ours_aiohttp, sequential, rounds, 1)
        vs_raw_aiohttp = interleaved(ours_aiohttp, raw_aiohttp, rounds, 1)
        vs_raw_httpx = interleaved(ours_httpx, raw_httpx, rounds, 1)
        pools = interleaved(raw_httpx, raw_aiohttp, rounds, 1)
        chat.close()
    name = f"{calls:,} append_message at concurrency {CONCURRENCY}, 20 ms server"
    throughput = f">= {THROUGHPUT_GOAL:g}x throughput (<= {1 / THROUGHPUT_GOAL:g}x per call)"
    ours_a, raw_a = vs_raw_aiohttp
    ours_h, raw_h = vs_raw_httpx
    pool_h, pool_a = pools
    return [
        Figure(
            f"{name}: AsyncChatClient over aiohttp",
            "ms",
            1e3,
            per_call(async_aiohttp),
            per_call(seq, sequential_calls),
            "sequential ChatClient calls",
            throughput,
            1 / THROUGHPUT_GOAL,
        ),
        Figure(
            "  AsyncChatClient over aiohttp (pyclann[aiohttp])",
            "ms",
            1e3,
            per_call(ours_a),
            per_call(raw_a),
            "raw httpx.AsyncClient over aiohttp",
            f"<= {RAW_GOAL}x",
            RAW_GOAL,
        ),
        Figure(
            "  AsyncChatClient over httpx's own pool",
            "ms",
            1e3,
            per_call(ours_h),
            per_call(raw_h),
            "raw httpx.AsyncClient, its own pool",
            "report (bimodal)",
            None,
        ),
        Figure(
            "  raw httpx.AsyncClient: httpx's own pool",
            "ms",
            1e3,
            per_call(pool_h),
            per_call(pool_a),
            "the same over aiohttp",
            "report",
            None,
        ),
    ]


if __name__ == "__main__":
    from bench.__main__ import render

    print(render(figures(1000, 100, 3)))
