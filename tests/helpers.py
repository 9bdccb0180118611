"""Shared test helpers: canned v1 records and pages, and clients over httpx2.MockTransport."""

from __future__ import annotations

import inspect
import json
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2

from pyclann import AsyncChatClient, AsyncRawChatClient, ChatClient, RawChatClient

BASE = "http://clann.test"
TOKEN = "secret-token-6f1d2c"
ULID = "01JDXV3C5Z0K8Y8T6W3M2Q9R4N"
SESSION_ID = f"chat_session:{ULID}"
MESSAGE_ULID = "01JDXV3C5Z0K8Y8T6W3M2Q9R4P"
MESSAGE_ID = f"chat_message:{MESSAGE_ULID}"
SESSION: dict[str, Any] = {
    "id": SESSION_ID,
    "title": "Planning",
    "created_by": "alice",
    "tree": None,
    "created_at": "2026-11-26T09:00:00.000001Z",
    "updated_at": "2026-11-26T09:05:00Z",
}
MESSAGE: dict[str, Any] = {
    "id": MESSAGE_ID,
    "session": SESSION_ID,
    "role": "user",
    "content": "Hello",
    "created_at": "2026-11-26T09:05:00Z",
}


def ulid(n: int) -> str:
    """The n-th of a run of distinct, ascending ULIDs."""
    return f"01JDXV3C5Z0K8Y8T6W{n:08d}"


def session(n: int, **fields: Any) -> dict[str, Any]:
    """The n-th of a run of sessions in a listing's order: most recently updated first, as n grows."""
    updated = (datetime(2026, 11, 26, 10, 0, tzinfo=UTC) - timedelta(seconds=n)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {**SESSION, "id": f"chat_session:{ulid(n)}", "title": f"session {n}", "updated_at": updated, **fields}


def message(n: int, **fields: Any) -> dict[str, Any]:
    return {**MESSAGE, "id": f"chat_message:{ulid(n)}", "content": f"message {n}", **fields}


def session_page(sessions: list[dict[str, Any]], cursor: str | None = None) -> dict[str, Any]:
    """A page of sessions; `cursor` given means another page follows."""
    return {"data": sessions, "has_more": cursor is not None, "next_cursor": cursor}


def message_page(messages: list[dict[str, Any]], has_more: bool = False) -> dict[str, Any]:
    return {
        "data": messages,
        "has_more": has_more,
        "first_id": messages[0]["id"] if messages else None,
        "last_id": messages[-1]["id"] if messages else None,
    }


# Each method: how to call it, the status that means success, and a body for that status.
METHODS: dict[str, tuple[tuple[Any, ...], int, Any]] = {
    "list_sessions": (("alice",), 200, session_page([SESSION])),
    "iter_sessions": (("alice",), 200, session_page([SESSION])),
    "list_sessions_page": (("alice",), 200, session_page([SESSION])),
    "create_session": (("Planning", "alice"), 201, SESSION),
    "get_session": ((SESSION_ID,), 200, SESSION),
    "update_session": ((SESSION_ID,), 200, SESSION),  # with title="Renamed": see call_kwargs
    "delete_session": ((SESSION_ID,), 204, None),
    "list_messages": ((SESSION_ID,), 200, message_page([MESSAGE])),
    "iter_messages": ((SESSION_ID,), 200, message_page([MESSAGE])),
    "list_messages_page": ((SESSION_ID,), 200, message_page([MESSAGE])),
    "append_message": ((SESSION_ID, "user", "Hello"), 201, MESSAGE),
    "get_message": ((SESSION_ID, MESSAGE_ID), 200, MESSAGE),
}
KWARGS: dict[str, dict[str, Any]] = {"update_session": {"title": "Renamed"}}
WRITES = ["create_session", "update_session", "delete_session", "append_message"]
READS = [name for name in METHODS if name not in WRITES]
# One method for each code path a call goes through: a failure table is tested once per path, and
# tests/test_routing.py checks that every method of both clients and both raw views takes its path.
PATHS: dict[str, str] = {
    "read": "get_session",
    "write": "append_message",
    "listing": "list_messages",
    "walk": "iter_messages",
}
# The methods that take a session_id first, and the arguments after it.
SESSION_METHODS: dict[str, tuple[Any, ...]] = {
    name: args[1:] for name, (args, _, _) in METHODS.items() if args and args[0] == SESSION_ID
}


def respond(status: int, body: Any = None, headers: dict[str, str] | None = None) -> httpx2.Response:
    """A response as the server would send it: JSON for success, problem+json for errors."""
    headers = {"X-Request-Id": "req-1", **(headers or {})}
    if body is None:
        return httpx2.Response(status, headers=headers)
    if isinstance(body, bytes):
        return httpx2.Response(status, content=body, headers=headers)
    media = "application/json" if status < 400 else "application/problem+json"
    return httpx2.Response(status, content=json.dumps(body).encode(), headers={"Content-Type": media, **headers})


def problem(status: int, detail: str, kind: str = "x", **extra: Any) -> dict[str, Any]:
    return {
        "type": f"tag:clann.dev,2026:problem/{kind}",
        "title": "x",
        "status": status,
        "detail": detail,
        **extra,
    }


def success(method: str, headers: dict[str, str] | None = None) -> httpx2.Response:
    """The answer that means `method` worked."""
    _, status, body = METHODS[method]
    return respond(status, body, headers)


class Chunks(httpx2.SyncByteStream, httpx2.AsyncByteStream):
    """A response body that httpx2 streams instead of reading at once, as it does a real one's."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self.chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        yield from self.chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk


Step = httpx2.Response | Exception | Callable[[httpx2.Request], httpx2.Response]


class Recorder:
    """A MockTransport handler that records every request and answers from a script.

    Each request takes the next step; the last step answers every request after it.
    A step is a response, an exception to raise, or a function of the request.
    """

    def __init__(self, *responses: Step) -> None:
        self.script = list(responses)
        self.requests: list[httpx2.Request] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        step = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if isinstance(step, Exception):
            raise step
        if callable(step):
            return step(request)
        if step.is_stream_consumed:
            # A response object is sent once, so each answer is a copy: steps may be shared by tests
            # and repeated. Its content is already decoded, so the copy drops Content-Encoding.
            skip = (b"content-encoding", b"content-length")
            headers = [(k, v) for k, v in step.headers.raw if k.lower() not in skip]
            return httpx2.Response(step.status_code, headers=headers, content=step.content)
        return step

    @property
    def keys(self) -> list[str | None]:
        """The Idempotency-Key each request sent."""
        return [request.headers.get("Idempotency-Key") for request in self.requests]


def sync_client(recorder: Recorder, **kwargs: Any) -> ChatClient:
    return ChatClient(BASE, token=TOKEN, http_client=httpx2.Client(transport=httpx2.MockTransport(recorder)), **kwargs)


def async_client(recorder: Recorder, **kwargs: Any) -> AsyncChatClient:
    transport = httpx2.MockTransport(recorder)
    return AsyncChatClient(BASE, token=TOKEN, http_client=httpx2.AsyncClient(transport=transport), **kwargs)


MakeClient = Callable[..., ChatClient | AsyncChatClient]


def owned_client(
    cls: type[ChatClient] | type[AsyncChatClient], recorder: Recorder, **kwargs: Any
) -> ChatClient | AsyncChatClient:
    """A client that made its own httpx2 client, as without http_client=, whose transport is then a mock."""
    client = cls(BASE, token=TOKEN, **kwargs)
    client._http._transport = httpx2.MockTransport(recorder)
    return client


async def call(
    client: ChatClient | AsyncChatClient | RawChatClient | AsyncRawChatClient, method: str, *args: Any, **kwargs: Any
) -> Any:
    """Call a method of either client (or its raw view), awaiting it if it is async; an iterator is walked to a list."""
    result = getattr(client, method)(*args, **kwargs)
    if isinstance(result, AsyncIterator):
        return [item async for item in result]
    if inspect.isawaitable(result):
        return await result
    if isinstance(result, Iterator):
        return list(result)
    return result


async def invoke(client: ChatClient | AsyncChatClient, method: str, **extra: Any) -> Any:
    """Call `method` of either client with the arguments METHODS and KWARGS give it."""
    args, _, _ = METHODS[method]
    return await call(client, method, *args, **KWARGS.get(method, {}), **extra)


async def close(client: ChatClient | AsyncChatClient) -> None:
    if isinstance(client, AsyncChatClient):
        await client.aclose()
    else:
        client.close()
