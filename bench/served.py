"""Against the dev server on 127.0.0.1, run in its own process so it does not share our GIL."""

from __future__ import annotations

import json
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2

import pyclann
from bench import devserver
from bench.measure import Figure, interleaved
from pyclann import ChatClient

TOKEN = "bench-token"


@contextmanager
def dev_server() -> Iterator[str]:
    """`clann-devserver` with a fresh database in a folder of its own; its URL."""
    with tempfile.TemporaryDirectory(prefix="clann-bench-") as folder, devserver.dev_server(Path(folder)) as url:
        yield url


def sequential_appends(url: str, calls: int, rounds: int) -> Figure:
    client = ChatClient(url, token=TOKEN)
    session = client.create_session("bench", "alice")
    ulid = session.id.split(":")[1]
    raw = httpx2.Client()
    body = {"role": "user", "content": "a message"}
    # The same request as pyclann's: its headers, and a new Idempotency-Key per write, for which the
    # server keeps a replay record (without one, the baseline would ask the server for less work).
    headers = {
        "User-Agent": f"python-httpx2/{httpx2.__version__} pyclann/{pyclann.__version__}",
        "Accept": "application/json",
        "Accept-Encoding": "gzip, deflate",
        "Authorization": f"Bearer {TOKEN}",
    }

    def append() -> object:
        key = {"Idempotency-Key": str(uuid.uuid4())}
        response = raw.post(f"{url}/api/chat/sessions/{ulid}/messages", json=body, headers={**headers, **key})
        response.raise_for_status()
        return json.loads(response.content)

    # `interleaved` alternates whole rounds of calls; the figure is per call.
    per_round = calls // rounds
    target, base = interleaved(
        lambda: client.append_message(session.id, "user", "a message"), append, rounds, per_round
    )
    client.close()
    raw.close()
    return Figure(
        f"{calls:,} sequential append_message (dev server)",
        "ms",
        1e3,
        target,
        base,
        "raw httpx2 keep-alive POSTs, the same requests",
        "<= 1.15x",
        1.15,
    )
