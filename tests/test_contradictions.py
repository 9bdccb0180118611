"""Answers that contradict the request (issue 22): a 2xx record unlike what was asked, a 404 of a doubled path.

A created session whose `created_by` and `tree` did not match the request was
returned as the new session. The contract says what a write's record holds: the
owner, tree and title a session was created with; the title and tree an update
set; a message's session, role and content, kept exactly.
"""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from pyclann import ChatClient, ClannInvalidArgumentError, ClannNotFoundError, ClannResponseError
from pyclann.testing import instant_retries
from tests.helpers import (
    MESSAGE,
    SESSION,
    SESSION_ID,
    TOKEN,
    MakeClient,
    Recorder,
    call,
    problem,
    respond,
)

OTHER_SESSION = "chat_session:01JDXV3C5Z0K8Y8T6W3M2Q9R4Z"

# method, its arguments, the record answered, the field it contradicts.
CONTRADICTIONS: dict[str, tuple[str, tuple[Any, ...], dict[str, Any], dict[str, Any], str]] = {
    "create: another owner": (
        "create_session",
        ("Planning", "alice"),
        {},
        {**SESSION, "created_by": "bob"},
        "created_by",
    ),
    "create: another tree": ("create_session", ("Planning", "alice", "oak"), {}, {**SESSION, "tree": "elm"}, "tree"),
    "create: no tree, asked one": ("create_session", ("Planning", "alice", "oak"), {}, SESSION, "tree"),
    "create: a tree, asked none": ("create_session", ("Planning", "alice"), {}, {**SESSION, "tree": "oak"}, "tree"),
    "create: another title": ("create_session", ("Planning", "alice"), {}, {**SESSION, "title": "Other"}, "title"),
    "update: another title": ("update_session", (SESSION_ID,), {"title": "New"}, SESSION, "title"),
    "update: another tree": ("update_session", (SESSION_ID,), {"tree": "oak"}, {**SESSION, "tree": "elm"}, "tree"),
    "update: a tree not cleared": ("update_session", (SESSION_ID,), {"tree": None}, {**SESSION, "tree": "oak"}, "tree"),
    "append: another session": (
        "append_message",
        (SESSION_ID, "user", "Hello"),
        {},
        {**MESSAGE, "session": OTHER_SESSION},
        "session",
    ),
    "append: another role": (
        "append_message",
        (SESSION_ID, "user", "Hello"),
        {},
        {**MESSAGE, "role": "system"},
        "role",
    ),
    "append: other content": (
        "append_message",
        (SESSION_ID, "user", "Hello"),
        {},
        {**MESSAGE, "content": "Hi"},
        "content",
    ),
    "append: content trimmed": (
        "append_message",
        (SESSION_ID, "user", " Hello "),
        {},
        {**MESSAGE, "content": "Hello"},
        "content",
    ),
}


@pytest.mark.parametrize("case", CONTRADICTIONS.values(), ids=CONTRADICTIONS.keys())
@pytest.mark.parametrize("raw", [False, True], ids=["plain", "raw view"])
async def test_a_write_whose_record_contradicts_its_request_is_a_response_error(
    make_client: MakeClient, case: tuple[str, tuple[Any, ...], dict[str, Any], dict[str, Any], str], raw: bool
) -> None:
    method, args, kwargs, record, field = case
    recorder = Recorder(respond(201 if method != "update_session" else 200, record))
    client = make_client(recorder)
    view = client.with_raw_response if raw else client
    with pytest.raises(ClannResponseError) as caught, instant_retries():
        await call(view, method, *args, **kwargs)
    assert f"field {field!r}" in str(caught.value)
    assert caught.value.may_have_landed is True, "a 2xx: the server did the work, whatever it answered"
    assert len(recorder.requests) == 1, "a contract break is not retried: the replay would say the same"


AGREEING: dict[str, tuple[str, tuple[Any, ...], dict[str, Any], dict[str, Any]]] = {
    "create": ("create_session", ("Planning", "alice"), {}, SESSION),
    "create with a tree": ("create_session", ("Planning", "alice", "oak"), {}, {**SESSION, "tree": "oak"}),
    # An update that leaves the tree alone says nothing of it: the session keeps the tree it had.
    "update the title, a tree kept": (
        "update_session",
        (SESSION_ID,),
        {"title": "Planning"},
        {**SESSION, "tree": "oak"},
    ),
    "update clears the tree": ("update_session", (SESSION_ID,), {"tree": None}, SESSION),
    "append": ("append_message", (SESSION_ID, "user", "Hello"), {}, MESSAGE),
}


@pytest.mark.parametrize("case", AGREEING.values(), ids=AGREEING.keys())
async def test_a_write_whose_record_agrees_is_returned(
    make_client: MakeClient, case: tuple[str, tuple[Any, ...], dict[str, Any], dict[str, Any]]
) -> None:
    method, args, kwargs, record = case
    found = await call(
        make_client(Recorder(respond(201 if method != "update_session" else 200, record))), method, *args, **kwargs
    )
    assert found.to_dict() == record


@pytest.mark.parametrize(
    ("method", "args"),
    [("list_sessions", ("",)), ("iter_sessions", ("",)), ("create_session", ("Planning", ""))],
)
async def test_an_empty_owner_is_refused_before_sending(
    make_client: MakeClient, method: str, args: tuple[Any, ...]
) -> None:
    recorder = Recorder(respond(200, SESSION))
    with pytest.raises(ClannInvalidArgumentError, match="created_by must be a user's name, got an empty string"):
        await call(make_client(recorder), method, *args)
    assert recorder.requests == []


# A base URL that ends in the API's own prefix ---------------------------------------------------------

DOUBLED = {
    "ends in /api": ("http://clann.test/api", "http://clann.test", "/api"),
    "ends in /api/": ("http://clann.test/api/", "http://clann.test", "/api"),
    "ends in /api/chat": ("http://clann.test/api/chat", "http://clann.test", "/api/chat"),
    "a prefix of its own, then /api": ("http://clann.test/v2/api", "http://clann.test/v2", "/api"),
}


@pytest.mark.parametrize(("base", "fixed", "twice"), DOUBLED.values(), ids=DOUBLED.keys())
async def test_a_404_whose_path_doubles_the_base_urls_path_says_so(base: str, fixed: str, twice: str) -> None:
    recorder = Recorder(respond(404, problem(404, "no such resource")))
    chat = ChatClient(base, token=TOKEN, http_client=httpx2.Client(transport=httpx2.MockTransport(recorder)))
    with pytest.raises(ClannNotFoundError) as caught:
        chat.list_sessions("alice")
    said = str(caught.value)
    assert f"the base URL ends in {twice!r}" in said
    assert f"use base_url={fixed!r}" in said
    assert twice + "/api/chat/sessions" in recorder.requests[0].url.path


@pytest.mark.parametrize("base", ["http://clann.test", "http://clann.test/apis", "http://clann.test/chat"])
async def test_a_404_under_a_base_url_that_doubles_nothing_gives_no_hint(base: str) -> None:
    recorder = Recorder(respond(404, problem(404, "no such session")))
    chat = ChatClient(base, token=TOKEN, http_client=httpx2.Client(transport=httpx2.MockTransport(recorder)))
    with pytest.raises(ClannNotFoundError) as caught:
        chat.get_session(SESSION_ID)
    assert "base URL" not in str(caught.value)
