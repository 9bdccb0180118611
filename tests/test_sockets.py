"""The sockets of the clients pyclann makes for itself, on raw servers on 127.0.0.1.

A sync client's sockets keep the attempt's deadline (test_timeouts); an async
client's are asyncio's own transports (`pyclann._asyncio_backend`). Both must do
what httpx2's own transport does: reuse a kept-alive connection only while the
server has neither closed it nor sent bytes nobody asked for, read a body of any
size, go through the environment's proxies, and speak TLS, directly and through a
proxy's CONNECT tunnel, trusting what `SSL_CERT_FILE` names, as httpx2 does.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest
import trio
import uvloop

from pyclann import AsyncChatClient, ChatClient, ChatMessage, ClannConnectionError
from pyclann.testing import DevServer
from tests.helpers import SESSION, SESSION_ID, TOKEN, message, message_page
from tests.servers import TLS, Exchange, Server, refused_url, response, start_tls, tls_context

pytestmark = pytest.mark.slow

T = TypeVar("T")


def _kept_alive(status: int, body: dict[str, object]) -> bytes:
    return response(status, body).replace(b"Connection: close", b"Connection: keep-alive")


# The async client on asyncio's own event loop, and on uvloop's (as under uvicorn), whose transports differ.
KINDS = ["sync", "async", "async on uvloop"]


def _run(kind: str, main: Coroutine[Any, Any, T]) -> T:
    """Run `main` on the event loop `kind` names."""
    return uvloop.run(main) if kind == "async on uvloop" else asyncio.run(main)


def _get_session(kind: str, url: str, pause: float = 0) -> list[str]:
    """Three `get_session` calls through one client of `kind`, `pause` seconds apart, with no retries; their IDs."""
    if kind == "sync":
        with ChatClient(url, token=TOKEN, max_retries=0) as chat:
            found = []
            for _ in range(3):
                found.append(chat.get_session(SESSION_ID).id)
                time.sleep(pause)
            return found

    async def run() -> list[str]:
        async with AsyncChatClient(url, token=TOKEN, max_retries=0) as chat:
            found = []
            for _ in range(3):
                found.append((await chat.get_session(SESSION_ID)).id)
                await asyncio.sleep(pause)
            return found

    return _run(kind, run())


@pytest.fixture(autouse=True)
def no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.mark.parametrize("kind", KINDS)
def test_a_kept_alive_connection_serves_call_after_call(kind: str) -> None:
    def handle(exchange: Exchange) -> None:
        while exchange.read_request():
            exchange.send(_kept_alive(200, SESSION))

    with Server(handle) as server:
        assert _get_session(kind, server.url) == [SESSION_ID] * 3
        assert server.connections == 1


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("then", ["closes it", "sends bytes nobody asked for"])
def test_an_idle_connection_the_server_has_spoken_on_is_not_reused(kind: str, then: str) -> None:
    # With no retry: a reused connection would fail the next call, or give it the stray bytes as its answer.
    def handle(exchange: Exchange) -> None:
        if exchange.read_request():
            exchange.send(_kept_alive(200, SESSION))
            if then == "sends bytes nobody asked for":
                exchange.wait(0.1)  # after the client has read its answer: bytes arriving on an idle connection
                exchange.send(_kept_alive(408, {"detail": "idle too long"}))
                exchange.wait(5)  # the connection held open, until the server stops

    with Server(handle) as server:
        assert _get_session(kind, server.url, pause=0.3) == [SESSION_ID] * 3
        assert server.connections == 3


@pytest.mark.parametrize("kind", KINDS)
def test_a_body_of_megabytes_is_read_whole(kind: str) -> None:
    # Over four times what the async client holds unread before it stops reading.
    page = message_page([message(n, content="x" * 100_000) for n in range(12)])

    def handle(exchange: Exchange) -> None:
        exchange.read_request()
        exchange.send(response(200, page))

    with Server(handle) as server:
        if kind == "sync":
            with ChatClient(server.url, token=TOKEN, max_retries=0) as chat:
                found = list(chat.list_messages_page(SESSION_ID).data)
        else:

            async def run() -> list[ChatMessage]:
                async with AsyncChatClient(server.url, token=TOKEN, max_retries=0) as chat:
                    return list((await chat.list_messages_page(SESSION_ID)).data)

            found = _run(kind, run())
    assert [len(item.content) for item in found] == [100_000] * 12


@pytest.mark.parametrize("kind", KINDS)
def test_a_call_goes_through_the_proxy_the_environment_names(kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    heads: list[bytes] = []

    def proxy(exchange: Exchange) -> None:
        while request := exchange.read_request():
            heads.append(request.split(b"\r\n", 1)[0])
            exchange.send(_kept_alive(200, SESSION))

    with Server(proxy) as server:
        monkeypatch.setenv("HTTP_PROXY", server.url)
        assert _get_session(kind, "http://clann.test") == [SESSION_ID] * 3
    # A proxy is sent the whole URL in the request line.
    assert heads == [f"GET http://clann.test/api/chat/sessions/{SESSION_ID[13:]} HTTP/1.1".encode()] * 3


# TLS -----------------------------------------------------------------------------------------------


def _tls_session(exchange: Exchange) -> None:
    """Speak TLS on the connection (as 127.0.0.1), answering each request with the session."""
    sock = start_tls(exchange, tls_context())
    if sock is None:
        return
    with sock:
        while exchange.read_request():
            exchange.send(_kept_alive(200, SESSION))


def _tunnel(exchange: Exchange) -> None:
    """A proxy's CONNECT tunnel that ends here: the proxy itself speaks TLS as the server asked for."""
    request = exchange.read_request()
    if request.startswith(b"CONNECT 127.0.0.1:"):
        exchange.send(b"HTTP/1.1 200 Connection established\r\n\r\n")
        _tls_session(exchange)


# Each run in a process of its own: a client's TLS context is made once a process, from its environment.
_CLIENT = """
import asyncio, json, sys, time
import httpx2
from pyclann import AsyncChatClient, ChatClient, ClannError

url, token, session, loop, what = sys.argv[1:]
if loop == "uvloop":
    import uvloop
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
options = {"token": token, "max_retries": 0, "timeout": httpx2.Timeout(20, write=1)}

def failed(error, started):
    return [str(error).split(": ")[1].split(" ")[0], round(time.monotonic() - started)]

def calls(chat):
    if what == "get":
        return [chat.get_session(session).id for _ in range(2)]
    if what == "page":
        return [len(m.content) for m in chat.list_messages_page(session).data]
    if what == "post":
        return [chat.append_message(session, "user", "hi").content for _ in range(2)]
    started = time.monotonic()
    try:
        chat.append_message(session, "user", "y" * 30_000_000)
    except ClannError as error:
        return failed(error, started)

async def async_calls(chat):
    if what == "get":
        return [(await chat.get_session(session)).id for _ in range(2)]
    if what == "page":
        return [len(m.content) for m in (await chat.list_messages_page(session)).data]
    if what == "post":
        return [(await chat.append_message(session, "user", "hi")).content for _ in range(2)]
    started = time.monotonic()
    try:
        await chat.append_message(session, "user", "y" * 30_000_000)
    except ClannError as error:
        return failed(error, started)

async def run():
    async with AsyncChatClient(url, **options) as chat:
        return await async_calls(chat)

with ChatClient(url, **options) as chat:
    found = {"sync": calls(chat)}
found["async"] = asyncio.run(run())
print(json.dumps(found))
"""


def _client(url: str, what: str, loop: str = "asyncio", trusted: bool = True, **environ: str) -> Any:
    """`_CLIENT` doing `what` against `url` on `loop`, with no proxy but those given; what it found."""
    environment = {k: v for k, v in os.environ.items() if not k.upper().startswith(("SSL_CERT", "HTTP", "NO_PROXY"))}
    environment.update(environ, **({"SSL_CERT_FILE": str(TLS / "server.pem")} if trusted else {}))
    ran = subprocess.run(
        [sys.executable, "-c", _CLIENT, url, TOKEN, SESSION_ID, loop, what],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        check=False,
    )
    if not trusted:
        return ran.stderr
    assert ran.returncode == 0, ran.stderr
    return json.loads(ran.stdout)


def _https(server: Server) -> str:
    return server.url.replace("http://", "https://")


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
@pytest.mark.parametrize("route", ["direct", "through a proxy's CONNECT tunnel"])
def test_tls_trusts_what_ssl_cert_file_names(route: str, loop: str) -> None:
    handle = _tls_session if route == "direct" else _tunnel
    with Server(handle) as server:
        if route == "direct":
            found = _client(_https(server), "get", loop)
        else:  # the URL is never reached but through the tunnel
            found = _client("https://127.0.0.1:9", "get", loop, HTTPS_PROXY=server.url)
        assert found == {"sync": [SESSION_ID] * 2, "async": [SESSION_ID] * 2}
        assert server.connections == 2  # one a client: each kept its connection alive


def test_without_ssl_cert_file_the_test_certificate_is_not_trusted() -> None:
    # So that the test above shows the variable's doing, not a client that trusts anything.
    with Server(_tls_session) as server:
        said = _client(_https(server), "get", trusted=False)
    assert "TLS certificate verification failed" in said


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_over_tls_a_body_of_megabytes_is_read_whole_though_the_server_then_closes(loop: str) -> None:
    # Reading pauses while the body waits to be read. Paused above TLS, uvloop kept the rest inside its TLS
    # layer, and dropped it when the server closed without TLS's close_notify, as this one does.
    page = message_page([message(n, content="x" * 100_000) for n in range(12)])

    def handle(exchange: Exchange) -> None:
        sock = start_tls(exchange, tls_context())
        if sock is not None:
            with sock:
                exchange.read_request()
                exchange.send(response(200, page))

    with Server(handle) as server:
        assert _client(_https(server), "page", loop) == {"sync": [100_000] * 12, "async": [100_000] * 12}


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_over_tls_a_write_returns_once_sent_not_once_the_server_answers(loop: str) -> None:
    # With TLS's write buffer limit at 0, asyncio's and uvloop's TLS paused writing on every other write though
    # nothing was buffered: a request's body then waited for the server's answer, and failed as a WriteTimeout
    # when the server took longer than the write timeout to answer.
    def handle(exchange: Exchange) -> None:
        sock = start_tls(exchange, tls_context())
        if sock is not None:
            with sock:
                while exchange.read_request():
                    exchange.wait(1.2)  # longer than the write timeout
                    exchange.send(_kept_alive(201, message(1, role="user", content="hi", session=SESSION_ID)))

    with Server(handle) as server:
        assert _client(_https(server), "post", loop) == {"sync": ["hi"] * 2, "async": ["hi"] * 2}


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_over_tls_a_write_the_server_never_reads_ends_by_the_write_timeout(loop: str) -> None:
    # TLS hands its records to the connection's own transport, whose buffer took all 30 MB: the write
    # returned at once, and only the attempt's 20 s ended it.
    def handle(exchange: Exchange) -> None:
        sock = start_tls(exchange, tls_context())
        if sock is not None:
            with sock:
                exchange.wait(10)  # for each client, in turn

    with Server(handle) as server:
        assert _client(_https(server), "unread", loop) == {"sync": ["WriteTimeout", 1], "async": ["WriteTimeout", 1]}


# Another event loop ------------------------------------------------------------------------------


def test_under_trio_the_async_client_works_through_anyios_sockets(clann_server: DevServer) -> None:
    # asyncio's transports need asyncio's loop: under trio, the client's sockets are anyio's, as httpx2's are.
    token = clann_server.tokens["alice"]

    async def run() -> tuple[int, str]:
        async with AsyncChatClient(clann_server.url, token=token) as chat:
            session = await chat.create_session("Under trio", "alice")
            await chat.append_message(session, "user", "Hello")
            messages = await chat.list_messages(session)
        async with AsyncChatClient(refused_url(), token=token, max_retries=0) as chat:
            try:
                await chat.get_session(session)
            except ClannConnectionError as error:
                return len(messages), str(error)
        return len(messages), ""

    found, refused = trio.run(run)
    assert found == 1
    assert "ConnectError" in refused  # anyio words it "All connection attempts failed"
