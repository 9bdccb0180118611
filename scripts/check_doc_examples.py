"""Type-check every Python example in the docs with mypy --strict, as a user would run it.

Each ```python block of README.md, DESCRIPTION.md and docs/**/*.md becomes a
module of its own; a block that continues the one before it starts with the
comment `# continued`, and is appended to it. Exits non-zero naming each
failing example's file and line.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)
SOURCES = ["README.md", "DESCRIPTION.md", "docs"]


def examples() -> list[tuple[str, int, str]]:
    """(file, line, code) for every example, continued blocks joined to the one they continue."""
    found: list[tuple[str, int, str]] = []
    files = [p for name in SOURCES for p in ([ROOT / name] if name.endswith(".md") else (ROOT / name).rglob("*.md"))]
    for path in sorted(files):
        text = path.read_text(encoding="utf-8")
        for match in BLOCK.finditer(text):
            code = match.group(1)
            line = text.count("\n", 0, match.start()) + 2
            name = str(path.relative_to(ROOT))
            if code.startswith("# continued") and found and found[-1][0] == name:
                previous = found.pop()
                found.append((previous[0], previous[1], previous[2] + code))
            else:
                found.append((name, line, code))
    return found


def main() -> int:
    found = examples()
    with tempfile.TemporaryDirectory(prefix="doc-examples-") as folder:
        names: dict[str, str] = {}
        for index, (source, line, code) in enumerate(found):
            module = Path(folder) / f"example_{index:03d}.py"
            module.write_text(code, encoding="utf-8")
            names[module.name] = f"{source}:{line}"
        command = [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--config-file", "/dev/null", folder]
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
