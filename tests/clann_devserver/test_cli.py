"""The command line: `clann-devserver` and `python -m clann_devserver`, with and without the server extra."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(sys.executable).parent / "clann-devserver"
# Run at start-up by the child interpreter: the server extra's packages cannot be imported.
WITHOUT_EXTRA = """
import importlib.abc, sys

class Missing(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {"uvicorn", "jsonschema_rs", "ulid", "yaml"}:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Missing())
"""


def run(command: list[str], env: dict[str, str] | None = None, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT, check=False)


@pytest.fixture
def without_extra(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "sitecustomize.py").write_text(WITHOUT_EXTRA)
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}


@pytest.mark.parametrize("command", [[sys.executable, "-m", "clann_devserver"], [str(SCRIPT)]], ids=["-m", "script"])
def test_without_the_server_extra_one_line_says_how_to_get_it(
    without_extra: dict[str, str], command: list[str]
) -> None:
    result = run([*command, "--port", "0"], env=without_extra)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert 'pip install "pyclann[server]"' in lines[0]
    assert "Traceback" not in result.stderr


def test_a_port_in_use_is_one_clear_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run(
            [sys.executable, "-m", "clann_devserver", "--port", str(port), "--db", str(tmp_path / "d.sqlite3")]
        )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"clann-devserver: port {port} on 127.0.0.1 is already in use; "
        "choose another with --port (make serve PORT=...), or 0 for a free one"
    )


@pytest.fixture
def serving(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port_file = tmp_path / "port"
    command = [
        str(SCRIPT),
        *("--host", "127.0.0.1", "--port", "0", "--port-file", str(port_file)),
        *("--db", str(tmp_path / "chat.sqlite3"), "--token", "carol=secret-token-c"),
    ]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        deadline = time.monotonic() + 20
        while not port_file.exists() or not port_file.read_text():
            assert server.poll() is None, "the server stopped"
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port_file.read_text()}", server
    finally:
        server.terminate()
        server.wait(10)


def test_it_serves_on_a_free_port_and_logs_one_line_per_request_without_the_token(
    serving: tuple[str, subprocess.Popen[str]],
) -> None:
    url, server = serving
    response = httpx.get(
        f"{url}/api/chat/sessions?created_by=carol", headers={"Authorization": "Bearer secret-token-c"}
    )
    assert response.status_code == 200
    request_id = response.headers["x-request-id"]
    server.terminate()
    _, stderr = server.communicate(timeout=10)
    assert "user carol: CLANN_TOKEN=secret-token-c" in stderr  # the start-up banner tells the user their token
    lines = [line for line in stderr.splitlines() if request_id in line]
    assert len(lines) == 1
    assert f"GET /api/chat/sessions 200 {request_id} " in lines[0]
    assert lines[0].endswith("user=carol")
    assert "secret-token-c" not in "\n".join(line for line in stderr.splitlines() if " clann_devserver " in line)


def test_make_serve_takes_the_port() -> None:
    result = run(["make", "-n", "serve", "PORT=9123"])
    assert "-m clann_devserver --port 9123" in result.stdout
    assert "--port 8765" in run(["make", "-n", "serve"]).stdout
