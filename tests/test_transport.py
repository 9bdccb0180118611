"""pyclann.transport: AsyncChatClient over aiohttp's connections (the aiohttp extra), as over httpx's own."""

from __future__ import annotations

import asyncio
import gzip
import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from pyclann import DEFAULT_TIMEOUT, AsyncChatClient, ClannConnectionError, ClannTimeoutError
from pyclann.devserver.server import running
from pyclann.transport import INSTALL_HINT, aiohttp_client
from tests.helpers import SESSION, TOKEN
from tests.servers import Exchange, Server, head

httpx_aiohttp = pytest.importorskip("httpx_aiohttp", reason="the aiohttp extra is not installed")


async def test_every_method_works_over_aiohttp(tmp_path: Path) -> None:
    with running(tmp_path / "chat.sqlite3", {"t-alice": "alice"}) as server:
        async with aiohttp_client() as http, AsyncChatClient(server.url, token="t-alice", http_client=http) as chat:
            assert isinstance(http._transport, httpx_aiohttp.AiohttpTransport)
            session = await chat.create_session("over aiohttp", "alice", tree="oak")
            written = await asyncio.gather(*(chat.append_message(session, "user", f"m{i}") for i in range(12)))
            walked = [m async for m in chat.iter_messages(session, page_size=5)]
            assert sorted(m.id for m in written) == [m.id for m in walked]
            assert await chat.list_messages(session.id) == walked
            assert await chat.get_message(session, walked[3]) == walked[3]
            renamed = await chat.update_session(session, title="renamed", tree=None)
            assert (renamed.title, renamed.tree) == ("renamed", None)
            assert [s.id async for s in chat.iter_sessions("alice")] == [session.id]
            assert await chat.get_session(session) == renamed
            await chat.delete_session(session)
            assert await chat.list_sessions("alice") == []


async def test_the_chat_client_leaves_the_aiohttp_client_open() -> None:
    async with aiohttp_client() as http:
        chat = AsyncChatClient("http://127.0.0.1:9", token=TOKEN, http_client=http)
        await chat.aclose()
        assert not http.is_closed


def _gzipped_session(exchange: Exchange) -> None:
    exchange.read_request()
    body = gzip.compress(json.dumps(SESSION).encode())
    exchange.send(head(200, {"Content-Encoding": "gzip", "Content-Length": str(len(body))}) + body)


async def test_a_compressed_body_comes_through_raw_and_is_read_by_pyclann() -> None:
    # aiohttp is told not to decompress: pyclann does, in bounded memory, as with httpx's own transport.
    with Server(_gzipped_session) as server:
        async with aiohttp_client() as http, AsyncChatClient(server.url, token=TOKEN, http_client=http) as chat:
            assert (await chat.get_session(SESSION["id"])).id == SESSION["id"]


def _silent(exchange: Exchange) -> None:
    exchange.read_request()
    exchange.wait(10)


async def test_an_attempt_is_bounded_by_the_timeout_as_over_httpx() -> None:
    with Server(_silent) as server:
        async with aiohttp_client() as http:
            chat = AsyncChatClient(server.url, token=TOKEN, http_client=http, timeout=0.3, max_retries=0)
            with pytest.raises(ClannTimeoutError):
                await chat.get_session(SESSION["id"])


def _answer_lost(exchange: Exchange) -> None:
    exchange.read_request()  # the request arrived, and may have been carried out; its answer never comes back


async def test_a_lost_answer_over_aiohttp_may_have_landed_as_over_httpx() -> None:
    # httpx-aiohttp raises ConnectTimeout for a connection dropped after the request was sent: once
    # read as "never reached the server", so a write that landed said "was not carried out".
    with Server(_answer_lost) as server:
        async with aiohttp_client() as http:
            chat = AsyncChatClient(server.url, token=TOKEN, http_client=http, max_retries=0)
            with pytest.raises(ClannConnectionError) as caught:
                await chat.append_message(SESSION["id"], "user", "hello", idempotency_key="k-1")
    assert not isinstance(caught.value, ClannTimeoutError)
    assert caught.value.may_have_landed is True
    assert "Server disconnected" in str(caught.value)


async def test_a_refused_connection_over_aiohttp_did_not_land() -> None:
    async with aiohttp_client() as http:
        chat = AsyncChatClient("http://127.0.0.1:9", token=TOKEN, http_client=http, max_retries=0)
        with pytest.raises(ClannConnectionError) as caught:
            await chat.append_message(SESSION["id"], "user", "hello", idempotency_key="k-2")
    assert caught.value.may_have_landed is False


def test_the_default_timeout_is_pyclanns_and_options_reach_httpx() -> None:
    limits = httpx.Limits(max_connections=7)
    http = aiohttp_client(limits=limits, headers={"X-Mine": "1"})
    assert http.timeout == DEFAULT_TIMEOUT
    assert http.headers["X-Mine"] == "1"
    assert http._transport.limits == limits  # type: ignore[attr-defined]
    assert aiohttp_client(timeout=2.5).timeout == httpx.Timeout(2.5)


def test_without_the_extra_it_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "httpx_aiohttp", None)
    with pytest.raises(ModuleNotFoundError, match="pyclann\\[aiohttp\\]") as caught:
        aiohttp_client()
    assert str(caught.value) == INSTALL_HINT


def test_importing_pyclann_does_not_import_aiohttp() -> None:
    code = "import pyclann, pyclann.transport, sys; print('aiohttp' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"
