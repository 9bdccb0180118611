"""A body or its decoded JSON in, pyclann's records out, each field checked once.

A field that would break the SDK itself is refused here, naming it: IDs must be
record IDs of the right table (they become URLs later), and times must be RFC
3339 with an offset, representable in UTC. Unknown fields and unknown roles are
welcome: a newer server may send them. The readers of an operation's answer
(the `read` of each class here, and `nothing`) take its body; a page of messages
in the common form is decoded by `_page_decoder`, any other body by `json.loads`.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from itertools import repeat
from operator import itemgetter
from typing import Any, TypeAlias, TypeVar

from .models import ChatMessage, ChatSession, Role, _Record

T = TypeVar("T")

_ULID = r"[0-7][0-9A-HJKMNP-TV-Z]{25}"
_SESSION_ID = re.compile(rf"chat_session:{_ULID}", re.ASCII)
_MESSAGE_ID = re.compile(rf"chat_message:{_ULID}", re.ASCII)
# RFC 3339's date-time; datetime.fromisoformat alone also takes ISO week dates,
# ordinal dates and times without seconds, which are not.
_TIME = re.compile(r"\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(?:\.\d+)?(?:[Zz]|[+-]\d\d:\d\d)", re.ASCII)
# A page's columns, joined by newlines (which none of their values may hold): every message ID, and
# every time in UTC with a `Z`, as servers write them, and as datetime.fromisoformat reads them.
_MESSAGE_IDS = re.compile(rf"(?:chat_message:{_ULID}\n)*+chat_message:{_ULID}", re.ASCII)
_MESSAGE_ID_SIZE = len("chat_message:") + 26
_UTC_TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?Z"
_UTC_TIMES = re.compile(rf"(?:{_UTC_TIME}\n)*+{_UTC_TIME}", re.ASCII)
# The same times as shapes, every ASCII digit made 0: a page whose times share one shape is checked
# by comparing strings, without the regex.
_DIGITS_TO_0 = str.maketrans("0123456789", "0" * 10)
_UTC_SHAPES = frozenset("0000-00-00T00:00:00" + ("." + "0" * digits if digits else "") + "Z" for digits in range(10))
_MESSAGE_FIELDS = [itemgetter(name) for name in ChatMessage._fields]
_ROLES: dict[str, str] = {role.value: role for role in Role}
_MISSING = object()
# What ChatMessage.__init__ does, as a C callable: set a record's one slot to its row.
_set_values: Callable[[object, tuple[Any, ...]], None] = _Record.__dict__["_values"].__set__
_exhaust: Callable[[Iterable[object]], None] = deque[object](maxlen=0).extend
"""Runs an iterator to its end, keeping nothing."""


R = TypeVar("R", bound=_Record)
_MessagesRead: TypeAlias = tuple[list[ChatMessage], Sequence[str], list[datetime], str | None]
"""A page's messages, their IDs and times (for a walk to check), and the `after` of the next page."""


def _made(cls: type[R], values: tuple[Any, ...]) -> R:
    """A record of `cls` holding `values`, already checked, as `cls(*values)` makes it after its checks."""
    record = object.__new__(cls)
    _set_values(record, values)
    return record


class FieldError(Exception):
    """A field that is missing or not valid; the caller says whose it was."""


def session(value: object) -> ChatSession:
    record = _record(value, "chat session")
    tree = record.get("tree", _MISSING)
    if tree is not None and type(tree) is not str:
        raise FieldError(f"field 'tree' {_wrong(tree, 'a string or null')}")
    values = (
        _id(record, "id", _SESSION_ID),
        _text(record, "title"),
        _text(record, "created_by"),
        tree,
        _time(record, "created_at"),
        _time(record, "updated_at"),
    )
    return _made(ChatSession, values)


def message(value: object) -> ChatMessage:
    record = _record(value, "chat message")
    role = _text(record, "role")
    values = (
        _id(record, "id", _MESSAGE_ID),
        _id(record, "session", _SESSION_ID),
        _ROLES.get(role, role),
        _text(record, "content"),
        _time(record, "created_at"),
    )
    return _made(ChatMessage, values)


def session_page(value: object) -> tuple[list[ChatSession], str | None]:
    """A page of sessions, and the cursor of the next page (None on the last)."""
    page = _record(value, "page of sessions")
    items = _items(page, session)
    more = _flag(page)
    if more and not items:  # the next cursor is the last session's keyset: a page without one has none
        raise FieldError("field 'has_more' is true on an empty page")
    cursor = page.get("next_cursor", _MISSING)
    if more and (type(cursor) is not str or not cursor):
        raise FieldError(f"field 'next_cursor' {_wrong(cursor, 'a cursor when has_more is true')}")
    return items, cursor if more else None


def message_page(value: object, session: str | None = None) -> tuple[list[ChatMessage], str | None]:
    """A page of messages, and the `after` of the next page (None on the last).

    With `session` (a full ID), every message must be one of that session's.
    """
    items, _, _, cursor = _message_page(value, session)
    return items, cursor


def _message_page(value: object, session: str | None) -> _MessagesRead:
    """`message_page`, with the page's IDs and times as columns, for a walk to check."""
    page = _record(value, "page of messages")
    data = page.get("data")
    # Read column by column when every message is of the common shape; else one by one, naming what is wrong.
    columns = _message_columns(data, session) if type(data) is list else None
    if columns is None:
        items = _items(page, message)
        if session is not None:
            _all_of(items, session)
        columns = items, [item.id for item in items], [item.created_at for item in items]
    return _ended(*columns, _flag(page), page.get("last_id", _MISSING))


def _message_page_body(body: bytes, session: str) -> _MessagesRead:
    """`_message_page` of a body: decoded by `_page_decoder` when in the common form, else by `json.loads`."""
    from . import _page_decoder  # here, not at the top: msgspec is imported with the first page

    common = _page_decoder.message_page(body)
    if common is not None:
        columns, more, last = common
        records = _checked_columns(*columns, session=session)
        if records is not None:
            return _ended(*records, more, last)
    # Not in the common form: read again, naming what is wrong (or, if msgspec refused it, read).
    return _message_page(json.loads(body), session)


def _ended(
    items: list[ChatMessage], ids: Sequence[str], times: list[datetime], more: bool, last: object
) -> _MessagesRead:
    """A page's messages and columns, and the `after` of the next page, once its `last_id` is checked."""
    expected = ids[-1] if ids else None
    if last != expected:
        raise FieldError(f"field 'last_id' must be the last message's ID {expected!r}, got {_echo(last)}")
    if more and not items:
        raise FieldError("field 'has_more' is true on an empty page")
    return items, ids, times, expected if more else None


class MessageWalk:
    """Reads the pages of one walk over a session's messages: that session's, each page after the last.

    Messages come oldest first, ties broken on the ID. A server may write times more
    coarsely than it orders by, and IDs need not grow with time, so a walk checks what
    every such server keeps: times never go back, no message comes twice, and no page
    holds the message the walk started after. So a server that repeats or goes back
    cannot make a walk loop or yield a message twice. A walk remembers the ID of each
    message it has read (about 100 bytes each) to know.
    """

    __slots__ = ("_latest", "_seen", "_session")

    def __init__(self, session_ulid: str, after: str | None) -> None:
        self._session = f"chat_session:{session_ulid}"
        self._latest: datetime | None = None
        # The message the walk starts after counts as read: a page must not hold it either.
        self._seen = set[str]() if after is None else {f"chat_message:{after}"}

    def read(self, body: bytes) -> tuple[list[ChatMessage], str | None]:
        items, ids, times, cursor = _message_page_body(body, self._session)
        if items:
            self._advance(ids, times)
        return items, cursor

    def _advance(self, ids: Sequence[str], times: list[datetime]) -> None:
        # Each check over a whole column in C (a walk's cost is its pages'); a loop only to name what is wrong.
        seen = self._seen
        if times != sorted(times):
            index = next(i for i in range(1, len(times)) if times[i] < times[i - 1])
            raise FieldError(f"item {index} of 'data' is older than the one before it: {ids[index]!r}")
        if self._latest is not None and times[0] < self._latest:
            raise FieldError(f"item 0 of 'data' is older than the previous page's last: {ids[0]!r}")
        read = len(seen)
        if not seen.isdisjoint(ids):
            index = next(i for i, each in enumerate(ids) if each in seen or each in ids[:i])
        else:
            seen.update(ids)
            if len(seen) == read + len(ids):
                self._latest = times[-1]
                return
            index = next(i for i, each in enumerate(ids) if each in ids[:i])  # the walk ends: `seen` is past use
        raise FieldError(f"item {index} of 'data' repeats a message the walk has read: {ids[index]!r}")


class SessionWalk:
    """Reads the pages of one walk over a user's sessions: theirs, of the tree asked for, each after the last.

    A walk's sessions come most recently updated first, ties broken on the ID. A
    server may write times more coarsely than it orders by, so a walk checks that
    times never go forward and that no session comes twice: a server that repeats or
    goes back cannot make a walk loop, and what it returns twice is refused.
    """

    __slots__ = ("_earliest", "_seen", "_tree", "_user")

    def __init__(self, user: str, tree: str | None) -> None:
        self._user, self._tree = user, tree
        self._earliest: datetime | None = None
        self._seen: set[str] = set()

    def page(self, body: bytes) -> tuple[list[ChatSession], str | None]:
        items, cursor = session_page(json.loads(body))
        earliest, seen = self._earliest, set[str]()
        for index, item in enumerate(items):
            if item.created_by != self._user or (self._tree is not None and item.tree != self._tree):
                raise FieldError(f"item {index} of 'data' is not one of the sessions asked for: {item.id!r}")
            if earliest is not None and item.updated_at > earliest:
                raise FieldError(f"item {index} of 'data' is out of order, updated after the one before: {item.id!r}")
            if item.id in seen or item.id in self._seen:
                raise FieldError(f"item {index} of 'data' repeats an earlier one: {item.id!r}")
            earliest = item.updated_at
            seen.add(item.id)
        self._earliest = earliest
        self._seen |= seen
        return items, cursor


class TheSession:
    """Reads a session that must be the one asked for."""

    __slots__ = ("_id",)

    def __init__(self, ulid: str) -> None:
        self._id = f"chat_session:{ulid}"

    def read(self, body: bytes) -> ChatSession:
        found = session(json.loads(body))
        if found.id != self._id:
            raise FieldError(f"field 'id' must be {self._id!r}, the session asked for, got {found.id!r}")
        return found


class TheMessage:
    """Reads a message that must be of the session asked for (and, given, the message asked for)."""

    __slots__ = ("_id", "_session")

    def __init__(self, session_ulid: str, message_ulid: str | None = None) -> None:
        self._session = f"chat_session:{session_ulid}"
        self._id = None if message_ulid is None else f"chat_message:{message_ulid}"

    def read(self, body: bytes) -> ChatMessage:
        found = message(json.loads(body))
        _all_of([found], self._session, whose="field 'session'")
        if self._id is not None and found.id != self._id:
            raise FieldError(f"field 'id' must be {self._id!r}, the message asked for, got {found.id!r}")
        return found


def _all_of(items: list[ChatMessage], session: str, whose: str = "") -> None:
    for index, item in enumerate(items):
        if item.session != session:
            where = whose or f"item {index} of 'data'"
            raise FieldError(f"{where}: a message of {item.session!r}, not of {session!r}, the session asked for")


def is_session_id(value: str) -> bool:
    """Whether `value` is a session's full ID as records carry it (its ULID upper case)."""
    return _SESSION_ID.fullmatch(value) is not None


def is_message_id(value: str) -> bool:
    """Whether `value` is a message's full ID as records carry it (its ULID upper case)."""
    return _MESSAGE_ID.fullmatch(value) is not None


def new_session(body: bytes) -> ChatSession:
    """The reader of a session just made."""
    return session(json.loads(body))


def nothing(body: bytes) -> None:
    """The reader of a 204: there is no body to read."""


def _message_columns(
    data: list[Any], session: str | None = None
) -> tuple[list[ChatMessage], Sequence[str], list[datetime]] | None:
    """A page's messages, each check made once per column instead of once per message.

    None when any message is not in the common form (a field missing or not a string,
    an ID or time not as servers write them, a time out of range), for `message` to
    read them one by one and name what is wrong. For decoded JSON (which holds no str
    subclasses) it refuses all that `message` refuses: joining the values of a column
    by newlines checks that each is a str, the joined values match a pattern only if
    each value does, and a value holding a newline would add a line, which the lengths
    and counts rule out.
    """
    try:
        ids, sessions, roles, contents, times = [list(map(field, data)) for field in _MESSAGE_FIELDS]
    except (KeyError, TypeError):  # a field missing; a message not an object
        return None
    return _checked_columns(ids, sessions, roles, contents, times, session=session)


def _checked_columns(
    ids: Sequence[str],
    sessions: Sequence[str],
    roles: Sequence[str],
    contents: Sequence[str],
    times: Sequence[str],
    *,
    session: str | None,
) -> tuple[list[ChatMessage], Sequence[str], list[datetime]] | None:
    """The records of a page's columns, or None when one is not in the common form.

    The columns' types are what decoded JSON may hold, not yet checked (as `_message_columns` says).
    """
    if not ids:
        return [], [], []
    try:
        joined_ids, joined_times = "\n".join(ids), "\n".join(times)
        distinct_sessions, distinct_roles = set(sessions), set(roles)
    except TypeError:  # a value not a string, or not hashable
        return None
    if any(type(role) is not str for role in distinct_roles) or set(map(type, contents)) != {str}:
        return None
    if len(joined_ids) != len(ids) * (_MESSAGE_ID_SIZE + 1) - 1 or _MESSAGE_IDS.fullmatch(joined_ids) is None:
        return None
    if session is not None:
        if distinct_sessions != {session}:  # the session asked for, a valid ID: nothing more to check
            return None  # read one by one, to name the message that is another session's
    elif any(type(each) is not str or _SESSION_ID.fullmatch(each) is None for each in distinct_sessions):
        return None
    if not _utc_times(times, joined_times):
        return None
    try:
        moments = list(map(datetime.fromisoformat, times))  # in UTC: each ends with Z
    except ValueError:  # 2026-02-30
        return None
    rows = zip(ids, sessions, map(_ROLES.get, roles, roles), contents, moments, strict=True)
    # Made as ChatMessage(*row) makes them, a page at a time in C: no Python call per record.
    records = list(map(object.__new__, repeat(ChatMessage, len(ids))))
    _exhaust(map(_set_values, records, rows))
    return records, ids, moments


def _utc_times(times: Sequence[str], joined: str) -> bool:
    """Whether every one of `times` (`joined` by newlines) is RFC 3339 in UTC with a `Z`, as `_UTC_TIMES` says."""
    shape = times[0].translate(_DIGITS_TO_0)
    if shape in _UTC_SHAPES and joined.translate(_DIGITS_TO_0) == "\n".join(repeat(shape, len(times))):
        return True
    return joined.count("\n") == len(times) - 1 and _UTC_TIMES.fullmatch(joined) is not None


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
