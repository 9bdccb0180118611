"""Paged listings: list_* walk every page, iter_* fetch pages as they are needed, and a broken page stops the walk."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from pyclann import ChatMessage, ChatSession, ClannNotFoundError, ClannResponseError
from pyclann.testing import instant_retries
from tests.helpers import (
    SESSION_ID,
    ULID,
    MakeClient,
    Recorder,
    call,
    message,
    message_page,
    problem,
    respond,
    session,
    session_page,
    ulid,
)


async def take(iterator: Iterator[Any] | AsyncIterator[Any], n: int) -> list[Any]:
    """The first `n` items of a sync or async iterator, leaving the rest unread."""
    if isinstance(iterator, Iterator):
        return list(itertools.islice(iterator, n))
    taken = []
    async for item in iterator:
        taken.append(item)
        if len(taken) == n:
            break
    return taken


async def test_list_sessions_walks_every_page_with_the_previous_pages_cursor(make_client: MakeClient) -> None:
    recorder = Recorder(
        respond(200, session_page([session(1, tree="oak"), session(2, tree="oak")], "cursor-1")),
        respond(200, session_page([session(3, tree="oak")], "cursor-2")),
        respond(200, session_page([session(4, tree="oak")])),
    )
    sessions = await call(make_client(recorder), "list_sessions", "alice", "oak")
    assert [s.title for s in sessions] == ["session 1", "session 2", "session 3", "session 4"]
    assert all(type(s) is ChatSession for s in sessions)
    assert [dict(r.url.params) for r in recorder.requests] == [
        {"created_by": "alice", "tree": "oak", "limit": "100"},
        {"created_by": "alice", "tree": "oak", "limit": "100", "cursor": "cursor-1"},
        {"created_by": "alice", "tree": "oak", "limit": "100", "cursor": "cursor-2"},
    ]


async def test_list_messages_walks_every_page_after_the_previous_pages_last_message(make_client: MakeClient) -> None:
    recorder = Recorder(
        respond(200, message_page([message(1), message(2)], has_more=True)),
        respond(200, message_page([message(3)], has_more=True)),
        respond(200, message_page([])),
    )
    messages = await call(make_client(recorder), "list_messages", SESSION_ID)
    assert [m.content for m in messages] == ["message 1", "message 2", "message 3"]
    assert all(type(m) is ChatMessage for m in messages)
    afters = [r.url.params.get("after") for r in recorder.requests]
    assert afters == [None, ulid(2), ulid(3)], "the previous page's last_id, as its bare ULID"
    assert {r.url.params["limit"] for r in recorder.requests} == {"100"}


@pytest.mark.parametrize("method", ["iter_sessions", "iter_messages"])
async def test_an_iterator_sends_nothing_until_advanced_then_one_request_per_page(
    make_client: MakeClient, method: str
) -> None:
    if method == "iter_sessions":
        first: Any = session_page([session(i) for i in range(10)], "cursor-1")
        second: Any = session_page([session(10)])
        start: Any = "alice"
    else:
        first = message_page([message(i) for i in range(10)], has_more=True)
        second = message_page([message(10)])
        start = SESSION_ID
    recorder = Recorder(respond(200, first), respond(200, second))
    iterator = getattr(make_client(recorder), method)(start, page_size=10)
    assert recorder.requests == []
    assert len(await take(iterator, 5)) == 5
    assert len(recorder.requests) == 1, "five of a page of ten need one request"
    assert len(await take(iterator, 5)) == 5
    assert len(recorder.requests) == 1, "the page's last item needs no request either"
    assert len(await take(iterator, 5)) == 1
    assert len(recorder.requests) == 2
    assert recorder.requests[1].url.params["limit"] == "10"


async def test_iter_messages_after_starts_after_that_message_then_follows_last_id(make_client: MakeClient) -> None:
    recorder = Recorder(
        respond(200, message_page([message(5), message(6)], has_more=True)),
        respond(200, message_page([message(7)])),
    )
    after = message(4)["id"]
    messages = await call(make_client(recorder), "iter_messages", ULID, after=after, page_size=2)
    assert [m.content for m in messages] == ["message 5", "message 6", "message 7"]
    assert [r.url.params["after"] for r in recorder.requests] == [ulid(4), ulid(6)]


async def test_an_empty_listing_is_one_request_and_no_records(make_client: MakeClient) -> None:
    recorder = Recorder(respond(200, session_page([])))
    assert await call(make_client(recorder), "list_sessions", "alice") == []
    assert len(recorder.requests) == 1


async def test_a_failing_page_is_retried_with_the_same_cursor(make_client: MakeClient) -> None:
    recorder = Recorder(
        respond(200, session_page([session(1)], "cursor-1")),
        respond(503, problem(503, "busy")),
        respond(200, session_page([session(2)])),
    )
    with instant_retries():
        sessions = await call(make_client(recorder), "list_sessions", "alice")
    assert [s.title for s in sessions] == ["session 1", "session 2"]
    assert [r.url.params.get("cursor") for r in recorder.requests] == [None, "cursor-1", "cursor-1"]


async def test_an_error_on_a_later_page_is_raised_after_the_earlier_pages_records(make_client: MakeClient) -> None:
    recorder = Recorder(
        respond(200, message_page([message(1), message(2)], has_more=True)),
        respond(404, problem(404, "the session was deleted during the walk")),
    )
    iterator = make_client(recorder).iter_messages(SESSION_ID)
    assert len(await take(iterator, 2)) == 2
    with pytest.raises(ClannNotFoundError, match="deleted during the walk"):
        await take(iterator, 1)


# A server whose cursor does not advance would make the walk endless.


async def test_a_session_cursor_that_does_not_advance_stops_the_walk(make_client: MakeClient) -> None:
    recorder = Recorder(
        respond(200, session_page([session(1)], "cursor-1")),
        respond(200, session_page([session(2)], "cursor-1")),
        respond(200, session_page([session(3)])),
    )
    with pytest.raises(ClannResponseError, match="cursor did not advance") as caught:
        await call(make_client(recorder), "list_sessions", "alice")
    assert caught.value.status_code == 200
    assert len(recorder.requests) == 2


async def test_a_server_going_round_in_circles_stops_the_walk(make_client: MakeClient) -> None:
    # A, B, A, B...: no cursor repeats the one before it, yet the walk would never end.
    circle = [respond(200, session_page([session(n)], f"cursor-{'AB'[n % 2]}")) for n in range(6)]
    recorder = Recorder(*circle)
    with pytest.raises(ClannResponseError, match="cursor did not advance"):
        await call(make_client(recorder), "list_sessions", "alice")
    assert len(recorder.requests) == 3


async def test_a_message_page_that_ignores_after_stops_the_walk(make_client: MakeClient) -> None:
    # The same page again: its last_id is the `after` the request sent.
    same = message_page([message(1), message(2)], has_more=True)
    # Then a last page, so that a walk that did not stop ends instead of hanging the test.
    recorder = Recorder(respond(200, same), respond(200, same), respond(200, message_page([])))
    with pytest.raises(ClannResponseError, match="item 0 of 'data' repeats a message the walk has read"):
        await call(make_client(recorder), "list_messages", SESSION_ID)
    assert len(recorder.requests) == 2


# Page bodies that break the contract.

BROKEN_SESSION_PAGES: list[tuple[dict[str, Any], str]] = [
    ({"data": [session(1)], "has_more": True, "next_cursor": None}, "field 'next_cursor' must be a cursor"),
    ({"data": [session(1)], "has_more": True, "next_cursor": ""}, "field 'next_cursor' must be a cursor"),
    ({"data": [session(1)], "has_more": True}, "field 'next_cursor' must be a cursor when has_more is true"),
    ({"data": [session(1)], "has_more": "yes", "next_cursor": None}, "field 'has_more' must be a boolean"),
    ({"data": [session(1)], "next_cursor": None}, "field 'has_more' is missing"),
    ({"data": None, "has_more": False, "next_cursor": None}, "field 'data' must be an array, got null"),
    ({"has_more": False, "next_cursor": None}, "field 'data' is missing"),
]


@pytest.mark.parametrize(("body", "says"), BROKEN_SESSION_PAGES)
async def test_a_session_page_that_breaks_the_contract_names_the_field(
    make_client: MakeClient, body: dict[str, Any], says: str
) -> None:
    with pytest.raises(ClannResponseError, match=says):
        await call(make_client(Recorder(respond(200, body))), "list_sessions", "alice")


BROKEN_MESSAGE_PAGES: list[tuple[dict[str, Any], str]] = [
    ({**message_page([message(1), message(2)]), "last_id": message(1)["id"]}, "field 'last_id' must be the last"),
    ({**message_page([message(1)]), "last_id": None}, "field 'last_id' must be the last"),
    ({**message_page([]), "last_id": message(1)["id"]}, "field 'last_id' must be the last"),
    ({**message_page([message(1)]), "has_more": None}, "field 'has_more' must be a boolean"),
    (message_page([], has_more=True), "field 'has_more' is true on an empty page"),
]


@pytest.mark.parametrize(("body", "says"), BROKEN_MESSAGE_PAGES)
@pytest.mark.parametrize("method", ["list_messages", "iter_messages"])
async def test_a_message_page_that_breaks_the_contract_names_the_field(
    make_client: MakeClient, method: str, body: dict[str, Any], says: str
) -> None:
    recorder = Recorder(respond(200, body))
    with pytest.raises(ClannResponseError, match=says):
        await call(make_client(recorder), method, SESSION_ID)
    assert len(recorder.requests) == 1


# A walk moves forward: what a server repeats, reorders or mixes in stops it.


async def test_a_session_walk_whose_next_page_goes_back_stops(make_client: MakeClient) -> None:
    # A fresh cursor every time, and the same session every time: once, 5,000 items of one session.
    recorder = Recorder(*[respond(200, session_page([session(1)], f"cursor-{n}")) for n in range(5)])
    with pytest.raises(ClannResponseError, match="item 0 of 'data' repeats an earlier one"):
        await call(make_client(recorder), "list_sessions", "alice")
    assert len(recorder.requests) == 2


async def test_sessions_out_of_order_within_a_page_stop_the_walk(make_client: MakeClient) -> None:
    recorder = Recorder(respond(200, session_page([session(2), session(1)])))
    with pytest.raises(ClannResponseError, match="item 1 of 'data' is out of order, updated after the one before"):
        await call(make_client(recorder), "list_sessions", "alice")


@pytest.mark.parametrize(
    ("record", "tree"),
    [(session(1, created_by="mallory"), None), (session(1, tree="elm"), "oak")],
    ids=["user", "tree"],
)
async def test_a_session_not_asked_for_stops_the_walk(
    make_client: MakeClient, record: dict[str, Any], tree: str | None
) -> None:
    recorder = Recorder(respond(200, session_page([record])))
    with pytest.raises(ClannResponseError, match="not one of the sessions asked for"):
        await call(make_client(recorder), "list_sessions", "alice", tree)


async def test_a_message_page_that_starts_before_its_after_stops_the_walk(make_client: MakeClient) -> None:
    # Page 2 restarts at message 2: once, messages 2 and 3 came back twice.
    recorder = Recorder(
        respond(200, message_page([message(1), message(2), message(3)], has_more=True)),
        respond(200, message_page([message(2), message(3), message(4)])),
    )
    with pytest.raises(ClannResponseError, match="item 0 of 'data' repeats a message the walk has read"):
        await call(make_client(recorder), "list_messages", SESSION_ID)


async def test_a_message_of_another_session_in_a_listing_stops_the_walk(make_client: MakeClient) -> None:
    stranger = message(2, session=f"chat_session:{ulid(99)}")
    recorder = Recorder(respond(200, message_page([message(1), stranger])))
    with pytest.raises(ClannResponseError, match="item 1 of 'data': a message of 'chat_session:"):
        await call(make_client(recorder), "list_messages", SESSION_ID)


def at(n: int) -> str:
    """The n-th of a run of ascending times."""
    return f"2026-11-26T10:00:{n:02d}Z"


async def test_a_walk_takes_messages_whose_ids_do_not_grow_with_their_times(make_client: MakeClient) -> None:
    # IDs made on several machines need not sort as the server orders messages (by time, then ID).
    first = [message(9, created_at=at(1)), message(5, created_at=at(2))]
    recorder = Recorder(
        respond(200, message_page(first, has_more=True)), respond(200, message_page([message(3, created_at=at(3))]))
    )
    messages = await call(make_client(recorder), "list_messages", SESSION_ID)
    assert [m.content for m in messages] == ["message 9", "message 5", "message 3"]


async def test_a_walk_takes_sessions_whose_coarse_times_tie_in_any_id_order(make_client: MakeClient) -> None:
    # Times written to the second, ordered by the server to the microsecond: ties need not follow the IDs.
    tied = "2026-11-26T10:00:00Z"
    recorder = Recorder(
        respond(200, session_page([session(1, updated_at=tied), session(3, updated_at=tied)], "cursor-1")),
        respond(200, session_page([session(2, updated_at=tied)])),
    )
    sessions = await call(make_client(recorder), "list_sessions", "alice")
    assert [s.title for s in sessions] == ["session 1", "session 3", "session 2"]


MESSAGES_GOING_BACK: list[tuple[list[dict[str, Any]], list[dict[str, Any]], str]] = [
    (
        [message(1, created_at=at(1)), message(2, created_at=at(1))],
        [message(3, created_at=at(1)), message(1, created_at=at(1))],
        "item 1 of 'data' repeats a message the walk has read",
    ),
    (
        [message(1, created_at=at(2)), message(2, created_at=at(3))],
        [message(3, created_at=at(2))],
        "item 0 of 'data' is older than the previous page's last",
    ),
    ([message(1, created_at=at(1)), message(2, created_at=at(3)), message(3, created_at=at(2))], [], "item 2 of "),
    ([message(1), message(2), message(1)], [], "item 2 of 'data' repeats a message the walk has read"),
    (
        [message(1, created_at=at(1)), message(2, created_at=at(2))],
        [message(3, created_at=at(3)), message(1, created_at=at(3))],
        "item 1 of 'data' repeats a message the walk has read",
    ),
]


@pytest.mark.parametrize(
    ("first", "second", "says"), MESSAGES_GOING_BACK, ids=["repeat", "older", "order", "twice", "retimed"]
)
async def test_a_message_walk_that_repeats_or_goes_back_stops(
    make_client: MakeClient, first: list[dict[str, Any]], second: list[dict[str, Any]], says: str
) -> None:
    recorder = Recorder(respond(200, message_page(first, has_more=True)), respond(200, message_page(second)))
    with pytest.raises(ClannResponseError, match=says):
        await call(make_client(recorder), "list_messages", SESSION_ID)


async def test_a_walk_after_a_message_never_returns_that_message(make_client: MakeClient) -> None:
    # It is on the second page, later in time: the page's `after` was the first page's last.
    recorder = Recorder(
        respond(200, message_page([message(2, created_at=at(2))], has_more=True)),
        respond(200, message_page([message(3, created_at=at(3)), message(1, created_at=at(4))])),
    )
    with pytest.raises(ClannResponseError, match="item 1 of 'data' repeats a message the walk has read"):
        await call(make_client(recorder), "iter_messages", SESSION_ID, after=ulid(1))


async def test_a_session_walk_that_repeats_a_session_as_older_stops(make_client: MakeClient) -> None:
    recorder = Recorder(
        respond(200, session_page([session(1), session(2)], "cursor-1")),
        respond(200, session_page([session(3), session(1, updated_at="2026-11-26T09:00:00Z")])),
    )
    with pytest.raises(ClannResponseError, match="item 1 of 'data' repeats an earlier one"):
        await call(make_client(recorder), "list_sessions", "alice")


async def test_a_session_page_that_is_empty_yet_says_more_follow_stops_the_walk(make_client: MakeClient) -> None:
    # A fresh cursor each time and never a session: once, a walk that never ended nor yielded.
    recorder = Recorder(*[respond(200, session_page([], f"cursor-{n}")) for n in range(5)])
    with pytest.raises(ClannResponseError, match="field 'has_more' is true on an empty page"):
        await call(make_client(recorder), "list_sessions", "alice")
    assert len(recorder.requests) == 1
