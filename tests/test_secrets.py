"""The token never shows: not in a repr, a log record, an error, a pickle, or a traceback rendered with locals.

Tracebacks are rendered as pytest -l, rich's show_locals and Sentry do: every
frame's local variables, by repr. The phases of a call each leave different
frames behind, so each is reproduced against a real server on 127.0.0.1 (for
httpx2's and httpcore2's own frames), for both twins. The token is only ever a
module constant here: the test's own frames hold no copy of it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import pickle
import traceback
import urllib.parse
from collections.abc import Callable
from typing import Any

import httpx2
import pytest

from pyclann import AsyncChatClient, ChatClient, ClannAPIError, ClannError, ClannResponseError
from pyclann.testing import dev_server, instant_retries
from tests.helpers import (
    BASE,
    METHODS,
    PATHS,
    SESSION,
    SESSION_ID,
    TOKEN,
    Recorder,
    async_client,
    call,
    close,
    invoke,
    problem,
    respond,
    session,
    session_page,
    success,
    sync_client,
)
from tests.servers import Exchange, Server, answering, head, refused_url, response

CLIENTS = [ChatClient, AsyncChatClient]


def rendered(error: BaseException) -> str:
    """The error as every tool shows it: str, repr, its attributes, a pickle, and a traceback with locals."""
    parts = [str(error), repr(error), repr(vars(error)), repr(pickle.dumps(error))]
    parts.append("".join(traceback.TracebackException.from_exception(error, capture_locals=True).format()))
    parts.append("".join(traceback.format_exception(error)))
    return "\n".join(parts)


def chain(error: BaseException) -> list[BaseException]:
    found: list[BaseException] = []
    link: BaseException | None = error
    while link is not None and link not in found:
        found.append(link)
        link = link.__cause__ or link.__context__
    return found


# Clients ------------------------------------------------------------------------------------------


def test_a_clients_repr_str_and_attributes_hide_the_token() -> None:
    client = AsyncChatClient(BASE, token=TOKEN)
    for shown in (client, client.with_options(timeout=3), client.with_raw_response):
        assert TOKEN not in repr(shown)
        assert TOKEN not in str(shown)
        assert TOKEN not in repr(vars(shown))
    assert TOKEN not in repr(client._settings)


def test_a_client_refuses_to_be_pickled_without_showing_the_token() -> None:
    client = AsyncChatClient(BASE, token=TOKEN)
    with pytest.raises(TypeError) as caught:
        pickle.dumps(client)
    assert TOKEN not in str(caught.value)


# Errors and log records, over a mock --------------------------------------------------------------

COOKIE = "quoted-cookie-value"
ESCAPED = "".join(f"\\u{ord(char):04x}" for char in TOKEN)
ANSWERS: dict[str, Callable[[], Any]] = {
    "401": lambda: respond(401, problem(401, "the bearer token is not valid")),
    "500 html": lambda: respond(500, b"<html>oops</html>"),
    "broken json": lambda: respond(200, b"{broken"),
    "connect": lambda: httpx2.ConnectError("refused"),
    "timeout": lambda: httpx2.ReadTimeout("slow"),
    # A server or a proxy that echoes the request's token: in the request ID an error's message shows,
    # in every header an error reads, and in a body that is not JSON.
    "404 echoing the token in its request id": lambda: respond(
        404, problem(404, "no such session"), {"X-Request-Id": f"req-{TOKEN}"}
    ),
    "503 echoing the token in every header": lambda: respond(
        503,
        problem(503, "busy"),
        {"X-Request-Id": TOKEN, "Retry-After": TOKEN, "X-Should-Retry": TOKEN, "Content-Language": TOKEN},
    ),
    "2xx broken json echoing the token": lambda: respond(200, b"{" + TOKEN.encode(), {"X-Request-Id": TOKEN}),
    "2xx gzip that is not, echoing the token": lambda: respond(
        200, b"{}", {"X-Request-Id": TOKEN, "Content-Encoding": f"br, {TOKEN}"}
    ),
    # JSON may write the token with escapes, which decoding the problem undoes.
    "400 writing the token with JSON escapes": lambda: respond(
        400,
        (
            '{"type": "tag:clann.dev,2026:problem/x", "title": "%s", "status": 400, "detail": "bad %s",'
            ' "errors": [{"field": "f", "message": "%s"}]}' % ((ESCAPED,) * 3)
        ).encode(),
    ),
}


@pytest.mark.parametrize("answer", ANSWERS.values(), ids=ANSWERS.keys())
@pytest.mark.parametrize("method", PATHS.values(), ids=PATHS.keys())
async def test_errors_and_debug_logs_never_hold_the_token(
    method: str, answer: Callable[[], Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ClannError) as caught, instant_retries():
        await invoke(async_client(Recorder(answer())), method)
    assert TOKEN not in rendered(caught.value)
    assert TOKEN not in caplog.text
    assert all(TOKEN not in repr(record.__dict__) for record in caplog.records)


def test_a_raw_views_request_id_never_holds_an_echoed_token() -> None:
    chat = sync_client(Recorder(success("get_session", {"X-Request-Id": f"req-{TOKEN}"})))
    raw = chat.with_raw_response.get_session(SESSION_ID)
    assert raw.request_id == "req-[redacted]"
    assert TOKEN not in repr(raw)


def test_a_stuck_walks_error_never_holds_an_echoed_token() -> None:
    stuck = respond(200, session_page([session(2)], "stuck"), {"X-Request-Id": TOKEN})
    chat = sync_client(Recorder(respond(200, session_page([session(1)], "stuck")), stuck))
    with pytest.raises(ClannResponseError, match="did not advance") as caught:
        chat.list_sessions("alice")
    assert caught.value.request_id == "[redacted]"
    assert TOKEN not in rendered(caught.value)


def test_a_quoted_cookie_echoed_without_its_quotes_is_redacted() -> None:
    echoed = respond(400, problem(400, f"bad cookie {COOKIE}"))
    chat = sync_client(Recorder(echoed), headers={"Cookie": f'sess="{COOKIE}"'})
    with pytest.raises(ClannError) as caught:
        chat.get_session(SESSION_ID)
    text = rendered(caught.value)  # before the assertion, whose rewriting keeps its operands among the locals
    assert COOKIE not in text


def test_an_error_body_cut_inside_the_token_keeps_none_of_it() -> None:
    cut = respond(400, b"A" * (64 * 1024 - 12) + TOKEN.encode() * 2)
    with pytest.raises(ClannError) as caught:
        sync_client(Recorder(cut)).get_session(SESSION_ID)
    error = caught.value
    assert isinstance(error, ClannAPIError)
    assert error.response is not None
    for kept in (error.body, error.response.text):
        assert kept.endswith("[redacted]")
        assert TOKEN[:12] not in kept


def test_a_redirect_to_another_origin_that_drops_the_token_does_not_unredact_it() -> None:
    def server(request: httpx2.Request) -> httpx2.Response:
        if request.url.host == "clann.test":
            return httpx2.Response(302, headers={"Location": f"http://elsewhere.test/x?t={TOKEN}"})
        # httpx2 sent no Authorization across origins; the server still quotes what it was given.
        return respond(400, problem(400, f"unexpected {request.url.raw_path.decode()}"))

    own = httpx2.Client(transport=httpx2.MockTransport(server), follow_redirects=True)
    with pytest.raises(ClannError) as caught:
        ChatClient(BASE, token=TOKEN, http_client=own, max_retries=0).get_session(SESSION_ID)
    assert TOKEN not in rendered(caught.value)


def test_a_cursor_echoing_the_token_is_redacted_in_the_debug_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="pyclann")
    pages = Recorder(respond(200, session_page([session(1)], TOKEN)), respond(200, session_page([session(2)])))
    assert len(sync_client(pages).list_sessions("alice")) == 2
    assert "cursor=[redacted]" in caplog.text
    assert TOKEN not in caplog.text


NESTED = "[" * 600 + "]" * 600
# Bodies a strict JSON reader refuses or a recursive one cannot walk, where `ErrorResponse.json()` (the
# standard library's reader) would still decode the escapes.
ESCAPING_BODIES: dict[str, bytes] = {
    "nested 600 deep": f'{{"detail": "bad {ESCAPED}", "d": {NESTED}}}'.encode(),
    "with NaN": f'{{"detail": "bad {ESCAPED}", "n": NaN}}'.encode(),
    "with a lone surrogate": f'{{"detail": "bad {ESCAPED}", "s": "\\ud800"}}'.encode(),
    "after a BOM": f'\ufeff{{"detail": "bad {ESCAPED}"}}'.encode(),
    "in UTF-16": json.dumps({"detail": f"bad {TOKEN}"}).encode("utf-16"),
}


@pytest.mark.parametrize("content", ESCAPING_BODIES.values(), ids=ESCAPING_BODIES.keys())
def test_a_token_written_with_escapes_is_redacted_whatever_else_the_body_holds(content: bytes) -> None:
    with pytest.raises(ClannAPIError) as caught:
        sync_client(Recorder(respond(401, content))).get_session(SESSION_ID)
    error = caught.value
    assert error.response is not None
    # Not `rendered`: pickle recurses once per level of the problem it keeps, and gives up at 600.
    text = str(error) + repr(error) + error.detail + error.response.text + error.body
    with contextlib.suppress(ValueError, RecursionError):
        text += repr(error.response.json())
    assert TOKEN not in text


def test_a_percent_encoded_token_is_redacted() -> None:
    token = "abc+/=DEF/ghi+jk=="
    echoed = respond(400, problem(400, f"bad {urllib.parse.quote(token, safe='')}"))
    chat = ChatClient(
        BASE, token=token, max_retries=0, http_client=httpx2.Client(transport=httpx2.MockTransport(Recorder(echoed)))
    )
    with pytest.raises(ClannError) as caught:
        chat.get_session(SESSION_ID)
    assert "abc%2B" not in str(caught.value)
    assert "[redacted]" in str(caught.value)


@pytest.mark.parametrize("shape", ["{}", "a=1, b={}", "lang=en; {}"])
def test_a_cookie_of_any_shape_echoed_is_redacted_and_a_short_one_is_no_secret(shape: str) -> None:
    echoed = respond(400, problem(400, f"bad cookie {COOKIE} in 1 of 1, en"))
    chat = sync_client(Recorder(echoed), headers={"Cookie": shape.format(COOKIE)})  # no local holds the cookie
    with pytest.raises(ClannError) as caught:
        chat.get_session(SESSION_ID)
    text = rendered(caught.value)
    assert COOKIE not in text
    assert "in 1 of 1, en" in str(caught.value)


def test_a_transport_error_after_a_redirect_that_dropped_the_token_is_redacted() -> None:
    def server(request: httpx2.Request) -> httpx2.Response:
        if request.url.host == "clann.test":
            return httpx2.Response(302, headers={"Location": "http://elsewhere.test/x"})
        # The second hop carries no token; a parser quoting what the server sent still may.
        raise httpx2.RemoteProtocolError(f"illegal header line: b'X-Echo: Bearer {TOKEN}'", request=request)

    own = httpx2.Client(transport=httpx2.MockTransport(server), follow_redirects=True)
    with pytest.raises(ClannError) as caught:
        ChatClient(BASE, token=TOKEN, http_client=own, max_retries=0).get_session(SESSION_ID)
    text = rendered(caught.value)
    assert TOKEN not in text


# Tracebacks with locals, at every phase of a real exchange -------------------------------------------


def reset_while_sending(exchange: Exchange) -> None:
    exchange.sock.recv(16)
    exchange.reset()


def reset_while_reading_headers(exchange: Exchange) -> None:
    exchange.read_request()
    exchange.send(b"HTTP/1.1 201 Created\r\nContent-Le")
    exchange.reset()


def reset_while_reading_the_body(exchange: Exchange) -> None:
    exchange.read_request()
    exchange.send(head(201, {"Content-Length": "1000", "Content-Type": "application/json"}) + b'{"id": "chat_')
    exchange.reset()


def _echoing(answer: Callable[[bytes], bytes]) -> Callable[[Exchange], None]:
    """A server that quotes the request's head (its token among it) in an answer made by `answer`."""

    def handle(exchange: Exchange) -> None:
        request = exchange.read_request()
        exchange.send(answer(request.partition(b"\r\n\r\n")[0]))
        exchange.reset()

    return handle


def _token_in(request: bytes) -> bytes:
    return request.partition(b"Bearer ")[2].partition(b"\r\n")[0]


PHASES: dict[str, Callable[[Exchange], None] | None] = {
    "connect refused": None,
    "reset while sending": reset_while_sending,
    "reset while reading headers": reset_while_reading_headers,
    "reset while reading the body": reset_while_reading_the_body,
    "401": answering(response(401, problem(401, "the bearer token is not valid"))),
    "broken body": answering(response(201, b'{"id": "chat_message:', {"Content-Type": "application/json"})),
    "body breaks the contract": answering(response(201, SESSION)),
    # A server quoting the request it got, so that what httpx2's parser or pyclann's reading keeps holds the token.
    "a malformed header line echoing it": _echoing(
        lambda sent: b"HTTP/1.1 404 Not Found\r\nX-Echo " + _token_in(sent) + b"\r\nContent-Length: 0\r\n\r\n"
    ),
    "a malformed status line echoing it": _echoing(lambda sent: b"HTTP/1.1 2OO " + _token_in(sent) + b"\r\n\r\n"),
    "a 400 whose body is the request's head": _echoing(lambda sent: response(400, sent)),
    "a 2xx cut short echoing it": _echoing(
        lambda sent: (
            head(201, {"Content-Length": "1000", "Content-Type": "application/json"}) + b'{"id": "' + _token_in(sent)
        )
    ),
}


ECHOING = [name for name in PHASES if "echoing" in name or "request's head" in name]


@pytest.mark.parametrize("handler", PHASES.values(), ids=PHASES.keys())
@pytest.mark.parametrize("cls", CLIENTS)
async def test_a_traceback_with_locals_never_shows_the_token(
    cls: Any, handler: Callable[[Exchange], None] | None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # httpx2's and httpcore2's records too
    content = "x" * 300_000  # large enough that a reset can land while it is being sent
    if handler is None:
        url = refused_url()
        client = cls(url, token=TOKEN, max_retries=1)
        with pytest.raises(ClannError) as caught, instant_retries():
            await call(client, "append_message", METHODS["append_message"][0][0], "user", content)
        await close(client)
    else:
        with Server(handler) as server:
            client = cls(server.url, token=TOKEN, max_retries=1)
            with pytest.raises(ClannError) as caught, instant_retries():
                await call(client, "append_message", METHODS["append_message"][0][0], "user", content)
            await close(client)
    error = caught.value
    text = rendered(error)
    assert TOKEN not in text
    for link in chain(error):
        assert TOKEN not in "".join(traceback.TracebackException.from_exception(link, capture_locals=True).format())
    # httpcore2's own DEBUG records quote what a malformed answer sent (its exception's words), which
    # pyclann cannot reach; pyclann's records, and every record where the server echoed nothing, hold no token.
    echoed = any(handler is PHASES[name] for name in ECHOING)
    records = [record for record in caplog.records if not echoed or record.name.startswith("pyclann")]
    assert records
    assert all(TOKEN not in record.getMessage() for record in records)
    assert all(TOKEN not in repr(record.__dict__) for record in records)


BAD_SETTINGS: dict[str, dict[str, Any]] = {
    "bad base URL": {"base_url": "http://a..b/"},
    "base URL httpx2 cannot parse": {"base_url": "http://host:abc/"},
    "base URL with a query": {"base_url": "http://clann.test/?x=1"},
    "negative timeout": {"timeout": -1},
    "NaN total timeout": {"total_timeout": float("nan")},
    "bad header": {"headers": {"X-A": "a\nb"}},
    "wrong type": {"max_retries": "2"},
}


def construction_traceback(cls: Any, settings: dict[str, Any]) -> tuple[BaseException, str]:
    options = {"base_url": BASE, **settings}
    with pytest.raises((ClannError, TypeError)) as caught:
        cls(token=TOKEN, **options)
    return caught.value, "".join(
        traceback.TracebackException.from_exception(caught.value, capture_locals=True).format()
    )


@pytest.mark.parametrize("settings", BAD_SETTINGS.values(), ids=BAD_SETTINGS.keys())
def test_a_failed_construction_renders_as_a_traceback_with_locals(settings: dict[str, Any]) -> None:
    # The half-built client is among the locals, and its repr must not fail.
    error, text = construction_traceback(AsyncChatClient, settings)
    assert text.rstrip().endswith(f"{type(error).__qualname__}: {error}")
    assert f"self = {AsyncChatClient.__name__}(" in text


def test_a_real_exchange_logs_nothing_secret_even_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    answers = [response(201, SESSION), response(200, SESSION), response(401, problem(401, "no"))]

    def handle(exchange: Exchange) -> None:
        exchange.read_request()
        exchange.send(answers.pop(0))

    with Server(handle) as server, ChatClient(server.url, token=TOKEN) as client:
        session = client.create_session(SESSION["title"], "alice")
        client.get_session(session)
        with pytest.raises(ClannError) as caught:
            client.get_session(session)
    assert "httpcore2" in caplog.text, "the lower layers did log at DEBUG"
    assert "pyclann" in {record.name for record in caplog.records}
    assert TOKEN not in caplog.text
    assert all(TOKEN not in repr(record.__dict__) for record in caplog.records)
    assert TOKEN not in rendered(caught.value)


@pytest.mark.parametrize("settings", BAD_SETTINGS.values(), ids=BAD_SETTINGS.keys())
def test_a_traceback_with_locals_of_a_failed_construction_never_shows_the_token(settings: dict[str, Any]) -> None:
    _, text = construction_traceback(AsyncChatClient, settings)
    assert TOKEN not in text


@pytest.mark.parametrize("settings", BAD_SETTINGS.values(), ids=BAD_SETTINGS.keys())
def test_a_token_from_clann_token_is_not_shown_either(
    settings: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLANN_TOKEN", TOKEN)
    options = {"base_url": BASE, **settings}
    with pytest.raises((ClannError, TypeError)) as caught:
        AsyncChatClient(**options)
    text = "".join(traceback.TracebackException.from_exception(caught.value, capture_locals=True).format())
    assert TOKEN not in text


PASSWORD = "hunter2-pw-5e1"
WITH_PASSWORD = ["http://user:{}@clann.test", "https://{}@clann.test/api", "http://user:{}@a..b/"]


@pytest.mark.parametrize("template", WITH_PASSWORD)
def test_a_base_urls_password_is_not_in_a_traceback_with_locals(template: str) -> None:
    with pytest.raises(ClannError) as caught:
        AsyncChatClient(template.format(PASSWORD), token=TOKEN)
    text = "".join(traceback.TracebackException.from_exception(caught.value, capture_locals=True).format())
    assert "ClannConfigError" in text
    assert PASSWORD not in text


@pytest.mark.parametrize("template", WITH_PASSWORD)
def test_a_password_in_clann_base_url_is_not_in_a_traceback_with_locals(
    template: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLANN_BASE_URL", template.format(PASSWORD))
    with pytest.raises(ClannError) as caught:
        ChatClient(token=TOKEN)
    text = "".join(traceback.TracebackException.from_exception(caught.value, capture_locals=True).format())
    assert PASSWORD not in text


def test_a_whole_session_against_the_dev_server_logs_nothing_secret(caplog: pytest.LogCaptureFixture) -> None:
    """Every method, against the dev server, with pyclann, httpx2, httpcore2 and the server at DEBUG."""
    caplog.set_level(logging.DEBUG)
    with dev_server({"alice": TOKEN}) as server, server.client("alice") as client:
        session = client.create_session(SESSION["title"], "alice")
        client.update_session(session, title="renamed")
        message = client.append_message(session, "user", "hello")
        client.get_message(session, message)
        list(client.iter_messages(session, page_size=1))
        client.list_sessions("alice")
        client.delete_session(session)
        with pytest.raises(ClannError) as caught:
            client.delete_session(session)
    assert {"pyclann", "httpx2"} <= {record.name for record in caplog.records}
    assert any(record.name.startswith("httpcore2") for record in caplog.records)
    assert TOKEN not in caplog.text
    assert all(TOKEN not in repr(record.__dict__) for record in caplog.records)
    assert TOKEN not in rendered(caught.value)
