"""Type-checked by `make types` (mypy --strict), never run: the public surface as a user types it.

Each assignment states the type a user relies on; mypy fails if a signature
narrows an argument or changes what a method returns. The `assert_type` calls
pin exact types where an assignment alone would accept a subtype.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Any, assert_type

import httpx2

import pyclann
from pyclann import (
    DEFAULT_MAX_RESPONSE_SIZE,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    NOT_GIVEN,
    AsyncChatClient,
    AsyncRawChatClient,
    ChatClient,
    ChatMessage,
    ChatSession,
    ClannAPIError,
    ClannError,
    ClannNotFoundError,
    ClannRateLimitError,
    ClannUnprocessableError,
    CustomRole,
    ErrorResponse,
    MessagePage,
    MessageRole,
    RawChatClient,
    RawResponse,
    RecordId,
    Role,
    SessionPage,
)
from pyclann.testing import instant_retries


def sync_surface(client: ChatClient) -> None:
    sessions: list[ChatSession] = client.list_sessions("alice")
    scoped: list[ChatSession] = client.list_sessions("alice", tree="oak")
    walked: Iterator[ChatSession] = client.iter_sessions("alice", "oak", page_size=50)
    session: ChatSession = client.create_session("Title", "alice", tree=None, idempotency_key="k-1")
    again: ChatSession = client.get_session(session)  # a ChatSession as session_id
    by_id: ChatSession = client.get_session(session.id)
    renamed: ChatSession = client.update_session(session, title="New", idempotency_key="k-2")
    cleared: ChatSession = client.update_session(session.id, tree=None)
    kept: ChatSession = client.update_session(session.id, title="x", tree=NOT_GIVEN)
    created: datetime = session.created_at
    message: ChatMessage = client.append_message(session, Role.USER, "hello")
    other: ChatMessage = client.append_message(session.id, CustomRole("tool"), "hi", idempotency_key=None)
    by_value: ChatMessage = client.append_message(session, "assistant", "hello")
    role: MessageRole = message.role
    as_text: str = message.role  # every role is a str
    echoed: ChatMessage = client.append_message(session, message.role, "again")  # what was read can be sent back
    messages: list[ChatMessage] = client.list_messages(RecordId.parse(session.id).ulid)
    newer: Iterator[ChatMessage] = client.iter_messages(session, after=message, page_size=10)
    newer_by_id: Iterator[ChatMessage] = client.iter_messages(session.id, after=message.id)
    # A generator: a walk abandoned early can be closed.
    client.iter_messages(session).close()
    live: Iterator[ChatMessage] = client.follow_messages(session, after=message, wait=10, page_size=50)
    client.follow_messages(session.id, after=message.id).close()
    print(live)
    one: ChatMessage = client.get_message(session, message)
    one_by_id: ChatMessage = client.get_message(session.id, message.id)
    client.delete_session(session, idempotency_key="k-3")
    as_dict: dict[str, Any] = session.to_dict()
    back: ChatSession = ChatSession.from_dict(as_dict)
    back_message: ChatMessage = ChatMessage.from_dict(message.to_dict())
    try:
        client.delete_session(session.id)
    except ClannNotFoundError as error:
        status: int = error.status_code
        request_id: str | None = error.request_id
        kind: str | None = error.problem_type
        key: str | None = error.idempotency_key
        landed: bool = error.may_have_landed
        print(status, request_id, kind, key, landed)
    except ClannRateLimitError as error:
        wait: float | None = error.retry_after
        print(wait)
    except ClannUnprocessableError as error:
        fields: list[dict[str, str]] = error.errors
        print(fields)
    except ClannAPIError as error:
        detail: str = error.detail
        body: str = error.body
        problem: dict[str, Any] | None = error.problem
        answer: ErrorResponse | None = error.response
        if answer is not None:
            headers: httpx2.Headers = answer.headers
            print(answer.status_code, headers.get("retry-after"), answer.content, answer.text, answer.json())
        print(detail, body, problem)
    except ClannError as error:
        print(error.may_have_landed, error.response)
    print(
        sessions,
        scoped,
        walked,
        again,
        by_id,
        renamed,
        cleared,
        kept,
        created,
        other,
        role,
        messages,
        by_value,
        as_text,
        echoed,
    )
    print(newer, newer_by_id, one, one_by_id, back, back_message)


def raw_surface(client: ChatClient) -> None:
    raw: RawChatClient = client.with_raw_response
    got = raw.get_session("01JDXV3C5Z0K8Y8T6W3M2Q9R4N")
    assert_type(got, RawResponse[ChatSession])
    session: ChatSession = got.parsed
    status: int = got.status_code
    headers: httpx2.Headers = got.headers
    request_id: str | None = got.request_id
    replayed: bool = got.idempotent_replayed
    listed: RawResponse[list[ChatSession]] = raw.list_sessions("alice")
    created: RawResponse[ChatSession] = raw.create_session("T", "alice", idempotency_key="k")
    updated: RawResponse[ChatSession] = raw.update_session(session, title="New")
    deleted: RawResponse[None] = raw.delete_session(session)
    messages: RawResponse[list[ChatMessage]] = raw.list_messages(session)
    appended: RawResponse[ChatMessage] = raw.append_message(session, "user", "hi")
    one: RawResponse[ChatMessage] = raw.get_message(session, appended.parsed)
    pages: Iterator[RawResponse[SessionPage]] = raw.iter_sessions("alice", page_size=10, cursor=None)
    message_pages: Iterator[RawResponse[MessagePage]] = raw.iter_messages(session, after=one.parsed)
    first: RawResponse[SessionPage] = raw.list_sessions_page("alice", cursor=None)
    later: RawResponse[MessagePage] = raw.list_messages_page(session, after=one.parsed)
    print(first.parsed.next_cursor, later.parsed.next_after)
    answers: Iterator[RawResponse[MessagePage]] = raw.follow_messages(session, wait=5)
    print(status, headers, request_id, replayed, listed, created, updated, deleted, messages, pages, message_pages)
    print(answers)


async def async_surface(client: AsyncChatClient) -> None:
    sessions: list[ChatSession] = await client.list_sessions("alice")
    session: ChatSession = await client.create_session("Title", "alice", idempotency_key="k")
    again: ChatSession = await client.get_session(session)
    renamed: ChatSession = await client.update_session(session, title="New")
    message: ChatMessage = await client.append_message(session.id, "assistant", "hi")
    messages: list[ChatMessage] = await client.list_messages(session)
    one: ChatMessage = await client.get_message(session, message)
    walked: AsyncIterator[ChatSession] = client.iter_sessions("alice", page_size=20)
    async for each in walked:
        title: str = each.title
        print(title)
    async for newer in client.iter_messages(session, after=message):
        content: str = newer.content
        print(content)
    async for arrived in client.follow_messages(session, after=message, wait=5):
        print(arrived.content)
        break
    await client.follow_messages(session).aclose()
    async for answer in client.with_raw_response.follow_messages(session):
        print(answer.parsed, answer.request_id)
        break
    await client.delete_session(session, idempotency_key="k-2")
    raw: AsyncRawChatClient = client.with_raw_response
    got: RawResponse[ChatSession] = await raw.get_session(session)
    async for page in raw.iter_messages(session):
        records: tuple[ChatMessage, ...] = page.parsed.data
        print(records, len(page.parsed), page.parsed[0], page.parsed.next_after)
    sessions_page: SessionPage = await client.list_sessions_page("alice", cursor=None, page_size=20)
    resumed: AsyncIterator[ChatSession] = client.iter_sessions("alice", cursor=sessions_page.next_cursor)
    messages_page: MessagePage = await client.list_messages_page(session, after=message, page_size=20)
    print(resumed, messages_page.has_next_page(), [m.content for m in messages_page])
    copy: AsyncChatClient = client.with_options(timeout=5, max_retries=0)
    await copy.aclose()
    await client.aclose()
    print(sessions, again, renamed, messages, one, got)


def construction() -> None:
    with ChatClient("http://127.0.0.1:8765", token="t", timeout=5, max_retries=0) as client:
        sync_surface(client)
        raw_surface(client)
        quick: ChatClient = client.with_options(
            timeout=None,
            max_retries=5,
            headers={"X-Tenant": "t"},
            total_timeout=30.0,
            max_response_size=1024,
        )
        quick.get_session("01JDXV3C5Z0K8Y8T6W3M2Q9R4N")
    own = httpx2.Client(timeout=1.0)
    ChatClient("http://127.0.0.1:8765", http_client=own, timeout=httpx2.Timeout(3.0)).close()
    ChatClient(timeout=None, total_timeout=None, max_response_size=DEFAULT_MAX_RESPONSE_SIZE).close()
    ChatClient("http://x.test", headers={"X-A": "b"}, max_retries=DEFAULT_MAX_RETRIES, timeout=DEFAULT_TIMEOUT)
    AsyncChatClient(http_client=httpx2.AsyncClient(), timeout=None)
    with instant_retries() as waits:
        skipped: list[float] = waits
        print(skipped)
    version: str = pyclann.__version__
    print(version)
