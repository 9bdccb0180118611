"""Decoded JSON in, pyclann's records out, each field checked once.

A field that would break the SDK itself is refused here, naming it: IDs must be
record IDs of the right table (they become URLs later), and times must be RFC
3339 with an offset, representable in UTC. Unknown fields and unknown roles are
welcome: a newer server may send them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from .models import ChatMessage, ChatSession, Role

T = TypeVar("T")

_ULID = r"[0-7][0-9A-HJKMNP-TV-Z]{25}"
_SESSION_ID = re.compile(rf"chat_session:{_ULID}", re.ASCII)
_MESSAGE_ID = re.compile(rf"chat_message:{_ULID}", re.ASCII)
# RFC 3339's date-time; datetime.fromisoformat alone also takes ISO week dates,
# ordinal dates and times without seconds, which are not.
_TIME = re.compile(r"\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:[Zz]|[+-]\d\d:\d\d)", re.ASCII)
_ROLES: dict[str, str] = {role.value: role for role in Role}
_MISSING = object()


class FieldError(Exception):
    """A field that is missing or not valid; the caller says whose it was."""


def session(value: object) -> ChatSession:
    record = _record(value, "chat session")
    tree = record.get("tree", _MISSING)
    if tree is not None and type(tree) is not str:
        raise FieldError(f"field 'tree' {_wrong(tree, 'a string or null')}")
    return ChatSession(
        _id(record, "id", _SESSION_ID),
        _text(record, "title"),
        _text(record, "created_by"),
        tree,
        _time(record, "created_at"),
        _time(record, "updated_at"),
    )


def message(value: object) -> ChatMessage:
    record = _record(value, "chat message")
    role = _text(record, "role")
    return ChatMessage(
        _id(record, "id", _MESSAGE_ID),
        _id(record, "session", _SESSION_ID),
        _ROLES.get(role, role),
        _text(record, "content"),
        _time(record, "created_at"),
    )


def session_page(value: object) -> tuple[list[ChatSession], str | None]:
    """A page of sessions, and the cursor of the next page (None on the last)."""
    page = _record(value, "page of sessions")
    items = _items(page, session)
    more = _flag(page)
    cursor = page.get("next_cursor", _MISSING)
    if more and (type(cursor) is not str or not cursor):
        raise FieldError(f"field 'next_cursor' {_wrong(cursor, 'a cursor when has_more is true')}")
    return items, cursor if more else None


def message_page(value: object) -> tuple[list[ChatMessage], str | None]:
    """A page of messages, and the `after` of the next page (None on the last)."""
    page = _record(value, "page of messages")
    items = _items(page, message)
    more = _flag(page)
    last = page.get("last_id", _MISSING)
    expected = items[-1].id if items else None
    if last != expected:
        raise FieldError(f"field 'last_id' must be the last message's ID {expected!r}, got {_echo(last)}")
    if more and not items:
        raise FieldError("field 'has_more' is true on an empty page")
    return items, expected if more else None


def nothing(value: object) -> None:
    """The reader of a 204: there is no body to read."""


def _record(value: object, what: str) -> dict[str, Any]:
    if type(value) is not dict:
        raise FieldError(f"expected a {what} object, got {_kind(value)}")
    return value


def _items(page: dict[str, Any], parse_one: Callable[[object], T]) -> list[T]:
    data = page.get("data", _MISSING)
    if type(data) is not list:
        raise FieldError(f"field 'data' {_wrong(data, 'an array')}")
    try:
        return [parse_one(item) for item in data]
    except FieldError as error:
        # Off the fast path: find which item it was, for the message.
        index = next(i for i, item in enumerate(data) if _fails(parse_one, item))
        raise FieldError(f"item {index} of 'data': {error}") from None


def _fails(parse_one: Callable[[object], object], item: object) -> bool:
    try:
        parse_one(item)
    except FieldError:
        return True
    return False


def _flag(page: dict[str, Any]) -> bool:
    more = page.get("has_more", _MISSING)
    if type(more) is not bool:
        raise FieldError(f"field 'has_more' {_wrong(more, 'a boolean')}")
    return more


def _text(record: dict[str, Any], name: str) -> str:
    value = record.get(name, _MISSING)
    if type(value) is str:
        return value
    raise FieldError(f"field {name!r} {_wrong(value, 'a string')}")


def _id(record: dict[str, Any], name: str, pattern: re.Pattern[str]) -> str:
    value = _text(record, name)
    if pattern.fullmatch(value) is None:
        table = pattern.pattern.split(":", 1)[0]
        raise FieldError(f"field {name!r} must be a {table} ID, got {_echo(value)}")
    return value


def _time(record: dict[str, Any], name: str) -> datetime:
    value = _text(record, name)
    if _TIME.fullmatch(value) is None:
        raise FieldError(f"field {name!r} is not an RFC 3339 time: {_echo(value)}")
    try:
        moment = datetime.fromisoformat(value.upper() if "t" in value or "z" in value else value)
        return moment if moment.tzinfo is UTC else moment.astimezone(UTC)
    except (ValueError, OverflowError):  # 2026-02-30, or year 1 at +23:59, which is year 0 in UTC
        raise FieldError(f"field {name!r} is not a time in UTC's range: {_echo(value)}") from None


def _wrong(value: object, expected: str) -> str:
    return "is missing" if value is _MISSING else f"must be {expected}, got {_kind(value)}"


def _kind(value: object) -> str:
    return "null" if value is None else type(value).__name__


def _echo(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
