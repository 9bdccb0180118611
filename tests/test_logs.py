"""Logging (pyclann._logs): the `pyclann` logger, and CLANN_LOG turning its output on, never with the token.

CLANN_LOG is read once per process, at the first client's construction, so each
setting is tried in a fresh interpreter.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap

import pytest

from tests.helpers import SESSION_ID, ULID, Recorder, async_client, call, problem, respond, success

TOKEN = "log-token-7d0c1e5b"

# A client over a mock transport: a 503, then a retry that succeeds, then two more clients.
SCRIPT = textwrap.dedent(
    f"""
    import json, logging, httpx2
    from pyclann import ChatClient
    from pyclann.testing import instant_retries

    SESSION = {{"id": "chat_session:{ULID}", "title": "t", "created_by": "alice", "tree": None,
               "created_at": "2026-11-26T09:00:00Z", "updated_at": "2026-11-26T09:00:00Z"}}
    answers = [httpx2.Response(503, json={{"detail": "busy"}}, headers={{"X-Request-Id": "r-1"}}),
               httpx2.Response(200, json=SESSION, headers={{"X-Request-Id": "r-2"}})]
    http = httpx2.Client(transport=httpx2.MockTransport(lambda request: answers.pop(0)))
    client = ChatClient("http://clann.test", token="{TOKEN}", http_client=http)
    with instant_retries():
        client.get_session("{ULID}")
    ChatClient("http://clann.test", token="{TOKEN}").close()
    ChatClient("http://clann.test", token="{TOKEN}").close()
    logger = logging.getLogger("pyclann")
    print(json.dumps([len(logger.handlers), logger.level]))
    """
)


def run(clann_log: str | None) -> tuple[str, str]:
    """The script's stdout and stderr, in a new interpreter with CLANN_LOG as given."""
    env = {key: value for key, value in os.environ.items() if key != "CLANN_LOG"}
    if clann_log is not None:
        env["CLANN_LOG"] = clann_log
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout.strip(), done.stderr


@pytest.mark.parametrize("value", ["debug", "DEBUG", " debug "])
def test_clann_log_debug_shows_each_request_and_retry_on_stderr(value: str) -> None:
    stdout, stderr = run(value)
    lines = stderr.splitlines()
    assert len(lines) == 3, stderr
    assert lines[0].endswith(f"pyclann DEBUG] GET /api/chat/sessions/{ULID} -> 503 (request id r-1)")
    assert " pyclann INFO] get_session: retry 1 in " in lines[1]
    assert lines[2].endswith(f"pyclann DEBUG] GET /api/chat/sessions/{ULID} -> 200 (request id r-2)")
    assert TOKEN not in stderr
    assert stdout == f"[1, {logging.DEBUG}]", "one handler, however many clients"


def test_clann_log_info_shows_only_the_retries() -> None:
    stdout, stderr = run("info")
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert " pyclann INFO] get_session: retry 1 in " in lines[0]
    assert lines[0].endswith("after 503 Service Unavailable: busy (request id r-1)")
    assert TOKEN not in stderr
    assert stdout == f"[1, {logging.INFO}]"


@pytest.mark.parametrize("value", [None, ""])
def test_without_clann_log_pyclann_leaves_logging_to_the_application(value: str | None) -> None:
    stdout, stderr = run(value)
    assert stderr == ""
    assert stdout == f"[0, {logging.NOTSET}]"


def test_an_unknown_clann_log_is_named_once_and_ignored() -> None:
    stdout, stderr = run("verbose")
    assert stderr == "CLANN_LOG='verbose' is not one of debug, info; ignored\n"
    assert stdout == f"[0, {logging.NOTSET}]"


# In process, through the application's own logging ------------------------------------------------


async def test_debug_records_name_the_request_never_a_header(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="pyclann")
    await call(async_client(Recorder(success("get_session"))), "get_session", SESSION_ID)
    ours = [r.getMessage() for r in caplog.records if r.name == "pyclann"]
    assert ours == [f"GET /api/chat/sessions/{ULID} -> 200 (request id req-1)"]
    assert "Bearer" not in caplog.text


async def test_a_failed_request_is_logged_at_debug_too(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="pyclann")
    with pytest.raises(Exception, match="no such session"):
        await call(async_client(Recorder(respond(404, problem(404, "no such session")))), "get_session", SESSION_ID)
    debug = [r.getMessage() for r in caplog.records if r.name == "pyclann" and r.levelno == logging.DEBUG]
    assert debug == [f"GET /api/chat/sessions/{ULID} -> 404 (request id req-1)"]
