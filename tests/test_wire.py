"""One mapping whatever the transport, and permanent failures not retried (issue 22): raw sockets on 127.0.0.1.

The same malformed answer must give the same error, the same message and the
same retry decision through each transport pyclann may send through: its own
sync transport (`pyclann._transport`, on httpcore2's pool), a user's `httpx2.Client`
or `httpx2.AsyncClient`, the async client pyclann makes, and httpx2's stock
transport, which pyclann sends through while a tool (VCR.py) patches it. And a
TLS failure that will fail the same way again (a certificate not trusted, an
`https://` URL pointed at an HTTP-only server, a handshake the server refuses)
is raised at once, saying what to check.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import re
import ssl
from collections.abc import Callable, Iterator
from typing import Any

import httpx2
import pytest

from pyclann import AsyncChatClient, ChatClient, ClannConnectionError, ClannError
from pyclann.testing import instant_retries
from tests.helpers import SESSION, TOKEN
from tests.servers import TLS, Exchange, Server, head, response, start_tls, tls_context

SESSION_ULID = SESSION["id"].removeprefix("chat_session:")


@contextlib.contextmanager
def _patched_as_vcr_does() -> Iterator[None]:
    """httpx2's own transport patched as VCR.py patches it (a functools.wraps wrapper), passing requests through."""
    original = httpx2.HTTPTransport.handle_request

    @functools.wraps(original)
    def patched(self: httpx2.HTTPTransport, request: httpx2.Request) -> httpx2.Response:
        return original(self, request)

    httpx2.HTTPTransport.handle_request = patched  # type: ignore[method-assign]
    try:
        yield
    finally:
        httpx2.HTTPTransport.handle_request = original  # type: ignore[method-assign]


TRANSPORTS = ["pyclann sync", "user's httpx2.Client", "pyclann async", "user's httpx2.AsyncClient", "stock (VCR)"]


def _call(transport: str, url: str, method: str, verify: ssl.SSLContext | None = None) -> ClannError:
    """Call `method` through `transport` with retries (their waits skipped); the error it raised."""
    args: tuple[Any, ...] = (SESSION["id"],) if method == "get_session" else (SESSION["id"], "user", "Hello")
    options: dict[str, Any] = {"token": TOKEN, "max_retries": 2, "timeout": 5}

    async def run_async() -> None:
        given = None if verify is None and transport == "pyclann async" else httpx2.AsyncClient(verify=verify or True)
        async with AsyncChatClient(url, http_client=given, **options) as chat:
            await getattr(chat, method)(*args)

    def run_sync() -> None:
        own = verify is None and transport != "user's httpx2.Client"
        given = None if own else httpx2.Client(verify=verify or True)
        with ChatClient(url, http_client=given, **options) as chat:
            getattr(chat, method)(*args)

    vcr = _patched_as_vcr_does() if transport == "stock (VCR)" else contextlib.nullcontext()

    def run() -> None:
        if "async" in transport.lower():
            asyncio.run(run_async())
        else:
            run_sync()

    with pytest.raises(ClannError) as caught, instant_retries(), vcr:
        run()
    return caught.value


def _shape(error: ClannError, url: str) -> str:
    """The message without what differs by run: the URL, the port, the key made for the call."""
    said = str(error).replace(url, "<url>")
    return re.sub(r"idempotency_key='[^']*'", "idempotency_key=<key>", said)


# Malformed answers ---------------------------------------------------------------------------------


def _sending(data: bytes, then: Callable[[Exchange], None] | None = None) -> Callable[[Exchange], None]:
    def handle(exchange: Exchange) -> None:
        exchange.read_request()
        exchange.send(data)
        if then is not None:
            then(exchange)

    return handle


def _reset(exchange: Exchange) -> None:
    exchange.reset()


def _nothing(exchange: Exchange) -> None:
    exchange.read_request()


MALFORMED: dict[str, Callable[[Exchange], None]] = {
    "bad status line": _sending(b"HTTP/1.1 abc OK\r\nContent-Length: 0\r\n\r\n"),
    "bad header": _sending(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nthis is no header\r\n\r\n{}"),
    "truncated body": _sending(head(200, {"Content-Length": "100", "Content-Type": "application/json"}) + b'{"id": '),
    "bad chunked encoding": _sending(head(200, {"Transfer-Encoding": "chunked"}) + b"zz\r\nnot a chunk\r\n"),
    "garbage": _sending(b"\x00\x01\x02 not HTTP at all\r\n\r\n"),
    "reset mid body": _sending(head(200, {"Content-Length": "100"}) + b'{"id": "chat', _reset),
    "oversize headers": _sending(head(200, {"X-Big": "b" * 200_000, "Content-Length": "2"}) + b"{}"),
    "no answer at all": _nothing,
    "wrong content length": _sending(head(200, {"Content-Length": "x"}) + b"{}"),
}


@pytest.mark.parametrize("method", ["get_session", "append_message"])
@pytest.mark.parametrize("answer", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_answer_maps_the_same_through_every_transport(
    answer: Callable[[Exchange], None], method: str
) -> None:
    seen: dict[str, tuple[type[ClannError], str, int, bool]] = {}
    for transport in TRANSPORTS:
        with Server(answer) as server:
            error = _call(transport, server.url, method)
            seen[transport] = (type(error), _shape(error, server.url), server.connections, error.may_have_landed)
    first = seen[TRANSPORTS[0]]
    assert all(found == first for found in seen.values()), seen
    assert isinstance(first[0](), ClannConnectionError) or first[0].__name__ == "ClannResponseError"


# Permanent failures: TLS ---------------------------------------------------------------------------


def _plain_http(exchange: Exchange) -> None:
    """An HTTP-only server: a TLS hello is no request, and it answers 400, as uvicorn does."""
    exchange.sock.recv(65536)
    exchange.send(response(400, b"Bad Request"))


def _tls(required_client_cert: bool = False) -> Callable[[Exchange], None]:
    context = tls_context(required_client_cert)

    def handle(exchange: Exchange) -> None:
        sock = start_tls(exchange, context)
        if sock is None:
            return
        with sock:
            exchange.read_request()
            body = b'{"id": "x"}'
            sock.sendall(head(200, {"Content-Length": str(len(body))}) + body)

    return handle


def _trusting() -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(TLS / "server.pem"))


PERMANENT: dict[str, tuple[Callable[[Exchange], None], str, ssl.SSLContext | None]] = {
    "a client certificate required": (
        _tls(required_client_cert=True),
        "the server refused the TLS handshake",
        _trusting(),
    ),
    "https to an HTTP-only server": (_plain_http, "check the base URL's scheme", None),
    "a certificate not trusted": (_tls(), "TLS certificate verification failed", None),
}


# Trusting the test's CA takes a client of one's own. And over anyio, a server's refusal of the client's
# certificate arrives after the handshake as a bare broken connection (BrokenResourceError, no reason) or as
# the TLS alert itself, as the race goes: that case is shown through a user's sync client only.
CASES = [
    pytest.param(case, transport, id=f"{name}-{transport}")
    for name, case in PERMANENT.items()
    for transport in (TRANSPORTS if case[2] is None else ["user's httpx2.Client"])
]


@pytest.mark.parametrize(("case", "transport"), CASES)
def test_a_tls_failure_that_will_recur_is_not_retried_and_says_what_to_check(
    case: tuple[Callable[[Exchange], None], str, ssl.SSLContext | None], transport: str
) -> None:
    answer, says, verify = case
    with Server(answer) as server:
        url = server.url.replace("http://", "https://")
        error = _call(transport, url, "append_message", verify)
        assert isinstance(error, ClannConnectionError)
        assert says in str(error)
        assert "not retried" in str(error)
        assert server.connections == 1, "retried, though it would fail the same way"
        assert error.may_have_landed is False, "no request went through a handshake that failed"


def test_the_tls_server_works_when_trusted() -> None:
    # So that the failures above are the certificate's, not the server's.
    with (
        Server(_tls()) as server,
        ChatClient(
            server.url.replace("http://", "https://"), token=TOKEN, http_client=httpx2.Client(verify=_trusting())
        ) as chat,
        pytest.raises(ClannError, match="breaks the contract"),
    ):
        chat.get_session(SESSION["id"])
