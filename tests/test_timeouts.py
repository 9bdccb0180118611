"""Timeouts: `timeout` bounds an attempt as a whole, `total_timeout` a call; real sockets on 127.0.0.1.

A server that drips its body or holds its answer would hold a call whose timeout
bounded only each socket read. Each server here would finish in about 30 s, so a
regression fails (the call returns instead of raising) rather than hanging, and
the tests take well under a second when the timeouts work. No test asserts how
long anything took.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import httpx2
import pytest

from pyclann import DEFAULT_TIMEOUT, AsyncChatClient, ChatClient, ClannTimeoutError
from pyclann.testing import instant_retries
from tests.helpers import SESSION, SESSION_ID, TOKEN, MakeClient, Recorder, call, close, owned_client, success
from tests.servers import Exchange, Server, head, response

SESSION_JSON = json.dumps(SESSION).encode()


def drip(exchange: Exchange) -> None:
    """Headers at once, then the body one byte every 0.2 s: about 35 s for a whole session."""
    exchange.read_request()
    exchange.send(head(200, {"Content-Length": str(len(SESSION_JSON)), "Content-Type": "application/json"}))
    exchange.drip(SESSION_JSON, 0.2)


def hold(seconds: float) -> Callable[[Exchange], None]:
    """Read the request, say nothing for `seconds`, then answer."""

    def handle(exchange: Exchange) -> None:
        exchange.read_request()
        exchange.wait(seconds)
        if not exchange.stop.is_set():
            exchange.send(response(200, SESSION))

    return handle


async def get_session(client: ChatClient | AsyncChatClient) -> object:
    try:
        return await call(client, "get_session", SESSION_ID)
    finally:
        await close(client)


def client_for(kind: str, url: str, **options: object) -> ChatClient | AsyncChatClient:
    cls = ChatClient if kind == "sync" else AsyncChatClient
    return cls(url, token=TOKEN, **options)  # type: ignore[arg-type]


@pytest.fixture(params=["sync", "async"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_a_dripping_body_is_cut_off_by_the_attempts_timeout(kind: str) -> None:
    with Server(drip) as server:
        with pytest.raises(ClannTimeoutError, match=r"timed out: .*\b0\.5 s\b"):
            await get_session(client_for(kind, server.url, timeout=0.5, max_retries=0))
        assert server.connections == 1


def late_then_slow(exchange: Exchange) -> None:
    """Headers after 0.6 s, then the body's last eight bytes one every 0.1 s: whole at about 1.4 s."""
    exchange.read_request()
    exchange.wait(0.6)
    exchange.send(head(200, {"Content-Length": str(len(SESSION_JSON)), "Content-Type": "application/json"}))
    exchange.send(SESSION_JSON[:-8])
    exchange.drip(SESSION_JSON[-8:], 0.1)


async def test_the_attempts_time_runs_from_its_start_not_from_its_headers(kind: str) -> None:
    # Each wait is shorter than the timeout, and the body would be whole 0.8 s after its
    # headers: only a bound on the attempt as a whole, from its start, cuts it off.
    with Server(late_then_slow) as server, pytest.raises(ClannTimeoutError):
        await get_session(client_for(kind, server.url, timeout=1.0, max_retries=0))


def test_with_a_users_http_client_too_the_attempts_time_runs_from_its_start() -> None:
    # pyclann does not reach into a user's httpx2 client to bound its socket reads: here only
    # the body's deadline, counted from the attempt's start, can cut the attempt off.
    with Server(late_then_slow) as server, httpx2.Client() as http:
        client = ChatClient(server.url, token=TOKEN, http_client=http, timeout=1.0, max_retries=0)
        with pytest.raises(ClannTimeoutError):
            client.get_session(SESSION_ID)


class DrippingHeaders:
    """The headers' last 15 bytes one every 0.1 s, then the whole body; notes whether the client waited for them."""

    def __init__(self) -> None:
        self.headers_sent = threading.Event()

    def __call__(self, exchange: Exchange) -> None:
        exchange.read_request()
        whole = head(200, {"Content-Length": str(len(SESSION_JSON)), "Content-Type": "application/json"})
        exchange.send(whole[:-15])
        if exchange.drip(whole[-15:], 0.1):
            self.headers_sent.set()
            exchange.send(SESSION_JSON)


@pytest.mark.parametrize(
    ("kind", "users_http_client"),
    [
        ("sync", False),
        ("async", False),
        pytest.param(
            "sync",
            True,
            marks=pytest.mark.xfail(
                strict=True,
                reason="known: httpx2 bounds each socket read of the headers, not all of them, and pyclann"
                " shapes only an httpx2 client it made itself (pyclann._deadline); see the report",
            ),
        ),
        ("async", True),
    ],
)
async def test_dripping_headers_are_cut_off_by_the_attempts_timeout(kind: str, users_http_client: bool) -> None:
    server_side = DrippingHeaders()
    options: dict[str, Any] = {"timeout": 0.5, "max_retries": 0}
    if users_http_client:
        options["http_client"] = httpx2.Client() if kind == "sync" else httpx2.AsyncClient()
    with Server(server_side) as server, pytest.raises(ClannTimeoutError):
        await get_session(client_for(kind, server.url, **options))
    # Cut off at 0.5 s, the client never waited for the headers' last byte (sent at about 1.5 s).
    assert not server_side.headers_sent.is_set()


async def test_each_attempt_gets_the_whole_timeout_again(kind: str) -> None:
    with Server(drip) as server:
        with pytest.raises(ClannTimeoutError, match=r"\(after 2 attempts\)"), instant_retries() as waits:
            await get_session(client_for(kind, server.url, timeout=0.3, max_retries=1))
        assert server.connections == 2
        assert len(waits) == 1


async def test_a_server_that_never_answers_is_cut_off_by_the_timeout(kind: str) -> None:
    with Server(hold(30)) as server, pytest.raises(ClannTimeoutError):
        await get_session(client_for(kind, server.url, timeout=0.5, max_retries=0))


async def test_a_total_timeout_bounds_the_call_across_its_attempts(kind: str) -> None:
    with Server(drip) as server:
        with pytest.raises(ClannTimeoutError):
            await get_session(client_for(kind, server.url, timeout=20, total_timeout=0.5, max_retries=5))
        # The first attempt took the whole budget: no retry could start after it.
        assert server.connections == 1


def test_a_users_http_client_timeout_is_kept() -> None:
    """Issue 13: httpx2.Client(timeout=1) against a server that answers in 3 s raises, as the user asked."""
    with Server(hold(3)) as server, httpx2.Client(timeout=1) as http:
        client = ChatClient(server.url, token=TOKEN, http_client=http, max_retries=0)
        with pytest.raises(ClannTimeoutError, match=r"timed out: .*\b1 s\b"):
            client.get_session(SESSION_ID)


async def test_a_users_async_http_client_timeout_is_kept() -> None:
    with Server(hold(3)) as server:
        async with httpx2.AsyncClient(timeout=1) as http:
            client = AsyncChatClient(server.url, token=TOKEN, http_client=http, max_retries=0)
            with pytest.raises(ClannTimeoutError, match=r"timed out: .*\b1 s\b"):
                await client.get_session(SESSION_ID)


async def test_timeout_none_means_no_timeout(kind: str) -> None:
    with Server(hold(0.3)) as server:
        session = await get_session(client_for(kind, server.url, timeout=None, max_retries=0))
    assert session is not None


# What each request is told, over a mock transport.


async def test_the_default_timeout_is_30_s_with_5_s_to_connect(kind: str) -> None:
    recorder = Recorder(success("get_session"))
    await get_session(owned_client(ChatClient if kind == "sync" else AsyncChatClient, recorder))
    assert recorder.requests[0].extensions["timeout"] == {"connect": 5.0, "read": 30.0, "write": 30.0, "pool": 30.0}
    assert httpx2.Timeout(30.0, connect=5.0) == DEFAULT_TIMEOUT


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (2.5, {"connect": 2.5, "read": 2.5, "write": 2.5, "pool": 2.5}),
        (None, {"connect": None, "read": None, "write": None, "pool": None}),
        (httpx2.Timeout(4, connect=1), {"connect": 1, "read": 4, "write": 4, "pool": 4}),
    ],
)
async def test_the_timeout_given_is_the_one_each_request_gets(
    make_client: MakeClient, given: float | httpx2.Timeout | None, expected: dict[str, float | None]
) -> None:
    recorder = Recorder(success("get_session"))
    await call(make_client(recorder, timeout=given), "get_session", SESSION_ID)
    assert recorder.requests[0].extensions["timeout"] == expected


def test_a_users_client_timeout_is_used_unless_timeout_is_passed() -> None:
    recorder = Recorder(success("get_session"))
    own = httpx2.Client(timeout=1.5, transport=httpx2.MockTransport(recorder))
    ChatClient("http://clann.test", token=TOKEN, http_client=own).get_session(SESSION_ID)
    ChatClient("http://clann.test", token=TOKEN, http_client=own, timeout=7).get_session(SESSION_ID)
    assert [r.extensions["timeout"]["read"] for r in recorder.requests] == [1.5, 7]
    own.close()
