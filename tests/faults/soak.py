"""`make soak`: 5,000 calls through a 30% fault rate against the dev server, and the figures."""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

from clann_devserver.server import running
from tests.faults.workload import run_async, run_sync

TOKENS = {"soak-token-alice": "alice"}


def main(calls: int = 5000, seed: int = 2026) -> int:
    with (
        tempfile.TemporaryDirectory(prefix="clann-soak-") as folder,
        running(Path(folder) / "soak.sqlite3", TOKENS) as server,
    ):
        started = time.perf_counter()
        reports = {
            "sync": run_sync(server.url, "soak-token-alice", seed=seed, calls=calls // 2),
            "async": asyncio.run(run_async(server.url, "soak-token-alice", seed=seed + 1, calls=calls - calls // 2)),
        }
        elapsed = time.perf_counter() - started
    print(f"soak: {calls} calls at a 30% fault rate, seed {seed}, {elapsed:.0f}s")
    for kind, report in reports.items():
        print(f"\n{kind} ({'ChatClient' if kind == 'sync' else 'AsyncChatClient, 8 at a time'})")
        for line in report.lines():
            print(f"  {line}")
    failed = any(r.lost or r.duplicated or r.unexpected for r in reports.values())
    print("\nFAILED: a message was lost or doubled, or a call raised something else" if failed else "\nOK")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
