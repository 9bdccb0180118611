"""Against the dev server on 127.0.0.1, run in its own process so it does not share our GIL."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from bench.measure import Figure
from pyclann import AsyncChatClient, ChatClient

TOKEN = "bench-token"


@contextmanager
def dev_server() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="clann-bench-") as folder:
        port_file = Path(folder) / "port"
        command = [
            sys.executable,
            "-m",
            "devserver",
            "--port",
            "0",
            "--port-file",
            str(port_file),
            "--db",
            str(Path(folder) / "bench.sqlite3"),
            "--token",
            f"alice={TOKEN}",
        ]
        server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 20
            while not port_file.exists() or not port_file.read_text():
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the dev server did not start")
                time.sleep(0.05)
            yield f"http://127.0.0.1:{port_file.read_text()}"
        finally:
            server.terminate()
            server.wait(10)


def sequential_appends(url: str, calls: int, rounds: int) -> Figure:
    client = ChatClient(url, token=TOKEN)
    session = client.create_session("bench", "alice")
    ulid = session.id.split(":")[1]
    raw = httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"})
    target: list[float] = []
    base: list[float] = []
    per_round = calls // rounds
    for round_ in range(rounds):

        def ours() -> None:
            for i in range(per_round):
                client.append_message(session.id, "user", f"message {i}")

        def theirs() -> None:
            for i in range(per_round):
                raw.post(
                    f"{url}/api/chat/sessions/{ulid}/messages", json={"role": "user", "content": f"message {i}"}
                ).json()

        for function, into in [(ours, target), (theirs, base)][:: 1 if round_ % 2 == 0 else -1]:
            started = time.perf_counter()
            function()
            into.append((time.perf_counter() - started) / per_round)
    client.close()
    raw.close()
    return Figure(
        f"{calls:,} sequential append_message (dev server)",
        "ms",
        1e3,
        target,
        base,
        "raw httpx keep-alive POSTs",
        "<= 1.15x",
        1.15,
    )


async def _concurrent(url: str, session_id: str, calls: int, concurrency: int) -> None:
    gate = asyncio.Semaphore(concurrency)
    async with AsyncChatClient(url, token=TOKEN) as client:

        async def one(i: int) -> None:
            async with gate:
                await client.append_message(session_id, "user", f"message {i}")

        await asyncio.gather(*(one(i) for i in range(calls)))


def concurrent_appends(url: str, calls: int, concurrency: int, rounds: int) -> Figure:
    client = ChatClient(url, token=TOKEN)
    session = client.create_session("bench-async", "alice")
    target: list[float] = []
    base: list[float] = []
    for round_ in range(rounds):

        def ours() -> None:
            asyncio.run(_concurrent(url, session.id, calls, concurrency))

        def theirs() -> None:
            for i in range(calls):
                client.append_message(session.id, "user", f"message {i}")

        for function, into in [(ours, target), (theirs, base)][:: 1 if round_ % 2 == 0 else -1]:
            started = time.perf_counter()
            function()
            into.append((time.perf_counter() - started) / calls)
    client.close()
    return Figure(
        f"{calls:,} append_message, AsyncChatClient at concurrency {concurrency}",
        "ms",
        1e3,
        target,
        base,
        f"{calls:,} sequential ChatClient calls",
        "<= 1x",
        1.0,
    )
