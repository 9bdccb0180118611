"""The httpx2 clients pyclann's clients make for themselves (pyclann._transport and its async twin): as httpx2's own.

The sync client's deadline on every socket operation is tested in test_timeouts (a
dripping answer is cut off on time), and both clients' sockets on servers of their
own in test_sockets; here, what they must keep of httpx2's own transports: the
environment's NO_PROXY, httpx2's exceptions, and VCR.py's recording and replaying.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import httpcore2
import httpx2
import pytest

from pyclann import AsyncChatClient, ChatClient, ChatSession, ClannConnectionError
from pyclann.testing import DevServer
from tests.helpers import SESSION, SESSION_ID, TOKEN
from tests.servers import Exchange, Server, refused_url, response


class Recording:
    """Answers every request on a connection with the session, and keeps each request's head."""

    def __init__(self) -> None:
        self.heads: list[bytes] = []
        self.lock = threading.Lock()

    def __call__(self, exchange: Exchange) -> None:
        while request := exchange.read_request():
            with self.lock:
                self.heads.append(request.split(b"\r\n\r\n", 1)[0])
            exchange.send(response(200, SESSION).replace(b"Connection: close", b"Connection: keep-alive"))


@pytest.fixture(autouse=True)
def no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def test_no_proxy_names_the_hosts_reached_directly(monkeypatch: pytest.MonkeyPatch) -> None:
    direct = Recording()
    with Server(direct) as server:
        monkeypatch.setenv("HTTP_PROXY", refused_url())  # a proxy that is never there
        monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
        with ChatClient(server.url, token=TOKEN, max_retries=0) as chat:
            assert chat.get_session(SESSION_ID).id == SESSION["id"]
    assert direct.heads[0].startswith(b"GET /api/chat/sessions/")


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_refused_connection_is_httpx2s_connect_error(kind: str) -> None:
    def call() -> None:
        if kind == "sync":
            with ChatClient(refused_url(), token=TOKEN, max_retries=0) as chat:
                chat.get_session(SESSION_ID)
            return

        async def run() -> None:
            async with AsyncChatClient(refused_url(), token=TOKEN, max_retries=0) as chat:
                await chat.get_session(SESSION_ID)

        asyncio.run(run())

    with pytest.raises(ClannConnectionError) as caught:
        call()
    # Mapped as httpx2's own transport maps it: httpx2's exception, httpcore2's as its cause.
    assert type(caught.value.__cause__) is httpx2.ConnectError
    assert isinstance(caught.value.__cause__.__cause__, httpcore2.ConnectError)
    assert "refused" in str(caught.value)


def test_a_default_sync_client_is_recorded_and_replayed_by_vcr(clann_server: DevServer, tmp_path: Path) -> None:
    # VCR.py patches httpx2's own transport: pyclann's steps aside for it while a cassette is in use.
    import vcr

    cassette = str(tmp_path / "listing.yaml")
    token = clann_server.tokens["alice"]
    with vcr.use_cassette(cassette, record_mode="all"), ChatClient(clann_server.url, token=token) as chat:
        made = chat.create_session("Recorded", "alice")
    assert made.id in Path(cassette).read_text(encoding="utf-8")
    with vcr.use_cassette(cassette, record_mode="none"), ChatClient(clann_server.url, token=token) as chat:
        assert chat.create_session("Recorded", "alice") == made  # replayed: a second create would be another


def test_a_default_async_client_is_recorded_and_replayed_by_vcr(clann_server: DevServer, tmp_path: Path) -> None:
    import vcr

    cassette = str(tmp_path / "listing.yaml")
    token = clann_server.tokens["alice"]

    async def create() -> ChatSession:
        async with AsyncChatClient(clann_server.url, token=token) as chat:
            return await chat.create_session("Recorded", "alice")

    with vcr.use_cassette(cassette, record_mode="all"):
        made = asyncio.run(create())
    assert made.id in Path(cassette).read_text(encoding="utf-8")
    with vcr.use_cassette(cassette, record_mode="none"):
        assert asyncio.run(create()) == made  # replayed: a second create would be another
