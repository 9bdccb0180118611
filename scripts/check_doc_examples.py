"""Type-check every Python example in the docs with mypy --strict, as a user would run it.

Each ```python block of README.md, DESCRIPTION.md and docs/**/*.md becomes a
module of its own; a block that continues the one before it starts with the
comment `# continued`, and is appended to it. Exits non-zero naming each
failing example's file and line.

`scripts/run_doc_examples.py` runs the same examples against a dev server. One
that cannot run there (it needs another server, or is a fragment of a recipe) is
preceded by an HTML comment, `<!-- not run: why -->`, which readers do not see; it
is still type-checked here.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"^(?:<!-- not run: (?P<why>.*?) -->\n)?```python\n(?P<code>.*?)^```", re.MULTILINE | re.DOTALL)
SOURCES = ["README.md", "DESCRIPTION.md", "docs"]


class Example(NamedTuple):
    """One example: the file and line of its first block, and its code."""

    source: str
    line: int
    code: str


def examples(root: Path = ROOT) -> list[Example]:
    """Every example under `root`, continued blocks joined to the one they continue."""
    return [example for example, _ in marked_examples(root)]


def marked_examples(root: Path = ROOT) -> list[tuple[Example, str | None]]:
    """Every example under `root`, with why it is not run (None: it is run)."""
    found: list[tuple[Example, str | None]] = []
    paths: list[Path] = []
    for name in SOURCES:
        paths += [root / name] if name.endswith(".md") else sorted((root / name).rglob("*.md"))
    for path in sorted(p for p in paths if p.exists()):
        text = path.read_text(encoding="utf-8")
        name = str(path.relative_to(root))
        for match in BLOCK.finditer(text):
            code = match.group("code")
            line = text.count("\n", 0, match.start("code")) + 1
            if code.startswith("# continued") and found and found[-1][0].source == name:
                previous, why = found.pop()
                found.append((previous._replace(code=previous.code + code), why))
            else:
                found.append((Example(name, line, code), match.group("why")))
    return found


def main() -> int:
    found = examples()
    with tempfile.TemporaryDirectory(prefix="doc-examples-") as folder:
        names: dict[str, str] = {}
        for index, example in enumerate(found):
            module = Path(folder) / f"example_{index:03d}.py"
            module.write_text(example.code, encoding="utf-8")
            names[module.name] = f"{example.source}:{example.line}"
        # A cache of its own: pyclann is checked again only when it changed, which keeps `make check` fast.
        cache = str(ROOT / ".mypy_cache" / "doc-examples")
        command = [sys.executable, "-m", "mypy", "--strict", "--cache-dir", cache, "--config-file", "/dev/null", folder]
        result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    report = result.stdout
    for name, where in names.items():
        report = report.replace(f"{folder}/{name}", f"{where} ({name})")
    if result.returncode != 0:
        print(report, end="", file=sys.stderr)
        print(f"the docs' examples do not type-check (mypy --strict, {len(found)} examples)", file=sys.stderr)
        return 1
    print(f"{len(found)} documentation examples type-check with mypy --strict")
    return 0


if __name__ == "__main__":
    sys.exit(main())
