"""Hypothesis throws arbitrary responses at every method: each call returns a valid model or raises a ClannError.

Issue 12's promise, tried broadly: nothing but a ClannError leaves the SDK,
whatever the status, body, encoding or headers of the answer.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import re
import zlib
from datetime import UTC, datetime
from typing import Any

import httpx2
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from pyclann import (
    MESSAGE_TABLE,
    AsyncChatClient,
    ChatClient,
    ChatMessage,
    ChatSession,
    ClannError,
    MessagePage,
    RecordId,
    SessionPage,
)
from pyclann.testing import instant_retries
from tests.helpers import BASE, KWARGS, MESSAGE, METHODS, SESSION, TOKEN, call, session_page

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
field_values = st.one_of(
    st.none(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(),
    st.text(max_size=40),
    st.sampled_from(
        [
            "2026-11-26T09:00:00Z",
            "2026-11-26T09:00:00",
            "2026-02-30T00:00:00Z",
            "0001-01-01T00:00:00+23:59",
            "2026-W48-4T09:00:00Z",
            "chat_session:../../admin",
            "chat_message:01JDXV3C5Z0K8Y8T6W3M2Q9R4N",
            "tool",
            "",
        ]
    ),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


@st.composite
def mutated_record(draw: st.DrawFn, record: dict[str, Any]) -> dict[str, Any]:
    """A real record with some fields dropped, nulled or replaced by anything, and extra fields added."""
    result = dict(record)
    for name in record:
        action = draw(st.sampled_from(["keep"] * 8 + ["drop", "replace"]))
        if action == "drop":
            del result[name]
        elif action == "replace":
            result[name] = draw(field_values)
    result.update(draw(st.dictionaries(st.text(max_size=8), json_values, max_size=2)))
    return result


def as_body(value: object) -> bytes:
    return json.dumps(value, allow_nan=True).encode()


@st.composite
def pages(draw: st.DrawFn, method: str) -> dict[str, Any]:
    """A page of the method's records, mutated, with its fields sometimes wrong."""
    sessions = "sessions" in method
    record = SESSION if sessions else MESSAGE
    items = draw(st.lists(mutated_record(record), max_size=3))
    page: dict[str, Any]
    if sessions:
        page = session_page(items, draw(st.none() | st.text(max_size=8)))
    else:
        last = draw(st.sampled_from([items[-1].get("id") if items else None, None, "x"]))
        page = {"data": items, "has_more": draw(st.booleans()), "first_id": None, "last_id": last}
    for name in list(page):
        if draw(st.integers(0, 9)) == 0:
            page[name] = draw(field_values)
    return page


@st.composite
def bodies(draw: st.DrawFn, method: str) -> bytes:
    """Mostly the method's own answer shape, mutated; then anything at all."""
    _, _, valid_value = METHODS[method]
    valid = as_body(valid_value)
    if method.startswith(("list_", "iter_")):
        own = pages(method)
    else:
        own = mutated_record(SESSION if "session" in method else MESSAGE)
    body: bytes = draw(
        st.one_of(
            own.map(as_body),
            own.map(as_body),
            st.just(valid),
            json_values.map(as_body),
            st.integers(min_value=0, max_value=len(valid)).map(lambda n: valid[:n]),
            st.just(b"<html><body><h1>502 Bad Gateway</h1></body></html>"),
            st.just(b""),
            st.binary(max_size=64),
            st.integers(min_value=1, max_value=5000).map(lambda depth: b"[" * depth + b"]" * depth),
            st.just(b'{"id": 1e999999}'),
            st.just(b'[{"a": ' + b"9" * 5000 + b"}]"),
        )
    )
    return body


CONTENT_TYPES = ["application/json", "application/problem+json", "text/html", "application/octet-stream", None]
ENCODINGS = [None, None, None, "gzip", "deflate", "br", "identity", "gzip, gzip", "x-gzip"]


def encode(body: bytes, encoding: str | None, mangle: bool) -> bytes:
    if encoding in ("gzip", "x-gzip"):
        body = gzip.compress(body)
    elif encoding == "deflate":
        body = zlib.compress(body)
    return body[: len(body) // 2] if mangle else body


def answers(method: str) -> st.SearchStrategy[tuple[Any, ...]]:
    success = METHODS[method][1]
    statuses = st.one_of(
        st.just(success),
        st.just(success),
        st.sampled_from([200, 201, 204, 400, 401, 403, 404, 409, 410, 413, 422, 429, 500, 502, 503]),
        st.integers(100, 599),
    )
    header_text = st.text(max_size=20).map(lambda text: text.encode("utf-8", "surrogatepass"))
    return st.tuples(
        statuses,
        bodies(method),
        st.sampled_from(CONTENT_TYPES),
        st.one_of(
            st.none(),
            header_text,
            st.integers(-5, 100).map(lambda n: str(n).encode()),
            st.just(b"Wed, 21 Oct 2015 99:28:00 GMT"),
        ),
        st.one_of(st.none(), header_text),
        st.sampled_from(ENCODINGS),
        st.booleans(),
        st.sampled_from([None, b"true", b"false", b"maybe"]),
    )


def check_model(value: object) -> None:
    if isinstance(value, SessionPage | MessagePage):
        # A page pyclann returned resumes where pyclann accepts it back.
        if isinstance(value, SessionPage):
            assert value.next_cursor is None or re.fullmatch(r"[A-Za-z0-9_-]{1,200}", value.next_cursor)
        elif value.next_after is not None:
            assert str(RecordId.parse(value.next_after, MESSAGE_TABLE)) == value.next_after
    items = value if isinstance(value, list | SessionPage | MessagePage) else [value]
    for item in items:
        assert isinstance(item, ChatSession | ChatMessage)
        stamps = [item.created_at] + ([item.updated_at] if isinstance(item, ChatSession) else [])
        assert all(isinstance(s, datetime) and s.tzinfo is UTC for s in stamps)
        strings = (
            ("id", "title", "created_by") if isinstance(item, ChatSession) else ("id", "session", "role", "content")
        )
        assert all(isinstance(getattr(item, name), str) for name in strings)
        # A record pyclann returned must be one pyclann accepts back.
        assert type(item).from_dict(item.to_dict()) == item


def transport_for(answer: tuple[Any, ...]) -> httpx2.MockTransport:
    status, body, content_type, retry_after, request_id, encoding, mangle, should_retry = answer
    headers = [
        (name, value)
        for name, value in [
            (b"Content-Type", content_type.encode() if content_type else None),
            (b"Retry-After", retry_after),
            (b"X-Request-Id", request_id),
            (b"Content-Encoding", encoding.encode() if encoding else None),
            (b"x-should-retry", should_retry),
        ]
        if value is not None
    ]
    content = encode(body, encoding, mangle)

    def handler(request: httpx2.Request) -> httpx2.Response:
        if status < 200:  # httpx2 cannot return an informational status as a final response
            raise httpx2.RemoteProtocolError("informational status as final response", request=request)
        return httpx2.Response(status, headers=headers, stream=httpx2.ByteStream(content))

    return httpx2.MockTransport(handler)


def outcome(method: str, result: object) -> None:
    # `pytest --hypothesis-show-statistics` shows how the examples split between these.
    event(type(result).__name__ if isinstance(result, ClannError) else "returned")
    if isinstance(result, ClannError):
        assert TOKEN not in str(result)
    elif method == "delete_session":
        assert result is None
    else:
        check_model(result)


FUZZ = settings(deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))


def fuzz(examples: int) -> settings:
    return settings(FUZZ, max_examples=examples)


def answered(client: ChatClient | AsyncChatClient, method: str) -> None:
    """Call `method` once, and check that what came back is a model or a ClannError."""
    args, _, _ = METHODS[method]
    try:
        with instant_retries():
            result: object = asyncio.run(call(client, method, *args, **KWARGS.get(method, {})))
    except ClannError as error:
        result = error
    outcome(method, result)


@pytest.mark.parametrize("method", METHODS)
@fuzz(100)
@given(data=st.data())
def test_any_response_gives_a_model_or_a_clann_error(method: str, data: st.DataObject) -> None:
    transport = transport_for(data.draw(answers(method)))
    answered(ChatClient(BASE, token=TOKEN, max_retries=1, http_client=httpx2.Client(transport=transport)), method)


@pytest.mark.parametrize("method", METHODS)
@fuzz(30)
@given(data=st.data())
def test_any_response_gives_the_async_client_a_model_or_a_clann_error(method: str, data: st.DataObject) -> None:
    transport = transport_for(data.draw(answers(method)))
    http = httpx2.AsyncClient(transport=transport)
    answered(AsyncChatClient(BASE, token=TOKEN, max_retries=1, http_client=http), method)
