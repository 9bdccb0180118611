"""`make record`: re-record every cassette against a fresh dev server.

Starts the dev server on a free 127.0.0.1 port with a new database and the two
recording users, runs the cassette tests in `rewrite` mode, and stops it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from pyclann.devserver.server import running
from tests.recording import RECORD_TOKENS, ROOT

CASSETTE_TESTS = ["tests/test_recorded.py"]


def main() -> int:
    with (
        tempfile.TemporaryDirectory(prefix="clann-record-") as folder,
        running(Path(folder) / "record.sqlite3", RECORD_TOKENS) as server,
    ):
        print(f"recording against {server.url}", file=sys.stderr)
        env = {**os.environ, "CLANN_RECORD_URL": server.url}
        command = [sys.executable, "-m", "pytest", "--record-mode=rewrite", *CASSETTE_TESTS]
        return subprocess.call(command, cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main())
