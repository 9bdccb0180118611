"""Type-checked by `make types` (mypy --strict), never run: the public surface as a user types it."""

from __future__ import annotations

from datetime import datetime

import httpx

import pyclann
from pyclann import (
    AsyncChatClient,
    ChatClient,
    ChatMessage,
    ChatSession,
    ClannAPIError,
    ClannNotFoundError,
    ClannRateLimitError,
    RecordId,
    Role,
)


def sync_surface(client: ChatClient) -> None:
    sessions: list[ChatSession] = client.list_sessions("alice")
    scoped: list[ChatSession] = client.list_sessions("alice", tree="oak")
    session: ChatSession = client.create_session("Title", "alice", tree=None)
    created: datetime = session.created_at
    message: ChatMessage = client.append_message(session.id, Role.USER, "hello")
    role: str = message.role
    messages: list[ChatMessage] = client.list_messages(RecordId.parse(session.id).ulid)
    client.delete_session(session.id)
    try:
        client.delete_session(session.id)
    except ClannNotFoundError as error:
        status: int = error.status_code
        request_id: str | None = error.request_id
    except ClannRateLimitError as error:
        wait: float | None = error.retry_after
    except ClannAPIError as error:
        detail: str = error.detail
    print(sessions, scoped, created, role, messages, status, request_id, wait, detail)


async def async_surface(client: AsyncChatClient) -> None:
    sessions: list[ChatSession] = await client.list_sessions("alice")
    session: ChatSession = await client.create_session("Title", "alice")
    message: ChatMessage = await client.append_message(session.id, "assistant", "hi")
    messages: list[ChatMessage] = await client.list_messages(session.id)
    await client.delete_session(session.id)
    await client.aclose()
    print(sessions, message, messages)


def construction() -> None:
    with ChatClient("http://127.0.0.1:8765", token="t", timeout=5, max_retries=0) as client:
        sync_surface(client)
    own = httpx.Client()
    ChatClient("http://127.0.0.1:8765", http_client=own, timeout=httpx.Timeout(3.0)).close()
    AsyncChatClient(http_client=httpx.AsyncClient())
    version: str = pyclann.__version__
    print(version)
