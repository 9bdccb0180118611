"""A call's deadline: `total_timeout` bounds a whole `list_*` walk, `max_items` bounds what a walk reads.

Found by the third adversarial review (issue 22): each page of a walk got a fresh
budget, so `list_sessions(total_timeout=2)` returned after 7 s over 8 pages, and a
server that kept sending valid, ever-older pages held the call for ever while its
records piled up. The servers here are real sockets on 127.0.0.1 that serve valid
pages slowly, or without end; each ends its listing on its own after a while, so
that a regression fails (the walk returns instead of raising) rather than hangs.
No test asserts how long anything took.
"""

from __future__ import annotations

import threading
import time
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from pyclann import AsyncChatClient, ChatClient, ClannServerError, ClannTimeoutError
from tests.helpers import SESSION_ID, TOKEN, call, close, message, message_page, session, session_page, ulid
from tests.servers import Exchange, Server, response

LISTINGS = ["list_sessions", "list_messages"]
WALKS = ["iter_sessions", "iter_messages"]
ARGS = {"sessions": ("alice",), "messages": (SESSION_ID,)}


def of(method: str) -> str:
    return "sessions" if method.endswith("sessions") else "messages"


class Pages:
    """A listing of sessions or messages, each page older (sessions) or newer (messages) than the last.

    Every page says more follow, until `last` pages were served or `ends_after` seconds
    have passed since the first request: then one final page ends the listing.

    Attributes:
        queries: Each request's query parameters, in the order they came.
    """

    def __init__(
        self, kind: str, *, hold: float = 0.0, last: int | None = None, ends_after: float = 10.0, script: Any = None
    ) -> None:
        self.kind, self.hold, self.last, self.ends_after = kind, hold, last, ends_after
        self.script: dict[int, bytes] = script or {}
        self.queries: list[dict[str, str]] = []
        self.started: float | None = None
        self.served = 0
        self.lock = threading.Lock()

    def __call__(self, exchange: Exchange) -> None:
        request = exchange.read_request()
        if not request:  # the client gave up before sending (its deadline ran out while connecting)
            return
        target = request.split(b" ", 2)[1].decode()
        query = dict(parse_qsl(urlsplit(target).query))
        with self.lock:
            self.started = self.started or time.monotonic()
            index = len(self.queries)
            self.queries.append(query)
            scripted = self.script.get(index)
            if scripted is None:
                self.served += 1
            served = self.served
        if scripted is not None:
            exchange.send(scripted)
            return
        exchange.wait(self.hold)
        if exchange.stop.is_set():
            return
        more = time.monotonic() - self.started < self.ends_after and (self.last is None or served < self.last)
        limit = int(query["limit"])
        if self.kind == "sessions":
            start = int(query.get("cursor", "c1")[1:])
            records = [session(n) for n in range(start, start + limit)]
            body = session_page(records, f"c{start + limit}" if more else None)
        else:
            start = int(query["after"][-8:]) + 1 if "after" in query else 1
            body = message_page([message(n) for n in range(start, start + limit)], has_more=more)
        exchange.send(response(200, body))


def client_for(flavour: str, url: str, **options: Any) -> ChatClient | AsyncChatClient:
    cls = ChatClient if flavour == "sync" else AsyncChatClient
    return cls(url, token=TOKEN, **options)


@pytest.fixture(params=["sync", "async"])
def flavour(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def walk(flavour: str, url: str, method: str, *, options: dict[str, Any], **kwargs: Any) -> list[Any]:
    client = client_for(flavour, url, **options)
    try:
        result: list[Any] = await call(client, method, *ARGS[of(method)], **kwargs)
        return result
    finally:
        await close(client)


@pytest.mark.parametrize("method", LISTINGS)
async def test_total_timeout_bounds_a_whole_list_walk_of_slow_pages(flavour: str, method: str) -> None:
    # Ten pages, each well within the budget, together four times over it: each page getting a
    # fresh budget, the walk returned every record.
    pages = Pages(of(method), hold=0.4, last=10)
    with Server(pages) as server, pytest.raises(ClannTimeoutError):
        await walk(flavour, server.url, method, options={"total_timeout": 1.0, "max_retries": 0})
    assert len(pages.queries) < 10


@pytest.mark.parametrize("method", LISTINGS)
async def test_total_timeout_stops_a_list_walk_whose_pages_never_end(flavour: str, method: str) -> None:
    # Valid pages, at once, without end: only the call's deadline (or max_items) can stop the walk.
    with Server(Pages(of(method))) as server, pytest.raises(ClannTimeoutError, match=r"total_timeout \(0\.5 s\)"):
        await walk(flavour, server.url, method, options={"total_timeout": 0.5, "max_retries": 0})


@pytest.mark.parametrize("method", LISTINGS)
async def test_total_timeout_counts_the_retry_waits_of_every_page_of_a_list_walk(flavour: str, method: str) -> None:
    # The first page takes most of the budget; the second answers 503 with a Retry-After that,
    # waited for, would end after the call's deadline: it is not waited for.
    busy = response(503, {"status": 503, "title": "busy", "detail": "busy"}, {"Retry-After": "1"})
    pages = Pages(of(method), hold=0.6, last=2, script={1: busy})
    with Server(pages) as server, pytest.raises(ClannServerError, match=r"not retried: .*total_timeout"):
        await walk(flavour, server.url, method, options={"total_timeout": 1.5, "max_retries": 3})
    assert len(pages.queries) == 2


@pytest.mark.parametrize("method", WALKS)
async def test_total_timeout_bounds_each_page_of_an_iter_walk_not_the_walk(flavour: str, method: str) -> None:
    # As documented: an iterator's pages are fetched as the caller asks, and each is a call of its
    # own. Five pages, together over the budget, each within it: the walk ends, whole.
    pages = Pages(of(method), hold=0.3, last=5)
    with Server(pages) as server:
        records = await walk(flavour, server.url, method, options={"total_timeout": 1.0}, page_size=10)
    assert len(records) == 50 == len({record.id for record in records})


@pytest.mark.parametrize("method", [*LISTINGS, *WALKS])
async def test_max_items_bounds_a_walk_whose_pages_never_end(flavour: str, method: str) -> None:
    pages = Pages(of(method))
    with Server(pages) as server:
        records = await walk(flavour, server.url, method, options={}, max_items=250)
    assert [record.id.split(":")[1] for record in records] == [ulid(n) for n in range(1, 251)], "the first, in order"
    assert [int(query["limit"]) for query in pages.queries] == [100, 100, 50], "asks for no more than it keeps"


@pytest.mark.parametrize("method", [*LISTINGS, *WALKS])
async def test_max_items_over_what_the_listing_holds_returns_it_all(flavour: str, method: str) -> None:
    pages = Pages(of(method), last=2)
    with Server(pages) as server:
        records = await walk(flavour, server.url, method, options={}, max_items=1000)
    assert len(records) == 200
    assert len(pages.queries) == 2


async def test_total_timeout_given_for_one_call_bounds_a_whole_walk_through_the_raw_view(flavour: str) -> None:
    # Other doors to the same walk: a per-call total_timeout (with_options), and the raw view.
    pages = Pages("sessions", hold=0.4, last=10)
    with Server(pages) as server:
        client = client_for(flavour, server.url, max_retries=0)
        try:
            with pytest.raises(ClannTimeoutError):
                await call(client.with_options(total_timeout=1.0).with_raw_response, "list_sessions", "alice")
        finally:
            await close(client)
    assert len(pages.queries) < 10
