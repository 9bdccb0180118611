"""pyclann's own records: what every method returns, whatever generated/ holds.

The parsers here read the JSON straight into these frozen classes, checking each
field once, so that a malformed response fails with the field's name instead of
a `KeyError`, and a listing of thousands of messages costs one pass.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

import attrs

__all__ = ["ChatMessage", "ChatSession", "Role"]


class Role(StrEnum):
    """The roles this client knows. A message may carry another (a newer server's).

    Attributes:
        USER: `"user"`: what the person wrote.
        ASSISTANT: `"assistant"`: what the AI answered.
        SYSTEM: `"system"`: instructions that frame the conversation.
    """

    USER = "user"
    ASSISTANT = "assistant"
    SYSTEM = "system"


_ROLES: dict[str, str] = {role.value: role for role in Role}
T = TypeVar("T")


@attrs.frozen
class ChatSession:
    """An AI chat session.

    Attributes:
        id: Full record ID, `chat_session:<ULID>`.
        title: The session's title.
        created_by: Username of the session's owner.
        tree: The tree slug the session is scoped to, or None.
        created_at: When it was created (timezone-aware).
        updated_at: When it, or its newest message, last changed (timezone-aware).
    """

    id: str
    title: str
    created_by: str
    tree: str | None
    created_at: datetime
    updated_at: datetime


@attrs.frozen
class ChatMessage:
    """One message of a chat session.

    Attributes:
        id: Full record ID, `chat_message:<ULID>`.
        session: Full record ID of its session.
        role: A `Role` when this client knows it, else the server's string.
        content: The message text, exactly as sent.
        created_at: When it was appended (timezone-aware).
    """

    id: str
    session: str
    role: str
    content: str
    created_at: datetime


class FieldError(Exception):
    """A response field that is missing or of the wrong type (the client turns it into a ClannResponseError)."""


def _text(record: dict[str, Any], name: str) -> str:
    value = record.get(name, _MISSING)
    if type(value) is str:
        return value
    raise FieldError(f"field {name!r} {_wrong(value, 'a string')}")


def _time(record: dict[str, Any], name: str) -> datetime:
    value = _text(record, name)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise FieldError(f"field {name!r} is not an RFC 3339 time: {value[:40]!r}") from None
    if moment.tzinfo is None:
        raise FieldError(f"field {name!r} has no UTC offset: {value[:40]!r}")
    return moment


def _wrong(value: object, expected: str) -> str:
    return "is missing" if value is _MISSING else f"must be {expected}, got {_kind(value)}"


def _kind(value: object) -> str:
    return "null" if value is None else type(value).__name__


_MISSING = object()


def _record(value: object, what: str) -> dict[str, Any]:
    if type(value) is not dict:
        raise FieldError(f"expected a {what} object, got {_kind(value)}")
    return value


def parse_session(value: object) -> ChatSession:
    record = _record(value, "chat session")
    tree = record.get("tree", _MISSING)
    if tree is not None and type(tree) is not str:
        raise FieldError(f"field 'tree' {_wrong(tree, 'a string or null')}")
    return ChatSession(
        _text(record, "id"),
        _text(record, "title"),
        _text(record, "created_by"),
        tree,
        _time(record, "created_at"),
        _time(record, "updated_at"),
    )


def parse_message(value: object) -> ChatMessage:
    record = _record(value, "chat message")
    role = _text(record, "role")
    return ChatMessage(
        _text(record, "id"),
        _text(record, "session"),
        _ROLES.get(role, role),
        _text(record, "content"),
        _time(record, "created_at"),
    )


def parse_list(value: object, parse_one: Callable[[object], T]) -> list[T]:
    if type(value) is not list:
        raise FieldError(f"expected a JSON array, got {_kind(value)}")
    try:
        return [parse_one(item) for item in value]
    except FieldError as error:
        # Off the fast path: find which item it was, for the message.
        index = next(i for i, item in enumerate(value) if _fails(parse_one, item))
        raise FieldError(f"item {index}: {error}") from None


def _fails(parse_one: Callable[[object], object], item: object) -> bool:
    try:
        parse_one(item)
    except FieldError:
        return True
    return False
