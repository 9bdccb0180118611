"""Everything pyclann writes prints on any stream (issue 22): the server's words escaped and clipped.

A lone surrogate in a problem's `detail` was copied into `str(error)`, so that
`print(error)` raised `UnicodeEncodeError` and pyclann's own retry log line failed
with `--- Logging error ---`; a 60 KB `X-Request-Id` was copied whole.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator

import httpx2
import pytest

from pyclann import ChatClient, ChatMessage, ChatSession, ClannAPIError, ClannError, ClannResponseError
from pyclann.testing import instant_retries
from tests.helpers import MESSAGE, SESSION, Recorder, invoke, problem, respond, success, sync_client

# What a server may put in its words that a stream cannot print, or should not be shown as it is.
NASTY: dict[str, str] = {
    "lone surrogate": "bad \udc80 byte",
    "NUL": "nul \x00 here",
    "escape sequence": "\x1b[2J\x1b[31mred",
    "bidi override": "user \u202eevil\u202c name",
    "newline": "first\nFAKE LOG LINE",
    "non-ASCII letter": "Sitzung Grüße",
    "astral": "emoji \U0001f600",
}


def _strict(encoding: str) -> io.TextIOWrapper:
    return io.TextIOWrapper(io.BytesIO(), encoding=encoding, errors="strict")


def printed(text: object, encoding: str) -> str:
    """`print(text)` to a strict stream of `encoding`: what it wrote (raises if it cannot)."""
    stream = _strict(encoding)
    print(text, file=stream)
    stream.flush()
    buffer = stream.buffer
    assert isinstance(buffer, io.BytesIO)
    return buffer.getvalue().decode(encoding)


def _raw_problem(status: int, detail: str, headers: dict[str, str] | None = None) -> httpx2.Response:
    # json.dumps writes a lone surrogate as the escape \udc80, as a server's JSON may.
    body = json.dumps(problem(status, detail)).encode()
    given = {"Content-Type": "application/problem+json", "X-Request-Id": "r-1", **(headers or {})}
    # Header values as bytes off the wire: whatever the server sent, UTF-8 or not.
    raw = [(name.encode(), value.encode("utf-8", "surrogatepass")) for name, value in given.items()]
    return httpx2.Response(status, content=body, headers=raw)


async def _error(*steps: httpx2.Response, method: str = "get_session") -> ClannError:
    with pytest.raises(ClannError) as caught, instant_retries():
        await invoke(sync_client(Recorder(*steps)), method)
    return caught.value


@pytest.mark.parametrize("encoding", ["utf-8", "ascii"])
@pytest.mark.parametrize("text", NASTY.values(), ids=NASTY.keys())
async def test_an_errors_detail_prints_on_a_strict_stream(text: str, encoding: str) -> None:
    error = await _error(_raw_problem(404, text))
    out = printed(error, encoding)
    assert out.count("\n") == 1, "one line: a newline from the server cannot forge another"
    assert printed(repr(error), encoding)
    assert isinstance(error, ClannAPIError)
    if error.problem is not None:  # msgspec refuses a lone surrogate's escape: then the body is the detail
        assert error.detail == text, "the attribute keeps the server's words as they were"


@pytest.mark.parametrize("encoding", ["utf-8", "ascii"])
async def test_a_lone_surrogate_is_shown_escaped_not_dropped(encoding: str) -> None:
    error = await _error(_raw_problem(400, "bad \udc80 byte"))
    assert "bad \\udc80 byte" in printed(error, encoding)
    raw = respond(400, '{"detail": "bad \udc80 byte"}'.encode("utf-8", "surrogatepass"))
    error = await _error(raw)  # the bytes of a surrogate, not its escape: not UTF-8
    printed(error, encoding)


@pytest.mark.parametrize("encoding", ["utf-8", "ascii"])
@pytest.mark.parametrize("text", NASTY.values(), ids=NASTY.keys())
async def test_a_body_that_is_not_a_problem_prints_on_a_strict_stream(text: str, encoding: str) -> None:
    error = await _error(respond(502, text.encode("utf-8", "surrogatepass")))
    printed(error, encoding)


async def test_a_60_kb_request_id_is_clipped_in_the_message() -> None:
    error = await _error(_raw_problem(404, "gone", {"X-Request-Id": "r" * 60_000}))
    assert isinstance(error, ClannAPIError)
    assert len(str(error)) < 2_000
    assert "(60000 characters)" in str(error)
    assert error.request_id == "r" * 60_000, "the attribute stays whole, to quote to the server's owner"


async def test_a_60_kb_detail_and_a_60_kb_title_are_clipped() -> None:
    error = await _error(_raw_problem(422, "d" * 60_000))
    assert len(str(error)) < 2_000
    # No detail: the body is shown instead, its 60 KB title with it; clipped too.
    untitled = await _error(respond(500, {"type": "x", "title": "t" * 60_000, "status": 500}))
    assert len(str(untitled)) < 2_000


async def test_a_60_kb_header_echoed_is_clipped() -> None:
    # Content-Encoding is the one header an error echoes; a server can make it anything.
    body = json.dumps(SESSION).encode()
    coded = httpx2.Response(200, headers={"Content-Encoding": "x" * 60_000}, stream=_Stream(body))
    error = await _error(coded)
    assert isinstance(error, ClannResponseError)
    assert len(str(error)) < 2_000
    printed(error, "ascii")


class _Stream(httpx2.SyncByteStream):
    def __init__(self, body: bytes) -> None:
        self._body = body

    def __iter__(self) -> Iterator[bytes]:
        yield self._body


@pytest.mark.parametrize("text", NASTY.values(), ids=NASTY.keys())
async def test_a_contract_break_echoing_a_field_prints_on_an_ascii_stream(text: str) -> None:
    bad = {**SESSION, "id": text}
    error = await _error(respond(200, bad))
    assert isinstance(error, ClannResponseError)
    printed(error, "ascii")


@pytest.mark.parametrize("text", NASTY.values(), ids=NASTY.keys())
def test_the_retry_log_line_prints_through_logging_on_a_strict_stream(
    text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    stream = _strict("ascii")
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("pyclann")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        client = sync_client(Recorder(_raw_problem(503, text, {"X-Request-Id": f"id {text}"}), success("get_session")))
        with instant_retries():
            client.get_session(SESSION["id"])
        handler.flush()
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    assert "Logging error" not in capsys.readouterr().err
    buffer = stream.buffer
    assert isinstance(buffer, io.BytesIO)
    lines = buffer.getvalue().decode("ascii").splitlines()
    assert any("retry 1" in line for line in lines)
    assert len(lines) == 3, "a retry and two responses: a newline from the server forges no line"


@pytest.mark.parametrize("text", NASTY.values(), ids=NASTY.keys())
def test_a_records_repr_prints_on_any_stream(text: str) -> None:
    session = ChatSession.from_dict({**SESSION, "title": text.replace("\n", " ")})
    message = ChatMessage.from_dict({**MESSAGE, "content": text})
    for record in (session, message, [session, message]):
        for encoding in ("utf-8", "ascii"):
            printed(record, encoding)
    assert eval(repr(session.title)) == session.title  # noqa: S307 - the escapes are Python's own


def test_a_clients_repr_prints_on_an_ascii_stream() -> None:
    client = sync_client(Recorder(success("get_session")))
    printed(client, "ascii")


@pytest.mark.parametrize("text", NASTY.values(), ids=NASTY.keys())
def test_an_error_from_below_pyclann_quoting_anything_prints_on_an_ascii_stream(text: str) -> None:
    # An event hook of the user's, or httpx2 quoting the wire: its words reach the message too.
    def hook(request: httpx2.Request) -> None:
        raise ValueError(text)

    http = httpx2.Client(
        transport=httpx2.MockTransport(Recorder(success("get_session"))), event_hooks={"request": [hook]}
    )
    with pytest.raises(ClannError) as caught:
        ChatClient("http://clann.test", token="t", http_client=http).get_session(SESSION["id"])
    printed(caught.value, "ascii")
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("char", ["\u202e", "\xe9", "\x00", "\U0001f600"], ids=["bidi", "letter", "NUL", "astral"])
async def test_a_long_detail_of_escapes_is_clipped_between_escapes(char: str) -> None:
    error = await _error(_raw_problem(404, "a" + char * 5_000))  # its body under the 64 KiB an error keeps
    assert isinstance(error, ClannAPIError)
    said = str(error)
    shown = said[said.index(": ") + 2 : said.index("... (5001 characters)")]
    assert eval(f'"{shown}"') == "a" + char * (len(eval(f'"{shown}"')) - 1)  # noqa: S307 - whole escapes only
    assert len(shown) <= 500


# An argument pyclann refuses is echoed back: cut, and its length is the value's own, not its repr's.
LONG_ARGUMENTS = {
    "cursor": lambda chat, value: chat.list_sessions_page("alice", cursor=value),
    "idempotency_key": lambda chat, value: chat.create_session("t", created_by="alice", idempotency_key=value),
}


@pytest.mark.parametrize("refuse", LONG_ARGUMENTS.values(), ids=LONG_ARGUMENTS.keys())
@pytest.mark.parametrize("value", ["a" * 300 + "!", "\u00e9" * 300, "\n" * 1000])
def test_a_long_refused_argument_is_echoed_in_part_with_its_own_length(
    refuse: Callable[[ChatClient, str], object], value: str
) -> None:
    recorder = Recorder(respond(500))
    with pytest.raises(ClannError) as caught:
        refuse(sync_client(recorder), value)
    message = str(caught.value)
    assert f"... ({len(value)} characters)" in message
    assert message.isascii()
    assert message.isprintable()
    assert len(message) < 1000
    assert recorder.requests == []
