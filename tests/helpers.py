"""Shared test helpers: canned records and clients over httpx.MockTransport."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from pyclann import AsyncChatClient, ChatClient

BASE = "http://clann.test"
TOKEN = "secret-token-6f1d2c"
ULID = "01JDXV3C5Z0K8Y8T6W3M2Q9R4N"
SESSION_ID = f"chat_session:{ULID}"
SESSION = {
    "id": SESSION_ID,
    "title": "Planning",
    "created_by": "alice",
    "tree": None,
    "created_at": "2026-11-26T09:00:00.000001Z",
    "updated_at": "2026-11-26T09:05:00Z",
}
MESSAGE = {
    "id": "chat_message:01JDXV3C5Z0K8Y8T6W3M2Q9R4P",
    "session": SESSION_ID,
    "role": "user",
    "content": "Hello",
    "created_at": "2026-11-26T09:05:00Z",
}

# Each method: how to call it, the status that means success, and a body for that status.
METHODS: dict[str, tuple[tuple[Any, ...], int, Any]] = {
    "list_sessions": (("alice",), 200, [SESSION]),
    "create_session": (("Planning", "alice"), 201, SESSION),
    "delete_session": ((SESSION_ID,), 204, None),
    "list_messages": ((SESSION_ID,), 200, [MESSAGE]),
    "append_message": ((SESSION_ID, "user", "Hello"), 201, MESSAGE),
}


def respond(status: int, body: Any = None, headers: dict[str, str] | None = None) -> httpx.Response:
    """A response as the server would send it: JSON for success, problem+json for errors."""
    headers = {"X-Request-Id": "req-1", **(headers or {})}
    if body is None:
        return httpx.Response(status, headers=headers)
    if isinstance(body, bytes):
        return httpx.Response(status, content=body, headers=headers)
    media = "application/json" if status < 400 else "application/problem+json"
    return httpx.Response(status, content=json.dumps(body).encode(), headers={"Content-Type": media, **headers})


def problem(status: int, detail: str, **extra: Any) -> dict[str, Any]:
    return {"type": "about:blank", "title": "x", "status": status, "detail": detail, **extra}


class Recorder:
    """A MockTransport handler that records every request and answers from a script."""

    def __init__(self, *responses: httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]) -> None:
        self.script = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if isinstance(step, Exception):
            raise step
        if callable(step):
            return step(request)
        return step


def sync_client(recorder: Recorder, **kwargs: Any) -> ChatClient:
    client = ChatClient(BASE, token=TOKEN, http_client=httpx.Client(transport=httpx.MockTransport(recorder)), **kwargs)
    client._sleep = lambda seconds: None
    return client


def async_client(recorder: Recorder, **kwargs: Any) -> AsyncChatClient:
    transport = httpx.MockTransport(recorder)
    client = AsyncChatClient(BASE, token=TOKEN, http_client=httpx.AsyncClient(transport=transport), **kwargs)

    async def no_sleep(seconds: float) -> None:
        return None

    client._sleep = no_sleep
    return client


async def call(client: ChatClient | AsyncChatClient, method: str, *args: Any, **kwargs: Any) -> Any:
    """Call a method of either client, awaiting it if it is async."""
    result = getattr(client, method)(*args, **kwargs)
    if isinstance(client, AsyncChatClient):
        return await result
    return result
