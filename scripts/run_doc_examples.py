"""Run every Python example in the docs against a dev server, each in a fresh process.

The examples are those `scripts/check_doc_examples.py` type-checks (README.md,
DESCRIPTION.md, docs/**/*.md, continued blocks joined). One dev server is started
for the run (`pyclann.testing.dev_server()`, 127.0.0.1, a free port), and alice is
given one session with two messages first, as a reader's own account would have.
Each example then runs as a script in a new Python process, with `CLANN_BASE_URL`
and `CLANN_TOKEN` set to that server and alice's token; an example that defines
`test_` functions runs under pytest, as the testing guide says to.

Examples that name a server in their code are pointed at the run's server:

- `http://127.0.0.1:8765`, the address `make serve` prints, becomes the run's URL.
  The run does not bind 8765 itself: a developer's `make serve` may hold it (with
  data the run must not touch), and so may another run on the same machine. The
  dev token those examples name, `dev-token-alice`, is the run's server's own.
- `https://clann.example` and `token="..."`, the docs' placeholders for a reader's
  own server and token, become the run's URL and alice's token.

An example preceded by `<!-- not run: why -->` is skipped (and reported). Exits
non-zero naming each failing example's file and line, with what it printed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pyclann import Role
from pyclann.testing import DevServer, dev_server
from scripts.check_doc_examples import ROOT, Example, marked_examples

SERVED = "http://127.0.0.1:8765"
PLACEHOLDER_URL = "https://clann.example"
PLACEHOLDER_TOKEN = 'token="..."'  # noqa: S105 - the docs' stand-in for a reader's token, not one
USER = "alice"
# An example that takes longer is stuck (a loop waiting for a message, say): it fails.
TIMEOUT = 60.0


def pointed_at(code: str, server: DevServer) -> str:
    """The example's code, with the addresses and tokens it names replaced by the run's server's."""
    token = server.tokens[USER]
    code = code.replace(SERVED, server.url).replace(PLACEHOLDER_URL, server.url)
    return code.replace(PLACEHOLDER_TOKEN, f"token={token!r}")


def seed(server: DevServer) -> None:
    """Give alice what a reader's account has: a session, with messages in it."""
    with server.client(USER) as chat:
        session = chat.create_session("Trip to Galway", created_by=USER, tree="travel")
        chat.append_message(session, Role.USER, "Where should we stay?")
        chat.append_message(session, Role.ASSISTANT, "Near the Latin Quarter.")


def command(module: Path, code: str) -> list[str]:
    """How to run one example: as a script, or under pytest if it defines tests."""
    if "\ndef test_" in f"\n{code}":
        # The folder's own (empty) config, not this repository's; pyclann's plugin, which pip
        # registers, named instead of found: loading every installed plugin (schemathesis,
        # hypothesis...) took most of a run's time. tests/test_packaging.py checks the registration.
        plugins = ["-p", "no:cacheprovider", "-p", "pyclann.pytest_plugin"]
        return [sys.executable, "-m", "pytest", "-q", *plugins, "--rootdir", str(module.parent), str(module)]
    return [sys.executable, str(module)]


def run(example: Example, server: DevServer, folder: Path, index: int) -> str | None:
    """Run one example in a fresh process; None if it succeeded, else what went wrong."""
    code = pointed_at(example.code, server)
    # Named test_ so pytest collects it; each in its own folder so no example imports another.
    home = folder / f"example_{index:03d}"
    home.mkdir()
    (home / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    module = home / f"test_example_{index:03d}.py"
    module.write_text(code, encoding="utf-8")
    env = {**os.environ, "CLANN_BASE_URL": server.url, "CLANN_TOKEN": server.tokens[USER], "PYTHONPATH": ""}
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    env.pop("CLANN_LOG", None)
    try:
        result = subprocess.run(
            command(module, code), cwd=home, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        return f"still running after {TIMEOUT:.0f} s"
    if result.returncode != 0:
        return f"exit status {result.returncode}\n{result.stdout}{result.stderr}".rstrip()
    return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout whose docs to run (default: this one)")
    args = parser.parse_args(argv)
    found = marked_examples(args.root)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="doc-examples-run-") as folder, dev_server() as server:
        seed(server)
        skipped = [f"{e.source}:{e.line} (not run: {why})" for e, why in found if why is not None]
        chosen = [(index, e) for index, (e, why) in enumerate(found) if why is None]
        # Two at a time: each example spends most of its time starting Python and waiting on the server.
        with ThreadPoolExecutor(max_workers=2) as pool:
            problems = list(pool.map(lambda item: run(item[1], server, Path(folder), item[0]), chosen))
        ran = len(chosen)
        failures = [f"{e.source}:{e.line}: {p}" for (_, e), p in zip(chosen, problems, strict=True) if p is not None]
    for line in skipped:
        print(line)
    if failures:
        print("\n\n".join(failures), file=sys.stderr)
        print(f"{len(failures)} of {ran} documentation examples failed against a dev server", file=sys.stderr)
        return 1
    elapsed = time.monotonic() - started
    print(f"{ran} documentation examples ran against a dev server ({len(skipped)} not run) in {elapsed:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
