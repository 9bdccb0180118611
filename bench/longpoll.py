"""Long polling on the dev server: one append wakes 1,000 held listings, which cost it no CPU meanwhile.

Against `clann-devserver` in a process of its own (its CPU time read from
/proc), with 1,000 listings of one session held (`wait=30`), each on a
connection of its own (plain HTTP/1.1 over asyncio streams, so that the
figures are the server's, not a client pool's):

* wake-up: from sending one append to the last of the 1,000 answers received,
  at most 1 s (issue 23); the baseline is the same 1,000 listings asked at once
  without `wait`: what answering them costs at all;
* CPU while they wait: the server's CPU time over a few seconds with the 1,000
  held, as a share of one core: almost none (at most 1%); the baseline is the
  same seconds with nothing held;
* the server's CPU time for the wake-up, against that for the 1,000 plain
  listings (reported): on a busy machine the wall-clock figure waits for a
  core, and this one does not;
* a stop (SIGTERM) with 1,000 held: until every listing is answered and the
  server has exited (reported; uvicorn's graceful shutdown would otherwise wait
  for them, then cancel them).

`python -m bench.longpoll [ROUNDS]` prints them alone. The CPU figures need
/proc (Linux); elsewhere they are left out.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx2

from bench.devserver import AUTH, TOKEN
from bench.measure import Figure, spread
from bench.processes import listening

WAITERS = 1000
WAKE_SECONDS = 1.0
CPU_SHARE = 0.01
# How long the held listings are left, once sent, before they are measured: for the server to
# read them all and hold them, which nothing outside it can see.
_SETTLE = 1.0


def cpu_seconds(pid: int) -> float | None:
    """The CPU time (user and system) a process has used so far; None where /proc is missing."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Follower:
    """One client on a connection of its own, as each follower has: plain HTTP/1.1 over asyncio
    streams, so that the figures measure the server, not a client pool holding 1,000 connections."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def connect(cls, port: int) -> Follower:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    def send(self, target: str) -> None:
        head = f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {AUTH['Authorization']}\r\n\r\n"
        self.writer.write(head.encode())

    async def answer(self) -> tuple[int, dict[str, object], float]:
        """The status and JSON body of the answer to what was sent, and when it was read."""
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        fields = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
        body = await self.reader.readexactly(int(fields.get("content-length", "0")))
        return int(lines[0].split()[1]), json.loads(body), time.perf_counter()

    def close(self) -> None:
        self.writer.close()


async def _connect(port: int) -> list[Follower]:
    """1,000 followers, connected (a server closes a connection left idle for 5 s: connect just before)."""
    return list(await asyncio.gather(*(Follower.connect(port) for _ in range(WAITERS))))


def _close(followers: list[Follower]) -> None:
    for follower in followers:
        follower.close()


@dataclass
class Rounds:
    """What each round measured: seconds, and CPU as a share of one core (empty without /proc)."""

    wake: list[float] = field(default_factory=list)
    plain: list[float] = field(default_factory=list)
    wake_cpu: list[float] = field(default_factory=list)
    plain_cpu: list[float] = field(default_factory=list)
    held_share: list[float] = field(default_factory=list)
    idle_share: list[float] = field(default_factory=list)


async def _settled(pid: int) -> None:
    """Once the server has used no CPU for half a second (it has read every request), or after 10 s."""
    deadline = time.monotonic() + 10
    last = cpu_seconds(pid)
    while last is not None and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        now = cpu_seconds(pid)
        if now == last:
            return
        last = now


def _spent(pid: int, before: float | None, into: list[float], per: float = 1.0) -> None:
    """Append the server's CPU seconds since `before` (divided by `per`) to `into`, where /proc tells."""
    now = cpu_seconds(pid)
    if before is not None and now is not None:
        into.append((now - before) / per)


async def _round(
    port: int, client: httpx2.AsyncClient, messages: str, after: str, pid: int, quiet: float, rounds: Rounds
) -> str:
    """One round of each measure, into `rounds`; the ID of the message it appended."""
    await _settled(pid)
    before = cpu_seconds(pid)
    await asyncio.sleep(quiet)
    _spent(pid, before, rounds.idle_share, quiet)

    followers = await _connect(port)
    before = cpu_seconds(pid)
    asked = time.perf_counter()
    for follower in followers:
        follower.send(f"{messages}?after={after}")
    plain = await asyncio.gather(*(follower.answer() for follower in followers))
    rounds.plain.append(max(at for _, _, at in plain) - asked)
    _spent(pid, before, rounds.plain_cpu)
    _close(followers)
    assert all(page == {"data": [], "has_more": False, "first_id": None, "last_id": None} for _, page, _ in plain)

    followers = await _connect(port)
    held = await _hold(followers, messages, after)
    assert not any(each.done() for each in held), "a listing was answered before anything was appended"
    await _settled(pid)
    before = cpu_seconds(pid)
    await asyncio.sleep(quiet)
    _spent(pid, before, rounds.held_share, quiet)

    before = cpu_seconds(pid)
    appended_at = time.perf_counter()
    appended = await client.post(messages, json={"role": "user", "content": "wake up"})
    answers = await asyncio.gather(*held)
    rounds.wake.append(max(at for _, _, at in answers) - appended_at)
    _spent(pid, before, rounds.wake_cpu)
    new = appended.json()
    _close(followers)
    assert all(status == 200 and page["data"] == [new] for status, page, _ in answers)
    return str(new["id"])


async def _hold(
    followers: list[Follower], messages: str, after: str
) -> list[asyncio.Task[tuple[int, dict[str, object], float]]]:
    """Each follower's listing after `after`, held, once all are sent and the server has read them."""
    for follower in followers:
        follower.send(f"{messages}?after={after}&wait=30")
    await asyncio.gather(*(follower.writer.drain() for follower in followers))
    held = [asyncio.ensure_future(follower.answer()) for follower in followers]
    await asyncio.sleep(_SETTLE)
    return held


async def _stop(port: int, messages: str, after: str, process: subprocess.Popen[bytes]) -> float:
    """Seconds from SIGTERM, with 1,000 held, until each was answered and the server has exited."""
    followers = await _connect(port)
    held = await _hold(followers, messages, after)
    started = time.perf_counter()
    process.send_signal(signal.SIGTERM)
    answers = await asyncio.gather(*held)
    await asyncio.to_thread(process.wait, 60)
    took = time.perf_counter() - started
    _close(followers)
    # Answered at once: 503 with Retry-After (ask again shortly), not left to the graceful shutdown.
    assert all(status == 503 for status, _, _ in answers)
    return took


def figures(rounds: int, quiet: float = 3.0) -> list[Figure]:
    """The figures, over `rounds` rounds of 1,000 held listings each, `quiet` seconds held or idle."""
    with tempfile.TemporaryDirectory(prefix="clann-bench-longpoll-") as name:
        folder = Path(name)
        command = [sys.executable, "-m", "pyclann.devserver", "--port", "0", "--port-file", str(folder / "port")]
        command += ["--db", str(folder / "bench.sqlite3"), "--token", f"alice={TOKEN}"]
        with listening(command, folder / "port") as (process, url):
            return asyncio.run(_measure(process, url, rounds, quiet))


async def _measure(process: subprocess.Popen[bytes], url: str, count: int, quiet: float) -> list[Figure]:
    async with httpx2.AsyncClient(base_url=url, headers=AUTH, timeout=60) as client:
        session = (await client.post("/api/chat/sessions", json={"title": "bench", "created_by": "alice"})).json()
        messages = f"/api/chat/sessions/{session['id'].partition(':')[2]}/messages"
        first = (await client.post(messages, json={"role": "user", "content": "hello"})).json()
        last = str(first["id"])
        rounds = Rounds()
        port = httpx2.URL(url).port
        assert port is not None
        for _ in range(count):
            last = await _round(port, client, messages, last, process.pid, quiet, rounds)
        stop = await _stop(port, messages, last, process)
    plain = f"the same {WAITERS:,} listings asked at once, without wait"
    found = [
        Figure(
            f"one append wakes {WAITERS:,} held listings (dev server)",
            "ms",
            1e3,
            rounds.wake,
            rounds.plain,
            plain,
            f"<= {WAKE_SECONDS * 1e3:g} ms",
            None,
            ceiling=WAKE_SECONDS,
        )
    ]
    if rounds.held_share:
        found.append(
            Figure(
                f"server CPU while {WAITERS:,} listings are held",
                "% core",
                100,
                rounds.held_share,
                rounds.idle_share,
                "the same server, nothing held",
                f"<= {CPU_SHARE:.0%} of a core",
                None,
                ceiling=CPU_SHARE,
            )
        )
        found.append(
            Figure(
                f"server CPU time to answer {WAITERS:,} woken listings",
                "ms",
                1e3,
                rounds.wake_cpu,
                rounds.plain_cpu,
                plain,
                "report",
                None,
            )
        )
    found.append(
        Figure(
            f"a stop (SIGTERM) with {WAITERS:,} held, until all answered",
            "ms",
            1e3,
            [stop],
            [stop],
            "itself (no baseline)",
            "report",
            None,
        )
    )
    return found


def main() -> int:
    for figure in figures(int(sys.argv[1]) if len(sys.argv) > 1 else 3):
        measured = f"{spread(figure.target, figure.scale)} {figure.unit}"
        print(f"{figure.name}: {measured}; goal {figure.goal}: {figure.verdict}")
        print(f"    baseline ({figure.baseline_name}): {spread(figure.baseline, figure.scale)} {figure.unit}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
