"""One page at a time: list_sessions_page, list_messages_page, and walks resumed from what a page says resumes it."""

from __future__ import annotations

import inspect
import pickle

import msgspec
import pytest

from pyclann import (
    ChatMessage,
    ChatSession,
    ClannBadRequestError,
    ClannInvalidArgumentError,
    ClannInvalidIdError,
    ClannResponseError,
    MessagePage,
    RawResponse,
    SessionPage,
)
from pyclann.testing import DevServer
from tests.helpers import (
    SESSION_ID,
    MakeClient,
    Recorder,
    async_client,
    call,
    message,
    message_page,
    respond,
    session,
    session_page,
    ulid,
)


async def _awaited(value: object) -> object:
    """`value`, awaited if it can be."""
    return await value if inspect.isawaitable(value) else value


CURSOR = "MjAyNi0xMS0yNlQxMDowMDowMFp8MDFKRFhWM0M1WjBLOFk4VDZXMDAwMDAwMDI"


async def test_a_sessions_page_holds_its_sessions_has_more_and_the_next_cursor(make_client: MakeClient) -> None:
    recorder = Recorder(respond(200, session_page([session(1, tree="oak"), session(2, tree="oak")], CURSOR)))
    page = await call(make_client(recorder), "list_sessions_page", "alice", "oak", page_size=2)
    assert type(page) is SessionPage
    assert [s.title for s in page.data] == ["session 1", "session 2"]
    assert (page.has_more, page.has_next_page(), page.next_cursor) == (True, True, CURSOR)
    assert [dict(r.url.params) for r in recorder.requests] == [{"created_by": "alice", "tree": "oak", "limit": "2"}]


async def test_a_sessions_page_asked_with_a_cursor_sends_it_and_the_last_page_has_none(make_client: MakeClient) -> None:
    recorder = Recorder(respond(200, session_page([session(3)])))
    page = await call(make_client(recorder), "list_sessions_page", "alice", cursor=CURSOR)
    assert recorder.requests[0].url.params["cursor"] == CURSOR
    assert (page.has_more, page.has_next_page(), page.next_cursor) == (False, False, None)


async def test_a_messages_page_holds_its_messages_and_resumes_after_its_last(make_client: MakeClient) -> None:
    recorder = Recorder(respond(200, message_page([message(2), message(3)], has_more=True)))
    after = ChatMessage.from_dict(message(1))
    page = await call(make_client(recorder), "list_messages_page", SESSION_ID, after=after, page_size=2)
    assert type(page) is MessagePage
    assert [m.content for m in page.data] == ["message 2", "message 3"]
    assert (page.has_more, page.has_next_page()) == (True, True)
    assert (page.first_id, page.last_id) == (f"chat_message:{ulid(2)}", f"chat_message:{ulid(3)}")
    assert page.next_after == page.last_id
    assert page.after == after.id
    assert dict(recorder.requests[0].url.params) == {"limit": "2", "after": ulid(1)}


async def test_an_empty_messages_page_resumes_where_it_was_asked_not_from_the_start(make_client: MakeClient) -> None:
    recorder = Recorder(respond(200, message_page([])))
    page = await call(make_client(recorder), "list_messages_page", SESSION_ID, after=ulid(7).lower())
    assert (len(page), page.has_more, page.first_id, page.last_id) == (0, False, None, None)
    assert page.next_after == f"chat_message:{ulid(7)}", "the after asked with, as a full ID"


@pytest.mark.parametrize(
    "cursor",
    ["", "has space", "a/b", "a=", "é", "x" * 201, "a\nb"],
    ids=["empty", "space", "slash", "padding", "non-ascii", "too-long", "newline"],
)
@pytest.mark.parametrize("method", ["list_sessions_page", "iter_sessions"])
async def test_a_cursor_that_is_not_a_cursor_is_refused_before_sending(
    make_client: MakeClient, method: str, cursor: str
) -> None:
    recorder = Recorder(respond(200, session_page([session(1)])))
    client = make_client(recorder)
    # An iterator raises when called, as for a bad page_size: `call` would advance it, so it is not used.
    refused = getattr(client, method) if method == "iter_sessions" else lambda *a, **k: call(client, method, *a, **k)
    with pytest.raises(ClannInvalidArgumentError, match=r"cursor must be a page's next_cursor.*nothing was sent"):
        await _awaited(refused("alice", cursor=cursor))
    assert recorder.requests == []


async def test_a_cursor_of_another_type_is_a_type_error(make_client: MakeClient) -> None:
    recorder = Recorder(respond(200, session_page([session(1)])))
    with pytest.raises(TypeError, match="cursor must be a str or None, got int"):
        await call(make_client(recorder), "list_sessions_page", "alice", cursor=7)
    assert recorder.requests == []


@pytest.mark.parametrize("after", ["", "not-an-id", SESSION_ID, f"chat_message:{ulid(1)}x"])
async def test_an_after_that_is_not_a_message_id_is_refused_before_sending(make_client: MakeClient, after: str) -> None:
    recorder = Recorder(respond(200, message_page([])))
    with pytest.raises(ClannInvalidIdError, match="after"):
        await call(make_client(recorder), "list_messages_page", SESSION_ID, after=after)
    assert recorder.requests == []


async def test_iter_sessions_resumes_a_walk_from_a_pages_cursor(make_client: MakeClient) -> None:
    first = Recorder(respond(200, session_page([session(1), session(2)], CURSOR)))
    page = await call(make_client(first), "list_sessions_page", "alice", page_size=2)
    rest = Recorder(
        respond(200, session_page([session(3), session(4)], "next-2")),
        respond(200, session_page([session(5)])),
    )
    sessions = await call(make_client(rest), "iter_sessions", "alice", page_size=2, cursor=page.next_cursor)
    assert [s.title for s in sessions] == ["session 3", "session 4", "session 5"]
    assert [r.url.params.get("cursor") for r in rest.requests] == [CURSOR, "next-2"]


async def test_a_page_whose_next_cursor_is_not_a_cursor_is_refused(make_client: MakeClient) -> None:
    # pyclann hands out only a cursor it would take back: else the next call would refuse it.
    recorder = Recorder(respond(200, session_page([session(1)], "not a cursor")))
    with pytest.raises(ClannResponseError, match="field 'next_cursor' must be a cursor"):
        await call(make_client(recorder), "list_sessions_page", "alice")


async def test_the_raw_page_methods_return_the_page_with_its_response() -> None:
    recorder = Recorder(
        respond(200, session_page([session(1)], CURSOR), {"X-Request-Id": "req-s"}),
        respond(200, message_page([message(1)]), {"X-Request-Id": "req-m"}),
    )
    raw = async_client(recorder).with_raw_response
    sessions = await raw.list_sessions_page("alice")
    messages = await raw.list_messages_page(SESSION_ID)
    assert (type(sessions), type(sessions.parsed), sessions.request_id) == (RawResponse, SessionPage, "req-s")
    assert sessions.parsed.next_cursor == CURSOR
    assert (type(messages.parsed), messages.request_id, messages.status_code) == (MessagePage, "req-m", 200)


async def test_a_raw_iterators_pages_keep_the_next_cursor_and_still_read_as_their_records() -> None:
    recorder = Recorder(
        respond(200, session_page([session(1), session(2)], CURSOR)),
        respond(200, session_page([session(3)])),
    )
    pages = await call(async_client(recorder).with_raw_response, "iter_sessions", "alice", page_size=2)
    assert [page.parsed.next_cursor for page in pages] == [CURSOR, None]
    first = pages[0].parsed
    # What the raw pages' `parsed`, a list before, was used as: a sequence of the page's records.
    assert (len(first), first[0].title, [s.title for s in first], first[:1]) == (
        2,
        "session 1",
        ["session 1", "session 2"],
        (first.data[0],),
    )


async def test_a_raw_message_walks_pages_each_say_where_they_started() -> None:
    recorder = Recorder(
        respond(200, message_page([message(1), message(2)], has_more=True)),
        respond(200, message_page([message(3)])),
    )
    pages = await call(async_client(recorder).with_raw_response, "iter_messages", SESSION_ID, page_size=2)
    assert [(page.parsed.after, page.parsed.next_after) for page in pages] == [
        (None, f"chat_message:{ulid(2)}"),
        (f"chat_message:{ulid(2)}", f"chat_message:{ulid(3)}"),
    ]


def test_pages_are_immutable_records_that_pickle_and_convert_to_the_wire_form() -> None:
    sessions = SessionPage((ChatSession.from_dict(session(1)),), True, CURSOR)
    messages = MessagePage((ChatMessage.from_dict(message(1)),), False, None)
    for page in (sessions, messages):
        assert pickle.loads(pickle.dumps(page)) == page
        with pytest.raises(AttributeError):
            page.has_more = False  # type: ignore[misc]
    assert sessions.to_dict() == session_page([session(1)], CURSOR)
    assert messages.to_dict() == message_page([message(1)])
    assert msgspec.json.decode(msgspec.json.encode(sessions.to_dict()))["next_cursor"] == CURSOR


# Against the dev server: the cursor is all that carries a listing from one request to the next ------------


def test_a_load_more_resumes_from_the_cursor_alone_each_page_by_a_new_client(clann_server: DevServer) -> None:
    with clann_server.client("alice") as chat:
        made = [chat.create_session(f"s{n}", created_by="alice") for n in range(5)]
    titles: list[str] = []
    cursor: str | None = None
    for _ in range(len(made)):
        with clann_server.client("alice") as chat:  # a new process, for all the page knows
            page = chat.list_sessions_page("alice", cursor=cursor, page_size=2)
        titles += [s.title for s in page]
        cursor = pickle.loads(pickle.dumps(page)).next_cursor
        if not page.has_next_page():
            break
    assert titles == ["s4", "s3", "s2", "s1", "s0"]
    assert cursor is None
    with clann_server.client("alice") as chat:
        first = chat.list_sessions_page("alice", page_size=2)
        assert [s.title for s in chat.iter_sessions("alice", cursor=first.next_cursor)] == ["s2", "s1", "s0"]


def test_a_cursor_of_the_right_shape_the_server_never_gave_is_its_bad_request(clann_server: DevServer) -> None:
    with clann_server.client("alice") as chat, pytest.raises(ClannBadRequestError) as caught:
        chat.list_sessions_page("alice", cursor="bm90LWEtY3Vyc29y")
    assert caught.value.response is not None
    assert caught.value.response.request_id == caught.value.request_id is not None


def test_polling_with_next_after_sees_each_new_message_once(clann_server: DevServer) -> None:
    with clann_server.client("alice") as chat:
        session = chat.create_session("polled", created_by="alice")
        empty = chat.list_messages_page(session)
        assert (len(empty), empty.next_after) == (0, None)
        first = chat.append_message(session, "user", "one")
        page = chat.list_messages_page(session, after=empty.next_after)
        assert [m.id for m in page] == [first.id]
        idle = chat.list_messages_page(session, after=page.next_after)
        assert (len(idle), idle.next_after) == (0, first.id)
        second = chat.append_message(session, "assistant", "two")
        assert [m.id for m in chat.list_messages_page(session, after=idle.next_after)] == [second.id]
