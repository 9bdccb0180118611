"""The command line: `clann-devserver` and `python -m pyclann.devserver`, with and without the server extra."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx2
import pytest

from pyclann import ChatClient
from pyclann.devserver.__main__ import main

from .helpers import count_rows

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


@pytest.mark.parametrize("command", [[sys.executable, "-m", "pyclann.devserver"], [str(SCRIPT)]], ids=["-m", "script"])
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
            [sys.executable, "-m", "pyclann.devserver", "--port", str(port), "--db", str(tmp_path / "d.sqlite3")]
        )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"clann-devserver: port {port} on 127.0.0.1 is already in use; "
        "choose another with --port, or --port 0 for a free one"
    )


@pytest.mark.parametrize("port", ["99999", "-1"])
def test_a_port_out_of_range_is_a_usage_error(tmp_path: Path, port: str) -> None:
    result = run([str(SCRIPT), "--port", port, "--db", str(tmp_path / "d.sqlite3")])
    assert result.returncode == 2
    usage, *_, error = result.stderr.strip().splitlines()
    assert usage.startswith("usage: clann-devserver ")
    assert error == (
        f"clann-devserver: error: argument --port: expected a port from 0 to 65535 (0 picks a free one), got '{port}'"
    )


@pytest.mark.parametrize("seconds", ["-1", "nan", "soon", "3601"])
def test_a_write_delay_out_of_range_is_a_usage_error(tmp_path: Path, seconds: str) -> None:
    result = run([str(SCRIPT), "--write-delay", seconds, "--db", str(tmp_path / "d.sqlite3")])
    assert result.returncode == 2
    error = result.stderr.strip().splitlines()[-1]
    assert error == f"clann-devserver: error: argument --write-delay: expected seconds from 0 to 3600, got '{seconds}'"


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--port", "65536"),
        ("--port", "+99999"),  # forms int() takes, each a number over 65535 (so no test here binds a port)
        ("--port", "1_000_000"),
        ("--port", "\u0669\u0669\u0669\u0669\u0669"),  # 99999 in Arabic-Indic digits
        ("--port", ""),
        ("--host", "\u00e9" + "a" * 64),  # a label too long for IDNA, which the socket module encodes it with
    ],
)
def test_a_bad_value_is_refused_before_anything_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, value: str
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main([option, value, "--db", str(tmp_path / "d.sqlite3")])
    assert stopped.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith(f"clann-devserver: error: argument {option}: ")
    assert not (tmp_path / "d.sqlite3").exists()


def test_two_users_with_one_token_are_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Once the second silently took the token, and alice was gone.
    with pytest.raises(SystemExit) as stopped:
        main(["--token", "alice=x", "--token", "bob=x", "--db", str(tmp_path / "d.sqlite3")])
    assert stopped.value.code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last == (
        "clann-devserver: error: argument --token: users 'alice' and 'bob' have the same token: give each their own"
    )
    assert not (tmp_path / "d.sqlite3").exists()


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda tmp: tmp / "no" / "such" / "dir" / "x.sqlite3", "unable to open database file"),
        (lambda tmp: tmp, "unable to open database file"),  # a directory
        (lambda tmp: _garbage(tmp / "x.sqlite3"), "file is not a database"),
    ],
    ids=["missing-directory", "a-directory", "not-a-database"],
)
def test_a_database_that_cannot_be_opened_is_one_clear_line(
    tmp_path: Path, make: Callable[[Path], Path], says: str
) -> None:
    db = make(tmp_path)
    port_file = tmp_path / "port"
    result = run([str(SCRIPT), "--port", "0", "--db", str(db), "--port-file", str(port_file)])
    assert result.returncode == 1
    assert result.stderr.strip() == f"clann-devserver: cannot open the database {db}: {says}"
    assert not port_file.exists()


def test_a_port_file_that_cannot_be_written_is_one_clear_line(tmp_path: Path) -> None:
    port_file = tmp_path / "no" / "such" / "dir" / "port"
    result = run([str(SCRIPT), "--port", "0", "--db", str(tmp_path / "x.sqlite3"), "--port-file", str(port_file)])
    assert result.returncode == 1
    said = f"clann-devserver: cannot write the port file {port_file}: No such file or directory"
    assert result.stderr.strip() == said


def _garbage(path: Path) -> Path:
    path.write_bytes(b"not a database" * 1000)
    return path


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
        if server.poll() is None:
            server.terminate()
        server.communicate(timeout=30)  # reads and closes its stderr, if the test did not


def test_it_serves_on_a_free_port_and_logs_one_line_per_request_without_the_token(
    serving: tuple[str, subprocess.Popen[str]],
) -> None:
    url, server = serving
    response = httpx2.get(
        f"{url}/api/chat/sessions?created_by=carol", headers={"Authorization": "Bearer secret-token-c"}
    )
    assert response.status_code == 200
    request_id = response.headers["x-request-id"]
    server.terminate()
    _, stderr = server.communicate(timeout=10)
    # The start-up banner tells the user the URL and their token.
    assert f"user carol: CLANN_BASE_URL={url} CLANN_TOKEN=secret-token-c" in stderr
    lines = [line for line in stderr.splitlines() if request_id in line]
    assert len(lines) == 1
    assert f"GET /api/chat/sessions 200 {request_id} " in lines[0]
    assert lines[0].endswith("user=carol")
    assert "secret-token-c" not in "\n".join(line for line in stderr.splitlines() if " pyclann.devserver " in line)


def test_make_serve_takes_the_port() -> None:
    result = run(["make", "-n", "serve", "PORT=9123"])
    assert "-m pyclann.devserver --port 9123" in result.stdout
    assert "--port 8765" in run(["make", "-n", "serve"]).stdout


def test_the_banners_line_for_a_user_is_all_that_chatclient_needs(
    serving: tuple[str, subprocess.Popen[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, server = serving
    assert server.stderr is not None
    line = next(line for line in server.stderr if line.strip().startswith("user carol:"))
    for setting in line.split(":", 1)[1].split():
        name, _, value = setting.partition("=")
        monkeypatch.setenv(name, value)
    with ChatClient() as chat:
        chat.create_session("from the banner", created_by="carol")
        assert [s.title for s in chat.list_sessions("carol")] == ["from the banner"]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_leaves_every_write_in_the_database_file_and_removes_the_port_file(
    serving: tuple[str, subprocess.Popen[str]], tmp_path: Path, signum: signal.Signals
) -> None:
    url, server = serving
    with httpx2.Client(base_url=url, headers={"Authorization": "Bearer secret-token-c"}) as client:
        session = client.post("/api/chat/sessions", json={"title": "kept", "created_by": "carol"}).json()
        messages = f"/api/chat/sessions/{session['id'].split(':')[1]}/messages"
        for i in range(50):
            client.post(messages, json={"role": "user", "content": f"message {i}"}).raise_for_status()
    server.send_signal(signum)
    _, stderr = server.communicate(timeout=30)
    assert server.returncode == -signum  # it dies of the signal, once it has cleaned up
    assert "Traceback" not in stderr
    assert not (tmp_path / "port").exists()
    wal = tmp_path / "chat.sqlite3-wal"
    assert not wal.exists() or wal.stat().st_size == 0
    # The .sqlite3 file alone, copied elsewhere, holds everything.
    copy = tmp_path / "copy" / "chat.sqlite3"
    copy.parent.mkdir()
    shutil.copyfile(tmp_path / "chat.sqlite3", copy)
    assert count_rows(copy) == (1, 50)


def test_a_stop_with_half_open_connections_is_prompt(serving: tuple[str, subprocess.Popen[str]]) -> None:
    # Connections that sent half a head, or a head and half a body, do not hold a stopping server.
    url, server = serving
    port = int(url.rsplit(":", 1)[1])
    held = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(50)]
    try:
        for sock in held[:-1]:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        held[-1].sendall(
            b"POST /api/chat/sessions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer secret-token-c\r\n"
            b"Content-Type: application/json\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n"
        )
        # uvicorn sends 100 Continue once the app reads the body: that request is in progress.
        assert held[-1].recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        held[-1].sendall(b"{")
        server.terminate()
        server.communicate(timeout=30)
        assert server.returncode == -signal.SIGTERM
    finally:
        for sock in held:
            sock.close()
