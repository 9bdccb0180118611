"""Generate the sync client from the async one, as httpcore does (`make generate`; `--check`: `make check-generated`).

`pyclann/_async_client.py` is written by hand; `pyclann/_sync_client.py` is made from it line
by line: `async`/`await` dropped, async names mapped to their sync twins (httpx2's, and the I/O
primitives of `pyclann/_io.py`), and a few docstring phrases that only make sense for one of
the two reworded. The result is sorted and formatted by the pinned ruff, so that it passes
`ruff check` and `ruff format --check` as hand-written code does.

Three checks keep the rules honest: every rule must be used (a rule left over from a removed
line is an error, as in httpcore's script), no async word may survive into the sync code, and
with `--check` the file on disk must be exactly what would be generated.
"""

from __future__ import annotations

import argparse
import difflib
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# (hand-written async module, generated sync module), relative to ROOT.
PAIRS = [
    ("pyclann/_async_client.py", "pyclann/_sync_client.py"),
    ("pyclann/_async_transport.py", "pyclann/_transport.py"),
]

# Applied in order to each line. Docstring phrases first, while their async words are still there.
RULES: list[tuple[str, str]] = [
    # Prose: what the async docstrings say that the sync ones must say otherwise, or not at all.
    (r", with `async def`\.", "."),
    (r"\ban async context manager\b", "a context manager"),
    # A line of its own, ending the paragraph: the sync docstring drops it whole.
    (r"^ *Use it with `async for`\.\n", ""),
    # A sync call has no task to cancel.
    (r"closing the generator, or cancelling its task;", "or closing the generator;"),
    (
        r"One client serves one event loop: its connections belong to the loop it is first used in\.",
        "One client serves every thread: share it rather than make one per thread.",
    ),
    # Code. AsyncGenerator[X, None] has no second argument to keep; Generator wants three.
    (r"\bAsyncGenerator\[(.*), None\]", r"Generator[\1, None, None]"),
    # httpx2's sync byte stream says so in its name.
    (r"\bAsyncByteStream\b", "SyncByteStream"),
    # AsyncChatClient, AsyncRawChatClient, httpx2.AsyncClient, AsyncIterable, AsyncGenerator.
    (r"\bAsync([A-Z]\w*)", r"\1"),
    # `(await self._call(op)).parsed`: the parentheses go with the await.
    (r"\(await (\w[\w.]*\(.*\))\)\.", r"\1."),
    (r"\basync def\b", "def"),
    (r"\basync for\b", "for"),
    (r"\bawait ", ""),
    (r"\baclose\b", "close"),
    (r"\baiter_raw\b", "iter_raw"),
    (r"\b__aenter__\b", "__enter__"),
    (r"\b__aexit__\b", "__exit__"),
    (r"\b__aiter__\b", "__iter__"),
    (r"\bhandle_async_request\b", "handle_request"),
    (r"\baraw\b", "raw"),
    # The I/O primitives: `_io.async_sleep` -> `_io.sleep`, and so on for each twin.
    (r"\b_io\.async_(\w+)", r"_io.\1"),
]
COMPILED = [(re.compile(pattern), replacement) for pattern, replacement in RULES]

# Words that must not survive into the sync code: each means a rule is missing.
LEFTOVERS = re.compile(
    r"\basync (def|for|with)\b|\bawait\b|\baclose\b|\baiter_\w+|\b__a(enter|exit|iter)__\b|\bAsync[A-Z]\w*"
    r"|\bhandle_async|\banyio\b|\b_io\.async_|\baraw\b|\bevent loop\b"
)


def header(source: str) -> str:
    return f"# Generated from {source} by scripts/unasync.py (make generate): do not edit.\n"


def unasync(text: str, used: set[int]) -> str:
    """The sync text of an async module, line by line; `used` gains the index of each rule that applied."""
    lines = []
    for line in text.splitlines(keepends=True):
        for index, (pattern, replacement) in enumerate(COMPILED):
            line, count = pattern.subn(replacement, line)
            if count:
                used.add(index)
        lines.append(line)
    return "".join(lines)


def ruff(text: str, target: str) -> str:
    """`text` with its imports sorted and formatted, as ruff would leave `target` (the project's config applies)."""
    steps = [["check", "--fix-only", "--select", "I", "--quiet"], ["format", "--quiet"]]
    for step in steps:
        command = [sys.executable, "-m", "ruff", *step, "--stdin-filename", target, "-"]
        text = subprocess.run(command, input=text, capture_output=True, text=True, check=True, cwd=ROOT).stdout
    return text


def generate(source: str, target: str, used: set[int]) -> str:
    """The whole sync module for `source`, as it must stand at `target`; raises SystemExit on an async leftover."""
    text = ruff(header(source) + unasync((ROOT / source).read_text(encoding="utf-8"), used), target)
    for number, line in enumerate(text.splitlines(), 1):
        if match := LEFTOVERS.search(line):
            sys.exit(f"{target}:{number}: {match.group()!r} is left from {source}: add a rule to scripts/unasync.py")
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a generated module differs; write nothing")
    check = parser.parse_args(argv).check
    used: set[int] = set()
    stale = []
    for source, target in PAIRS:
        expected = generate(source, target, used)
        path = ROOT / target
        actual = path.read_text(encoding="utf-8") if path.exists() else ""
        if expected == actual:
            print(f"{target} matches {source}")
        elif check:
            diff = difflib.unified_diff(
                actual.splitlines(keepends=True), expected.splitlines(keepends=True), target, f"{target} (expected)"
            )
            sys.stdout.writelines(diff)
            stale.append(target)
        else:
            path.write_text(expected, encoding="utf-8")
            print(f"{target} written from {source}")
    unused = [RULES[index] for index in range(len(RULES)) if index not in used]
    if unused:
        print(f"rules that no line used (remove them from scripts/unasync.py): {unused}", file=sys.stderr)
        return 1
    if stale:
        print(f"{', '.join(stale)}: out of date with the async source: run 'make generate' and commit", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
