"""The docs' examples runner (scripts/run_doc_examples.py): each example run against a dev server, failures named."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.run_doc_examples import main

pytestmark = pytest.mark.slow  # a dev server, and a Python process per example

PAGE = """\
# A page

```python
from pyclann import ChatClient

with ChatClient("http://127.0.0.1:8765", token="dev-token-alice") as chat:
    session = chat.create_session("Quick", created_by="alice")
```

The next block continues this one, with the environment's server:

```python
# continued
with ChatClient() as again:
    assert again.get_session(session).title == "Quick"
```

<!-- not run: it needs a server of its own -->
```python
raise SystemExit("never run")
```
"""


def write(root: Path, text: str) -> None:
    (root / "docs").mkdir()
    (root / "docs" / "page.md").write_text(text, encoding="utf-8")


def test_examples_run_against_the_dev_server_and_one_marked_is_not_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, PAGE)
    assert main(["--root", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "docs/page.md:20 (not run: it needs a server of its own)" in out
    assert "1 documentation examples ran against a dev server (1 not run)" in out


def test_a_failing_example_is_named_by_its_file_and_line_with_what_it_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = "from pyclann import ChatClient\n\nChatClient().get_session('01JDXV3C5Z0K8Y8T6W3M2Q9R4N')\n"
    failing = f"# Another\n\n```python\n{code}```\n"
    write(tmp_path, failing)
    assert main(["--root", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "docs/page.md:4: exit status 1" in err
    assert "ClannNotFoundError" in err
