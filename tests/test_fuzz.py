"""Hypothesis throws arbitrary responses at every method: each call returns a valid model or raises a ClannError."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from pyclann import ChatClient, ChatMessage, ChatSession, ClannError
from tests.helpers import BASE, MESSAGE, METHODS, SESSION, TOKEN

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
    st.sampled_from(["2026-11-26T09:00:00Z", "2026-11-26T09:00:00", "2026-02-30T00:00:00Z", "tool", ""]),
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


def as_body(value: Any) -> bytes:
    return json.dumps(value, allow_nan=True).encode()


RECORDS = {"list_sessions": SESSION, "create_session": SESSION, "list_messages": MESSAGE, "append_message": MESSAGE}


@st.composite
def bodies(draw: st.DrawFn, method: str) -> bytes:
    """Mostly the method's own record shape, mutated; then anything at all."""
    record = RECORDS.get(method, SESSION)
    listing = method.startswith("list_")
    own = st.lists(mutated_record(record), max_size=4) if listing else mutated_record(record)
    valid = as_body([record, record] if listing else record)
    return draw(
        st.one_of(
            own.map(as_body),
            own.map(as_body),
            st.just(valid),
            st.lists(st.one_of(mutated_record(SESSION), mutated_record(MESSAGE)), max_size=3).map(as_body),
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


CONTENT_TYPES = ["application/json", "application/problem+json", "text/html", "application/octet-stream", None]


def answers(method: str) -> st.SearchStrategy[tuple[Any, ...]]:
    success = METHODS[method][1]
    statuses = st.one_of(
        st.just(success),
        st.just(success),
        st.sampled_from([200, 201, 204, 400, 401, 403, 404, 409, 422, 429, 500, 502, 503]),
        st.integers(100, 599),
    )
    return st.tuples(
        statuses,
        bodies(method),
        st.sampled_from(CONTENT_TYPES),
        st.one_of(st.none(), st.text(max_size=12), st.integers(-5, 5).map(str)),
        st.one_of(st.none(), st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=20)),
    )


def check_model(value: Any) -> None:
    items = value if isinstance(value, list) else [value]
    for item in items:
        assert isinstance(item, ChatSession | ChatMessage)
        stamps = [item.created_at] + ([item.updated_at] if isinstance(item, ChatSession) else [])
        assert all(isinstance(s, datetime) and s.tzinfo is not None for s in stamps)
        strings = (
            ("id", "title", "created_by") if isinstance(item, ChatSession) else ("id", "session", "role", "content")
        )
        assert all(isinstance(getattr(item, name), str) for name in strings)


@pytest.mark.parametrize("method", METHODS)
@settings(max_examples=1000, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_any_response_gives_a_model_or_a_clann_error(method: str, data: st.DataObject) -> None:
    status, body, content_type, retry_after, request_id = data.draw(answers(method))
    # Bytes: a server may send any octets in a header, not only ASCII.
    headers = {
        name: value.encode("utf-8")
        for name, value in [("Content-Type", content_type), ("Retry-After", retry_after), ("X-Request-Id", request_id)]
        if value is not None
    }

    def handler(request: httpx.Request) -> httpx.Response:
        if status < 200:  # httpx cannot return an informational status as a final response
            raise httpx.RemoteProtocolError("informational status as final response", request=request)
        return httpx.Response(status, headers=headers, content=body)

    client = ChatClient(
        BASE, token=TOKEN, max_retries=1, http_client=httpx.Client(transport=httpx.MockTransport(handler))
    )
    client._sleep = lambda seconds: None
    args, _, _ = METHODS[method]
    try:
        result = getattr(client, method)(*args)
    except ClannError as error:
        result = error
    # `pytest --hypothesis-show-statistics` shows how the examples split between these.
    event(type(result).__name__ if isinstance(result, ClannError) else "returned")
    if isinstance(result, ClannError):
        assert TOKEN not in str(result)
    elif method == "delete_session":
        assert result is None
    else:
        check_model(result)
