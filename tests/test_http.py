"""The httpx2 client a ChatClient makes for itself (pyclann._http): what httpx2.Client() would do, over its own sockets.

Its deadline on every socket operation is tested in test_timeouts (a dripping answer
is cut off on time); here, what it must keep of httpx2's own transport: the
environment's proxies, httpx2's exceptions, and sending and reading as usual.
"""

from __future__ import annotations

import threading
from pathlib import Path

import httpcore2
import httpx2
import pytest

from pyclann import ChatClient, ClannConnectionError
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


def test_a_call_goes_through_the_proxy_the_environment_names(monkeypatch: pytest.MonkeyPatch) -> None:
    proxy = Recording()
    with Server(proxy) as server:
        monkeypatch.setenv("HTTP_PROXY", server.url)
        with ChatClient("http://clann.test", token=TOKEN, max_retries=0) as chat:
            assert chat.get_session(SESSION_ID).id == SESSION["id"]
    # A proxy is sent the whole URL in the request line.
    assert proxy.heads[0].startswith(f"GET http://clann.test/api/chat/sessions/{SESSION_ID[13:]} ".encode())


def test_no_proxy_names_the_hosts_reached_directly(monkeypatch: pytest.MonkeyPatch) -> None:
    direct = Recording()
    with Server(direct) as server:
        monkeypatch.setenv("HTTP_PROXY", refused_url())  # a proxy that is never there
        monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
        with ChatClient(server.url, token=TOKEN, max_retries=0) as chat:
            assert chat.get_session(SESSION_ID).id == SESSION["id"]
    assert direct.heads[0].startswith(b"GET /api/chat/sessions/")


def test_a_refused_connection_is_httpx2s_connect_error() -> None:
    with ChatClient(refused_url(), token=TOKEN, max_retries=0) as chat, pytest.raises(ClannConnectionError) as caught:
        chat.get_session(SESSION_ID)
    # Mapped as httpx2's own transport maps it: httpx2's exception, httpcore2's as its cause.
    assert type(caught.value.__cause__) is httpx2.ConnectError
    assert isinstance(caught.value.__cause__.__cause__, httpcore2.ConnectError)


def test_keep_alive_serves_one_call_after_another() -> None:
    server_side = Recording()
    with Server(server_side) as server, ChatClient(server.url, token=TOKEN) as chat:
        for _ in range(3):
            assert chat.get_session(SESSION_ID).id == SESSION["id"]
        assert server.connections == 1
    assert len(server_side.heads) == 3


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
