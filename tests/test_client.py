"""ChatClient and AsyncChatClient over httpx.MockTransport: every method, every status."""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

import pyclann
from pyclann import (
    AsyncChatClient,
    ChatClient,
    ChatMessage,
    ChatSession,
    ClannAPIError,
    ClannAuthError,
    ClannBadRequestError,
    ClannConfigError,
    ClannConflictError,
    ClannError,
    ClannInvalidIdError,
    ClannNotFoundError,
    ClannPermissionError,
    ClannRateLimitError,
    ClannResponseError,
    ClannServerError,
    ClannUnprocessableError,
    Role,
)
from tests.helpers import BASE, MESSAGE, METHODS, SESSION, SESSION_ID, TOKEN, ULID, Recorder, call, problem, respond

STATUS_ERRORS = {
    400: ClannBadRequestError,
    401: ClannAuthError,
    403: ClannPermissionError,
    404: ClannNotFoundError,
    405: ClannAPIError,
    409: ClannConflictError,
    418: ClannAPIError,
    422: ClannUnprocessableError,
    429: ClannRateLimitError,
    500: ClannServerError,
    502: ClannServerError,
    503: ClannServerError,
    504: ClannServerError,
}


@pytest.mark.parametrize("method", METHODS)
async def test_success_returns_pyclann_models(make_client: Any, method: str) -> None:
    args, status, body = METHODS[method]
    recorder = Recorder(respond(status, body))
    result = await call(make_client(recorder), method, *args)
    expected = {
        "list_sessions": list,
        "create_session": ChatSession,
        "delete_session": type(None),
        "list_messages": list,
        "append_message": ChatMessage,
    }[method]
    assert isinstance(result, expected)
    if isinstance(result, list):
        assert all(type(item) in (ChatSession, ChatMessage) for item in result)
    assert len(recorder.requests) == 1


async def test_session_fields_are_parsed(make_client: Any) -> None:
    [session] = await call(make_client(Recorder(respond(200, [SESSION]))), "list_sessions", "alice")
    assert session == ChatSession(
        id=SESSION_ID,
        title="Planning",
        created_by="alice",
        tree=None,
        created_at=datetime(2026, 11, 26, 9, 0, 0, 1, tzinfo=UTC),
        updated_at=datetime(2026, 11, 26, 9, 5, tzinfo=UTC),
    )
    with pytest.raises(AttributeError):
        session.title = "changed"  # type: ignore[misc]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("status", sorted(STATUS_ERRORS))
async def test_every_error_status_raises_its_typed_error(make_client: Any, method: str, status: int) -> None:
    args, _, _ = METHODS[method]
    body = problem(status, f"what went wrong ({status})")
    recorder = Recorder(respond(status, body, {"X-Request-Id": "req-42", "Retry-After": "0"}))
    with pytest.raises(STATUS_ERRORS[status]) as caught:
        await call(make_client(recorder, max_retries=0), method, *args)
    error = caught.value
    assert type(error) is STATUS_ERRORS[status]
    assert error.status_code == status
    assert error.detail == f"what went wrong ({status})"
    assert error.request_id == "req-42"
    assert json.loads(error.body) == body
    assert error.problem == body
    assert str(error).endswith(f": what went wrong ({status}) (request id req-42)")


async def test_error_message_reads_well(make_client: Any) -> None:
    detail = f"chat session {ULID} does not exist"
    recorder = Recorder(respond(404, problem(404, detail), {"X-Request-Id": "01JREQ"}))
    with pytest.raises(ClannNotFoundError) as caught:
        await call(make_client(recorder), "delete_session", SESSION_ID)
    assert str(caught.value) == f"404 Not Found: chat session {ULID} does not exist (request id 01JREQ)"


async def test_422_lists_the_offending_fields(make_client: Any) -> None:
    fields = [{"field": "role", "message": "must be one of user, assistant, system, got 'tool'"}]
    recorder = Recorder(respond(422, problem(422, "the request body does not match the schema", errors=fields)))
    with pytest.raises(ClannUnprocessableError) as caught:
        await call(make_client(recorder), "append_message", SESSION_ID, "tool", "x")
    assert caught.value.errors == fields


async def test_429_carries_retry_after(make_client: Any) -> None:
    recorder = Recorder(respond(429, problem(429, "slow down"), {"Retry-After": "7"}))
    with pytest.raises(ClannRateLimitError) as caught:
        await call(make_client(recorder, max_retries=0), "list_sessions", "alice")
    assert caught.value.retry_after == 7.0


@pytest.mark.parametrize(
    ("status", "body", "content_type", "says"),
    [
        (502, b"<html><body>Bad Gateway</body></html>", "text/html", "HTML page"),
        (404, b"", None, "no body"),
        (404, b"not json at all", "application/problem+json", "unexpected response body: not json at all"),
        (401, b'["a", "list"]', "application/problem+json", "unexpected response body"),
        (403, b'{"detail": 42}', "application/problem+json", "unexpected response body"),
        (500, b"\xff\xfe\x00garbage", "application/octet-stream", "unexpected response body"),
        (400, b"[" * 100_000 + b"]" * 100_000, "application/problem+json", "unexpected response body"),
    ],
)
async def test_unreadable_error_bodies_still_raise_by_status(
    make_client: Any, status: int, body: bytes, content_type: str | None, says: str
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    with pytest.raises(STATUS_ERRORS[status]) as caught:
        await call(make_client(Recorder(respond(status, body, headers)), max_retries=0), "list_sessions", "alice")
    assert says in caught.value.detail
    assert caught.value.status_code == status


@pytest.mark.parametrize(
    ("method", "body", "says"),
    [
        ("list_sessions", b"", "not JSON"),
        ("list_sessions", b"<html>", "not JSON"),
        ("list_sessions", b'{"not": "a list"}', "expected a JSON array, got dict"),
        ("list_sessions", json.dumps([SESSION, {**SESSION, "title": None}]).encode(), "item 1: field 'title' must be"),
        ("create_session", json.dumps({**SESSION, "created_at": "yesterday"}).encode(), "'created_at' is not an RFC"),
        ("create_session", json.dumps({**SESSION, "created_at": "2026-11-26T09:00:00"}).encode(), "no UTC offset"),
        ("create_session", json.dumps({k: v for k, v in SESSION.items() if k != "id"}).encode(), "'id' is missing"),
        ("create_session", json.dumps({**SESSION, "tree": 3}).encode(), "'tree' must be a string or null"),
        ("create_session", b"null", "expected a chat session object, got null"),
        ("list_messages", json.dumps([{**MESSAGE, "content": 5}]).encode(), "'content' must be a string, got int"),
        ("append_message", b'{"id": "x"', "not JSON"),
        ("append_message", b"[" * 100_000 + b"]" * 100_000, "not JSON"),
    ],
)
async def test_a_success_whose_body_breaks_the_contract_is_a_response_error(
    make_client: Any, method: str, body: bytes, says: str
) -> None:
    args, status, _ = METHODS[method]
    with pytest.raises(ClannResponseError) as caught:
        await call(make_client(Recorder(respond(status, body))), method, *args)
    assert says in caught.value.detail
    assert caught.value.status_code == status
    assert caught.value.request_id == "req-1"


async def test_an_unexpected_success_status_is_a_response_error(make_client: Any) -> None:
    with pytest.raises(ClannResponseError, match="expected status 201"):
        await call(make_client(Recorder(respond(200, MESSAGE))), "append_message", SESSION_ID, "user", "x")


async def test_unknown_role_and_unknown_fields_still_return_the_message(make_client: Any) -> None:
    body = [MESSAGE, {**MESSAGE, "role": "tool", "tool_call_id": "abc", "extra": {"nested": [1]}}]
    messages = await call(make_client(Recorder(respond(200, body))), "list_messages", SESSION_ID)
    assert [m.role for m in messages] == [Role.USER, "tool"]
    assert messages[0].role is Role.USER
    assert type(messages[1].role) is str


@pytest.mark.parametrize(
    "session_id",
    [
        SESSION_ID,
        ULID,
        ULID.lower(),
        SESSION_ID.lower(),
        f"chat_session:⟨{ULID}⟩",
        f"chat_session:`{ULID}`",
        f"CHAT_SESSION:{ULID}",
    ],
)
async def test_every_accepted_id_form_hits_the_same_path(make_client: Any, session_id: str) -> None:
    recorder = Recorder(respond(200, []))
    await call(make_client(recorder), "list_messages", session_id)
    assert recorder.requests[0].url.raw_path.decode() == f"/api/chat/sessions/{ULID}/messages"


async def test_a_chat_session_object_is_accepted(make_client: Any) -> None:
    session = pyclann.models.parse_session(SESSION)
    recorder = Recorder(respond(204))
    await call(make_client(recorder), "delete_session", session)
    assert recorder.requests[0].url.path == f"/api/chat/sessions/{ULID}"


BAD_IDS = [
    "",
    "   ",
    None,
    42,
    f" {SESSION_ID}",
    f"chat_message:{ULID}",
    f"user:{ULID}",
    ULID[:-1],
    ULID + "A",
    "8" + ULID[1:],
    "01JDXV3C5Z0K8Y8T6W3M2Q9R4U",
    f"{ULID}/messages",
    f"../{ULID}",
    f"{ULID}?x=1",
    f"{ULID}#frag",
    "..",
    f"chat_session:{ULID}:extra",
    f"chat_session:⟨{ULID}`",
]


@pytest.mark.parametrize("bad", BAD_IDS)
@pytest.mark.parametrize("method", ["delete_session", "list_messages", "append_message"])
async def test_a_bad_id_raises_before_any_request(make_client: Any, method: str, bad: Any) -> None:
    recorder = Recorder(respond(500))
    args = (bad, "user", "x") if method == "append_message" else (bad,)
    with pytest.raises(ClannInvalidIdError) as caught:
        await call(make_client(recorder), method, *args)
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, ClannError)
    assert "accepted:" in str(caught.value) or "str" in str(caught.value)
    if isinstance(bad, str) and bad.strip():
        assert repr(bad) in str(caught.value)
    assert recorder.requests == []


@pytest.mark.parametrize(
    ("method", "args", "says"),
    [
        ("list_sessions", (None,), "created_by must be a str"),
        ("list_sessions", ("alice", 5), "tree must be a str or None"),
        ("create_session", (b"title", "alice"), "title must be a str"),
        ("append_message", (SESSION_ID, Role.USER, None), "content must be a str"),
        ("append_message", (SESSION_ID, 1, "x"), "role must be a str"),
    ],
)
async def test_wrong_argument_types_raise_before_any_request(
    make_client: Any, method: str, args: tuple[Any, ...], says: str
) -> None:
    recorder = Recorder(respond(500))
    with pytest.raises(TypeError, match=says):
        await call(make_client(recorder), method, *args)
    assert recorder.requests == []


async def test_requests_match_the_contract(make_client: Any) -> None:
    recorder = Recorder(respond(200, []), respond(201, SESSION), respond(201, MESSAGE), respond(204))
    client = make_client(recorder)
    await call(client, "list_sessions", "alice", tree="oak")
    await call(client, "create_session", "Planning", "alice", tree="oak")
    await call(client, "append_message", ULID, Role.ASSISTANT, " exact  text\n")
    await call(client, "delete_session", ULID)
    listing, create, append, delete = recorder.requests
    assert (listing.method, listing.url.path, dict(listing.url.params)) == (
        "GET",
        "/api/chat/sessions",
        {"created_by": "alice", "tree": "oak"},
    )
    assert json.loads(create.content) == {"title": "Planning", "created_by": "alice", "tree": "oak"}
    assert json.loads(append.content) == {"role": "assistant", "content": " exact  text\n"}
    assert (delete.method, delete.url.path) == ("DELETE", f"/api/chat/sessions/{ULID}")
    for request in recorder.requests:
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        assert request.headers["User-Agent"] == f"pyclann/{pyclann.__version__}"
    assert create.headers["Idempotency-Key"] != append.headers["Idempotency-Key"]
    assert "Idempotency-Key" not in listing.headers


async def test_tree_none_sends_no_tree(make_client: Any) -> None:
    recorder = Recorder(respond(200, []), respond(201, SESSION))
    client = make_client(recorder)
    await call(client, "list_sessions", "alice")
    await call(client, "create_session", "T", "alice")
    assert "tree" not in recorder.requests[0].url.params
    assert "tree" not in json.loads(recorder.requests[1].content)


def test_configuration_falls_back_to_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLANN_BASE_URL", "http://from-env.test/")
    monkeypatch.setenv("CLANN_TOKEN", "env-token")
    recorder = Recorder(respond(200, []))
    with ChatClient(http_client=httpx.Client(transport=httpx.MockTransport(recorder))) as client:
        client.list_sessions("alice")
    assert str(recorder.requests[0].url).startswith("http://from-env.test/api/chat/sessions")
    assert recorder.requests[0].headers["Authorization"] == "Bearer env-token"


@pytest.mark.parametrize("cls", [ChatClient, AsyncChatClient])
def test_no_base_url_is_a_clear_error_at_construction(cls: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLANN_BASE_URL", raising=False)
    with pytest.raises(ClannConfigError, match="CLANN_BASE_URL"):
        cls(token=TOKEN)


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        ({"base_url": "ftp://x"}, "http:// or https://"),
        ({"base_url": "not a url"}, "http:// or https://"),
        ({"base_url": "http://[::1"}, "http:// or https://"),
        ({"base_url": BASE, "token": "has space"}, "visible ASCII"),
        ({"base_url": BASE, "token": "naïve-token"}, "visible ASCII"),
        ({"base_url": BASE, "max_retries": -1}, "max_retries"),
    ],
)
def test_bad_configuration_is_refused(kwargs: dict[str, Any], says: str) -> None:
    with pytest.raises(ClannConfigError, match=says) as caught:
        ChatClient(**kwargs)
    assert "has space" not in str(caught.value)
    assert "naïve" not in str(caught.value)


def test_repr_shows_the_base_url_never_the_token() -> None:
    client = ChatClient(BASE + "/", token=TOKEN)
    assert repr(client) == f"ChatClient(base_url='{BASE}')"
    assert TOKEN not in str(client)
    client.close()


def test_a_callers_http_client_keeps_the_bearer_and_is_not_closed() -> None:
    recorder = Recorder(respond(200, []))
    own = httpx.Client(transport=httpx.MockTransport(recorder), headers={"X-Mine": "1"})
    with ChatClient(BASE, token=TOKEN, http_client=own) as client:
        client.list_sessions("alice")
    assert recorder.requests[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert recorder.requests[0].headers["X-Mine"] == "1"
    assert not own.is_closed


async def test_the_default_timeout_is_finite_and_settable(make_client: Any) -> None:
    recorder = Recorder(respond(200, []))
    await call(make_client(recorder), "list_sessions", "alice")
    assert recorder.requests[0].extensions["timeout"] == {"connect": 5.0, "read": 30.0, "write": 30.0, "pool": 30.0}
    recorder = Recorder(respond(200, []))
    await call(make_client(recorder, timeout=2.5), "list_sessions", "alice")
    assert recorder.requests[0].extensions["timeout"]["read"] == 2.5


async def test_an_owned_client_closes_on_exit() -> None:
    async with AsyncChatClient(BASE, token=TOKEN) as client:
        http = client._http
    assert http.is_closed
    with ChatClient(BASE, token=TOKEN) as sync:
        sync_http = sync._http
    assert sync_http.is_closed


async def test_debug_logging_names_the_call_never_the_token(make_client: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    await call(make_client(Recorder(respond(200, []))), "list_sessions", "alice")
    ours = [r.getMessage() for r in caplog.records if r.name == "pyclann"]
    assert ours == ["GET /api/chat/sessions -> 200 (request id req-1)"]
    assert TOKEN not in caplog.text


def test_no_token_sends_no_authorization(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLANN_TOKEN", raising=False)
    recorder = Recorder(respond(401, problem(401, "a bearer token is required")))
    client = ChatClient(BASE, http_client=httpx.Client(transport=httpx.MockTransport(recorder)))
    with pytest.raises(ClannAuthError, match="a bearer token is required"):
        client.list_sessions("alice")
    assert "Authorization" not in recorder.requests[0].headers
    assert os.environ.get("CLANN_TOKEN") is None
