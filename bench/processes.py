"""Servers the bench runs in processes of their own, on a free port of 127.0.0.1, stopped on exit.

Each server is told where to write the port it bound (port 0), and is waited for
until it has: no fixed port, and no race with its start.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def listening(
    command: list[str], port_file: Path, cwd: str | None = None, stop_within: float = 10
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """Run `command`, which writes its port to `port_file`; the process and its URL once it listens."""
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while not port_file.exists() or not port_file.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{' '.join(command[:4])} did not start")
            time.sleep(0.05)
        yield process, f"http://127.0.0.1:{port_file.read_text()}"
    finally:
        process.terminate()
        process.wait(stop_within)
