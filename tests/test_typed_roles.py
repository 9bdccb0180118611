"""Typed roles, as a user's type checker sees them: a typo of a known role is refused, a custom role is explicit."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import get_args

from pyclann import MessageRole, Role

SCRIPT = """\
from pyclann import ChatClient, CustomRole, Role

chat = ChatClient("http://clann.test", token="t")
s = "chat_session:01JDXV3C5Z0K8Y8T6W3M2Q9R4N"
chat.append_message(s, Role.USER, "x")
chat.append_message(s, "user", "x")
chat.append_message(s, CustomRole("tool"), "x")
chat.append_message(s, chat.get_message(s, "chat_message:01JDXV3C5Z0K8Y8T6W3M2Q9R4N").role, "x")
chat.append_message(s, "bot", "x")  # refused: line 9
chat.append_message(s, "User", "x")  # refused: line 10
"""


def test_mypy_strict_refuses_a_typo_of_a_known_role_in_a_users_script(tmp_path: Path) -> None:
    script = tmp_path / "user_script.py"
    script.write_text(SCRIPT, encoding="utf-8")
    command = [sys.executable, "-m", "mypy", "--strict", "--config-file", "/dev/null", "--cache-dir", str(tmp_path)]
    done = subprocess.run([*command, str(script)], capture_output=True, text=True, check=False)
    errors = [line for line in done.stdout.splitlines() if ": error:" in line]
    assert [int(line.split(":")[1]) for line in errors] == [9, 10], done.stdout
    assert all('"append_message" of "ChatClient" has incompatible type' in line for line in errors), done.stdout


def test_the_literal_roles_are_the_known_roles() -> None:
    literal = next(
        arg for arg in get_args(MessageRole) if get_args(arg) and all(isinstance(a, str) for a in get_args(arg))
    )
    assert get_args(literal) == tuple(role.value for role in Role)
