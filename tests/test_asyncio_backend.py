"""The async client's own sockets (`pyclann._asyncio_backend`) where they once differed from anyio's.

Each test compares with, or states, what a stock `httpx2.AsyncClient()` does.
"""

from __future__ import annotations

import asyncio
import gc
import socket
import warnings
from typing import NoReturn

import httpx2
import pytest

from pyclann import AsyncChatClient, ClannConnectionError, ClannTimeoutError
from tests.helpers import SESSION, SESSION_ID, TOKEN
from tests.servers import Exchange, Server, response

pytestmark = pytest.mark.slow

_KEPT_ALIVE = response(200, SESSION).replace(b"Connection: close", b"Connection: keep-alive")


@pytest.fixture(autouse=True)
def no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def _not_reading(exchange: Exchange) -> None:
    exchange.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    exchange.wait(10)


def test_works_under_uvloop() -> None:
    uvloop = pytest.importorskip("uvloop")

    def handle(exchange: Exchange) -> None:
        while exchange.read_request():
            exchange.send(_KEPT_ALIVE)

    async def run() -> list[str]:
        async with AsyncChatClient(server.url, token=TOKEN, max_retries=0, timeout=5) as chat:
            return [(await chat.get_session(SESSION_ID)).id for _ in range(2)]

    with Server(handle) as server:
        runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
        with runner:
            assert runner.run(run()) == [SESSION_ID] * 2
        assert server.connections == 1


def test_the_write_timeout_bounds_the_whole_write_even_while_the_server_sends_bytes() -> None:
    # The server neither reads the body nor stops sending: a byte every 0.2 s of a header that never ends.
    def handle(exchange: Exchange) -> None:
        exchange.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        exchange.send(b"HTTP/1.1 200 OK\r\nX-Slow: ")
        exchange.drip(b"a" * 100, 0.2)

    async def run() -> None:
        async with AsyncChatClient(
            server.url, token=TOKEN, max_retries=0, timeout=httpx2.Timeout(8, write=0.5)
        ) as chat:
            await chat.append_message(SESSION_ID, "user", "x" * 10_000_000)

    with Server(handle) as server, pytest.raises(ClannTimeoutError, match=r"timed out: WriteTimeout \("):
        asyncio.run(run())


def test_a_tls_handshake_that_does_not_end_in_time_is_a_connect_timeout() -> None:
    # As anyio's: httpx2.ConnectTimeout, so ClannTimeoutError (asyncio's own says ConnectionAbortedError).
    async def run() -> None:
        async with AsyncChatClient(
            server.url.replace("http://", "https://"),
            token=TOKEN,
            max_retries=0,
            timeout=httpx2.Timeout(8, connect=0.5),
        ) as chat:
            await chat.get_session(SESSION_ID)

    with Server(_not_reading) as server, pytest.raises(ClannTimeoutError, match=r"timed out: ConnectTimeout \("):
        asyncio.run(run())


def test_a_connection_closed_with_unsent_bytes_is_closed_at_once() -> None:
    # A write cancelled (or timed out) against a server that does not read leaves bytes unsent: closing the
    # connection must still close its socket, as anyio's abort does, not leave it open until they are sent.
    async def run() -> None:
        async with AsyncChatClient(server.url, token=TOKEN, max_retries=0, timeout=8) as chat:
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.5):
                    await chat.append_message(SESSION_ID, "user", "x" * 10_000_000)

    with Server(_not_reading) as server, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        asyncio.run(run())
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []


def test_a_name_that_does_not_resolve_says_what_getaddrinfo_said(monkeypatch: pytest.MonkeyPatch) -> None:
    # As anyio's: "[Errno -2] Name or service not known", not os.strerror's "Unknown error -2".
    async def no_such_name(*args: object, **kwargs: object) -> NoReturn:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    async def run() -> None:
        monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", no_such_name)
        async with AsyncChatClient("http://clann.invalid", token=TOKEN, max_retries=0) as chat:
            await chat.get_session(SESSION_ID)

    with pytest.raises(ClannConnectionError, match=r"Name or service not known"):
        asyncio.run(run())
