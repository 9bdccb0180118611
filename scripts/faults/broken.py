"""Clients broken on purpose, each in one way the audit must see: a sync and an async class for each.

DeleteDoesNothing    delete_session returns as if it had deleted, and sends nothing
ListingsEmpty        list_* return [] and iter_* yield nothing
FreshKeyAppend       append_message retries by itself, each attempt with a new idempotency key
IgnoresMayHaveLanded every error says may_have_landed=False, whatever the attempts met
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator, Generator
from typing import Any, TypeVar

from pyclann import (
    AsyncChatClient,
    ChatClient,
    ChatMessage,
    ChatSession,
    ClannConnectionError,
    ClannError,
    ClannResponseError,
    ClannServerError,
    MessageRole,
)
from pyclann._answer import Answer
from pyclann._operations import Operation

T = TypeVar("T")
_RETRIED = (ClannConnectionError, ClannServerError, ClannResponseError)
_TRIES = 3


class SyncDeleteDoesNothing(ChatClient):
    def delete_session(self, session_id: str | ChatSession, *, idempotency_key: str | None = None) -> None:
        return None


class AsyncDeleteDoesNothing(AsyncChatClient):
    async def delete_session(self, session_id: str | ChatSession, *, idempotency_key: str | None = None) -> None:
        return None


class SyncListingsEmpty(ChatClient):
    def list_sessions(
        self, created_by: str, tree: str | None = None, *, max_items: int | None = None
    ) -> list[ChatSession]:
        return []

    def list_messages(self, session_id: str | ChatSession, *, max_items: int | None = None) -> list[ChatMessage]:
        return []

    def iter_sessions(
        self,
        created_by: str,
        tree: str | None = None,
        *,
        page_size: int | None = None,
        cursor: str | None = None,
        max_items: int | None = None,
    ) -> Generator[ChatSession, None, None]:
        yield from ()

    def iter_messages(
        self,
        session_id: str | ChatSession,
        *,
        after: str | ChatMessage | None = None,
        page_size: int | None = None,
        max_items: int | None = None,
    ) -> Generator[ChatMessage, None, None]:
        yield from ()


async def _nothing() -> AsyncGenerator[Any, None]:
    return
    yield


class AsyncListingsEmpty(AsyncChatClient):
    async def list_sessions(
        self, created_by: str, tree: str | None = None, *, max_items: int | None = None
    ) -> list[ChatSession]:
        return []

    async def list_messages(self, session_id: str | ChatSession, *, max_items: int | None = None) -> list[ChatMessage]:
        return []

    def iter_sessions(
        self,
        created_by: str,
        tree: str | None = None,
        *,
        page_size: int | None = None,
        cursor: str | None = None,
        max_items: int | None = None,
    ) -> AsyncGenerator[ChatSession, None]:
        return _nothing()

    def iter_messages(
        self,
        session_id: str | ChatSession,
        *,
        after: str | ChatMessage | None = None,
        page_size: int | None = None,
        max_items: int | None = None,
    ) -> AsyncGenerator[ChatMessage, None]:
        return _nothing()


class SyncFreshKeyAppend(ChatClient):
    def append_message(
        self, session_id: str | ChatSession, role: MessageRole, content: str, *, idempotency_key: str | None = None
    ) -> ChatMessage:
        once = self.with_options(max_retries=0)
        for tried in range(1, _TRIES + 1):
            try:
                return ChatClient.append_message(once, session_id, role, content, idempotency_key=idempotency_key)
            except _RETRIED:
                if tried == _TRIES:
                    raise
                idempotency_key = str(uuid.uuid4())  # the bug: a retry that is a new request
        raise AssertionError("unreachable")


class AsyncFreshKeyAppend(AsyncChatClient):
    async def append_message(
        self, session_id: str | ChatSession, role: MessageRole, content: str, *, idempotency_key: str | None = None
    ) -> ChatMessage:
        once = self.with_options(max_retries=0)
        for tried in range(1, _TRIES + 1):
            try:
                return await AsyncChatClient.append_message(
                    once, session_id, role, content, idempotency_key=idempotency_key
                )
            except _RETRIED:
                if tried == _TRIES:
                    raise
                idempotency_key = str(uuid.uuid4())
        raise AssertionError("unreachable")


class SyncIgnoresMayHaveLanded(ChatClient):
    def _call(self, op: Operation[T], deadline: float | None = None) -> Answer[T]:
        try:
            return super()._call(op, deadline)
        except ClannError as error:
            error.may_have_landed = False
            raise


class AsyncIgnoresMayHaveLanded(AsyncChatClient):
    async def _call(self, op: Operation[T], deadline: float | None = None) -> Answer[T]:
        try:
            return await super()._call(op, deadline)
        except ClannError as error:
            error.may_have_landed = False
            raise


BROKEN: dict[str, tuple[type[ChatClient], type[AsyncChatClient]]] = {
    "delete does nothing": (SyncDeleteDoesNothing, AsyncDeleteDoesNothing),
    "listings return []": (SyncListingsEmpty, AsyncListingsEmpty),
    "append sends a fresh key on each retry": (SyncFreshKeyAppend, AsyncFreshKeyAppend),
    "ignores may_have_landed": (SyncIgnoresMayHaveLanded, AsyncIgnoresMayHaveLanded),
}
"""Each broken client, by what is wrong with it."""
