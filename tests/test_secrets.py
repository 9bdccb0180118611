"""The bearer token never shows: not in a repr, a log record, an exception, or a traceback."""

from __future__ import annotations

import logging
import pickle
import traceback
from pathlib import Path
from typing import Any

import httpx
import pytest

from clann_devserver.server import running
from pyclann import AsyncChatClient, ChatClient, ClannError
from tests.helpers import METHODS, TOKEN, Recorder, call, problem, respond


def everything_in(error: BaseException) -> str:
    parts = [str(error), repr(error), "".join(traceback.format_exception(error))]
    parts += [repr(value) for value in vars(error).values()]
    parts.append(repr(pickle.dumps(error)))
    return "\n".join(parts)


@pytest.mark.parametrize("cls", [ChatClient, AsyncChatClient])
def test_repr_and_str_of_a_client_hide_the_token(cls: Any) -> None:
    client = cls("http://clann.test", token=TOKEN)
    assert TOKEN not in repr(client)
    assert TOKEN not in str(client)
    assert TOKEN not in repr(vars(client).get("base_url"))


@pytest.mark.parametrize(
    "answer",
    [
        # Factories: a response object can be read only once, and each test reads its own.
        lambda _: respond(401, problem(401, "the bearer token is not valid")),
        lambda _: respond(500, b"<html>oops</html>"),
        lambda _: respond(200, b"{broken"),
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
    ],
    ids=["401", "500-html", "bad-json", "connect", "timeout"],
)
@pytest.mark.parametrize("method", METHODS)
async def test_errors_and_debug_logs_never_hold_the_token(
    make_client: Any, method: str, answer: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    args, _, _ = METHODS[method]
    with pytest.raises(ClannError) as caught:
        await call(make_client(Recorder(answer)), method, *args)
    assert TOKEN not in everything_in(caught.value)
    assert TOKEN not in caplog.text
    assert all(TOKEN not in repr(record.__dict__) for record in caplog.records)


def test_a_real_exchange_logs_nothing_secret(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Against the dev server on 127.0.0.1, with httpx and httpcore logging at DEBUG too."""
    caplog.set_level(logging.DEBUG)
    with running(tmp_path / "chat.sqlite3", {TOKEN: "alice"}) as server, ChatClient(server.url, token=TOKEN) as client:
        session = client.create_session("secret-free", "alice")
        client.append_message(session.id, "user", "hello")
        client.list_messages(session.id)
        client.delete_session(session.id)
        with pytest.raises(ClannError) as caught:
            client.delete_session(session.id)
    assert "httpcore" in caplog.text, "the lower layers did log at DEBUG"
    assert TOKEN not in caplog.text
    assert all(TOKEN not in repr(record.__dict__) for record in caplog.records)
    assert TOKEN not in everything_in(caught.value)
