"""A body in, pyclann's records out: one decoder for every body, each field checked once.

Every body, a success's or an error's problem document, is decoded by msgspec in C,
straight into the records of `pyclann.models` (or, for a problem, a dict). What the
decoder refuses is a `FieldError` naming the field, or, for a body cut short, a
`ValueError`, which the client retries: a complete body is never taken for a cut one.

msgspec checks each field's type and that times are RFC 3339 with an offset; the
rest is checked here a column at a time over a whole page, so that no Python code
runs per record: IDs must be record IDs of the right table (they become URLs
later), times representable in UTC (and are kept in UTC), and records must be the
ones asked for. Unknown fields and unknown roles are welcome: a newer server may
send them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from operator import attrgetter
from typing import Any, TypeAlias, TypeVar

import msgspec

from . import models
from ._printable import quoted
from .models import ChatMessage, ChatSession, _fields_of, _Record

R = TypeVar("R", bound=_Record)

_ULID = r"[0-7][0-9A-HJKMNP-TV-Z]{25}"
_ID_SIZE = 13 + 26  # both tables' names are 12 characters long, then a colon and the ULID
# By table: one ID, and a column of IDs joined by newlines, which no ID may hold (one match checks them
# all). Compiled on first use, as the decoders below are made: a program that makes no call never needs them.
_IDS: dict[str, tuple[re.Pattern[str], re.Pattern[str]]] = {}


def _id_patterns(table: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    found = _IDS.get(table)
    if found is None:
        one, column = rf"{table}:{_ULID}", rf"(?:{table}:{_ULID}\n)*+{table}:{_ULID}"
        found = _IDS[table] = (re.compile(one, re.ASCII), re.compile(column, re.ASCII))
    return found


_CURSOR = r"[A-Za-z0-9_-]{1,200}"  # openapi.yaml's Cursor; compiled when first used (by re's cache), not with pyclann
_force_setattr: Callable[[msgspec.Struct, str, Any], None] = msgspec.structs.force_setattr


class FieldError(Exception):
    """A body that breaks the contract: a field missing or not valid, or not JSON at all (and not cut short)."""


class _MessagePage(msgspec.Struct, gc=False):
    data: list[ChatMessage]
    has_more: bool
    last_id: str | None


class _SessionPage(msgspec.Struct, gc=False):
    data: list[ChatSession]
    has_more: bool
    next_cursor: str | None = None


_DECODERS: dict[Any, msgspec.json.Decoder[Any]] = {}  # by what each decodes, made on first use
# What each decodes, and what each item of its `data` is, for errors
_WHAT: dict[type[Any], tuple[str, str]] = {
    ChatSession: ("chat session", ""),
    ChatMessage: ("chat message", ""),
    _SessionPage: ("page of sessions", "chat session"),
    _MessagePage: ("page of messages", "chat message"),
}


def _decoder(kind: Any) -> msgspec.json.Decoder[Any]:
    found = _DECODERS.get(kind)
    if found is None:
        found = _DECODERS[kind] = msgspec.json.Decoder(kind)
    return found


def _decoded(kind: type[Any], body: bytes) -> Any:
    """`body` decoded into `kind`, unchecked beyond its types; FieldError if it is not one, ValueError if cut."""
    models._checking.on = False  # records are checked a column at a time once decoded, not one by one
    try:
        return _decoder(kind).decode(body)
    except msgspec.ValidationError as error:
        raise FieldError(_named(str(error), _WHAT[kind])) from None
    except msgspec.DecodeError as error:
        # msgspec also says "truncated" of a lone surrogate in a field it skips: a body that ends as an
        # object does is complete, and would come back the same.
        if "truncated" in str(error) and not body.rstrip().endswith(b"}"):
            raise ValueError(f"{error}: the body was cut short") from None
        raise FieldError(f"the body is not JSON: {error}") from None
    except UnicodeDecodeError as error:  # in a field kept
        raise FieldError(f"the body is not JSON: not UTF-8: {error.reason} at byte {error.start}") from None
    except RecursionError:
        raise FieldError("the body is not JSON pyclann reads: it is nested too deeply") from None
    finally:
        models._checking.on = True


def converted(value: object, kind: type[R]) -> R:
    """A record of `kind` from decoded JSON (a dict), checked as a record decoded from a body is."""
    models._checking.on = False
    try:
        record = msgspec.convert(value, kind)
    except msgspec.ValidationError as error:
        raise FieldError(_named(str(error), _WHAT[kind])) from None
    finally:
        models._checking.on = True
    _checked([record], "")
    return record


def problem(body: bytes) -> dict[str, Any] | None:
    """An error's problem document, as a dict; None if the body is not a JSON object."""
    try:
        found: dict[str, Any] = _decoder(dict[str, Any]).decode(body)
        return found
    except (ValueError, RecursionError):  # msgspec's errors, and UnicodeDecodeError, are ValueErrors
        return None


# msgspec's words for a JSON type, as Python names it
_KINDS = {"array": "list", "object": "dict", "str": "str", "int": "int", "float": "float", "bool": "bool"}
_EXPECTED = {"str": "a string", "str | null": "a string or null", "bool": "a boolean", "array": "an array"}
_EXPECTED |= {"datetime": "an RFC 3339 time", "object": "an object", "object | null": "an object or null"}
# Compiled when an error is first said (re's cache keeps them), not with pyclann.
_MESSAGE = r"(?P<what>.*?)(?: - at `\$(?P<path>[^`]*)`)?"
_STEP = r"\.(\w+)|\[(\d+)\]|\[\.\.\.\]"


def _named(text: str, what: tuple[str, str]) -> str:
    """msgspec's error, said as pyclann says it: the item and the field first."""
    match = re.fullmatch(_MESSAGE, text, re.DOTALL)
    assert match is not None  # every string matches
    said, steps = match["what"], [(s[1], s[2]) for s in re.finditer(_STEP, match["path"] or "")]
    missing = re.fullmatch(r"Object missing required field `(\w+)`", said)
    if missing:
        steps.append((missing[1], ""))
    where: list[str] = []
    field: str | None = None
    for name, index in steps:
        if name and field is not None:  # a field of an object inside a field: say it whole
            field = f"{field}.{name}"
        elif name:
            field = name
        elif field is not None and index and not where:
            where, field = [f"item {index} of {field!r}"], None
    prefix = "".join(f"{part}: " for part in where)
    if field is None:
        wrong = re.fullmatch(r"Expected `(.*)`, got `(.*)`", said)
        if wrong and wrong[1] == "object":
            return f"{prefix}expected a {what[1] if where else what[0]} object, got {_kind(wrong[2])}"
        return f"{prefix}{said}"
    field_said = f"field {field!r}"
    if missing:
        return f"{prefix}{field_said} is missing"
    wrong = re.fullmatch(r"Expected `(.*)`, got `(.*)`", said)
    if wrong:
        return f"{prefix}{field_said} must be {_EXPECTED.get(wrong[1], wrong[1])}, got {_kind(wrong[2])}"
    if said.startswith("Invalid RFC3339") or "timezone component" in said:
        return f"{prefix}{field_said} is not an RFC 3339 time with an offset"
    return f"{prefix}{field_said}: {said[:1].lower()}{said[1:]}"


def _kind(name: str) -> str:
    return _KINDS.get(name, name)


def _checked(records: list[R], where: str, belongs: dict[str, str] | None = None) -> dict[str, list[Any]]:
    """Check a column at a time what msgspec did not: IDs, and times in UTC's range, kept in UTC.

    `belongs` maps a field to the value every record must hold there (the session asked
    for), said with `where`: "item {i} of 'data'", or "" for one record. Returns the
    columns it read, by field name, for a walk to check further.
    """
    if not records:
        return {}
    ids, times = _columns_of(type(records[0]))
    columns: dict[str, list[Any]] = {}
    for name, table, get in ids:
        column = columns[name] = list(map(get, records))
        must = belongs.get(name) if belongs else None
        if must is not None:
            if column.count(must) != len(column):  # the ID asked for, valid: nothing more to check
                index = next(i for i, value in enumerate(column) if value != must)
                raise FieldError(
                    f"{_where(where, index, name)}: a message of {_echo(column[index])}, not of {must!r},"
                    " the session asked for"
                )
        elif not _all_ids(column, table):
            index = next(i for i, value in enumerate(column) if not is_id(value, table))
            said = f"field {name!r} must be a {table} ID, got {_echo(column[index])}"
            raise FieldError(f"{_where(where, index)}{said}")
    for name, get in times:
        column = columns[name] = list(map(get, records))
        if set(map(_TZINFO, column)) != _UTC_ONLY:  # a time written with another offset than Z
            for index, (record, moment) in enumerate(zip(records, column, strict=True)):
                try:
                    column[index] = moment.astimezone(UTC)
                except OverflowError:  # year 1 at +23:59, which is year 0 in UTC
                    raise FieldError(
                        f"{_where(where, index)}field {name!r} is not a time in UTC's range: {moment.isoformat()!r}"
                    ) from None
                _force_setattr(record, name, column[index])
    return columns


_Getter: TypeAlias = Callable[[Any], Any]
_Columns: TypeAlias = tuple[tuple[tuple[str, str, _Getter], ...], tuple[tuple[str, _Getter], ...]]
_COLUMNS: dict[type[Any], _Columns] = {}
_TZINFO = attrgetter("tzinfo")
_UTC_ONLY = {UTC}


def _columns_of(kind: type[_Record]) -> _Columns:
    """A record class's ID fields (with their table) and time fields, each with its getter; read once a class."""
    found = _COLUMNS.get(kind)
    if found is None:
        fields = _fields_of(kind)
        ids = tuple((name, of.table, attrgetter(name)) for name, of in fields.ids.items())
        found = _COLUMNS[kind] = (ids, tuple((name, attrgetter(name)) for name in fields.times))
    return found


def _where(where: str, index: int, field: str | None = None) -> str:
    if not where:
        return f"field {field!r}" if field else ""
    return f"{where.format(index)}: " if field is None else where.format(index)


def _all_ids(column: list[str], table: str) -> bool:
    joined = "\n".join(column)
    return len(joined) == len(column) * (_ID_SIZE + 1) - 1 and _id_patterns(table)[1].fullmatch(joined) is not None


def is_id(value: str, table: str) -> bool:
    """Whether `value` is a full ID of `table` as records carry it (its ULID upper case)."""
    return _id_patterns(table)[0].fullmatch(value) is not None


def is_cursor(value: str) -> bool:
    """Whether `value` is a cursor as the contract's `Cursor` schema has it: 1 to 200 URL-safe characters."""
    return re.fullmatch(_CURSOR, value, re.ASCII) is not None


def is_session_id(value: str) -> bool:
    """Whether `value` is a session's full ID as records carry it (its ULID upper case)."""
    return is_id(value, "chat_session")


def is_message_id(value: str) -> bool:
    """Whether `value` is a message's full ID as records carry it (its ULID upper case)."""
    return is_id(value, "chat_message")


_MessagesRead: TypeAlias = tuple[list[ChatMessage], Sequence[str], list[datetime], str | None]
"""A page's messages, their IDs and times (for a walk to check), and the `after` of the next page."""


def message_page(body: bytes, session: str | None = None) -> _MessagesRead:
    """A page of messages, their IDs and times, and the `after` of the next page (None on the last).

    With `session` (a full ID), every message must be one of that session's.
    """
    page: _MessagePage = _decoded(_MessagePage, body)
    items = page.data
    columns = _checked(items, "item {} of 'data'", None if session is None else {"session": session})
    ids, times = columns.get("id", []), columns.get("created_at", [])
    expected = ids[-1] if ids else None
    if page.last_id != expected:
        raise FieldError(f"field 'last_id' must be the last message's ID {expected!r}, got {_echo(page.last_id)}")
    if page.has_more and not items:
        raise FieldError("field 'has_more' is true on an empty page")
    return items, ids, times, expected if page.has_more else None


def session_page(body: bytes) -> tuple[list[ChatSession], str | None]:
    """A page of sessions, and the cursor of the next page (None on the last)."""
    page: _SessionPage = _decoded(_SessionPage, body)
    _checked(page.data, "item {} of 'data'")
    if page.has_more and not page.data:  # the next cursor is the last session's keyset: a page without one has none
        raise FieldError("field 'has_more' is true on an empty page")
    cursor = page.next_cursor
    if page.has_more and (cursor is None or not is_cursor(cursor)):
        raise FieldError(f"field 'next_cursor' must be a cursor when has_more is true, got {_echo(cursor)}")
    return page.data, cursor if page.has_more else None


def record(kind: type[R], body: bytes) -> R:
    """One record of `kind`, checked."""
    found: R = _decoded(kind, body)
    _checked([found], "")
    return found


class MessageWalk:
    """Reads the pages of one walk over a session's messages: that session's, each page after the last.

    Messages come oldest first, ties broken on the ID. A server may write times more
    coarsely than it orders by, and IDs need not grow with time, so a walk checks what
    every such server keeps: times never go back, no message comes twice, and no page
    holds the message the walk started after. So a server that repeats or goes back
    cannot make a walk loop or yield a message twice. A walk remembers the ID of each
    message it has read (about 150 bytes each) to know; given `remember`, only the IDs of
    that many of the latest (a follow reads for days: its memory must not grow with them).
    """

    __slots__ = ("_latest", "_remember", "_seen", "_session")

    def __init__(self, session_ulid: str, after: str | None, remember: int | None = None) -> None:
        self._session = f"chat_session:{session_ulid}"
        self._latest: datetime | None = None
        self._remember = remember
        # The message the walk starts after counts as read: a page must not hold it either.
        # A dict, not a set: its order is the order read, so the oldest can be forgotten first.
        self._seen = dict[str, None]() if after is None else {f"chat_message:{after}": None}

    def read(self, body: bytes) -> tuple[list[ChatMessage], str | None]:
        items, ids, times, cursor = message_page(body, self._session)
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
        if not seen.keys().isdisjoint(ids):
            index = next(i for i, each in enumerate(ids) if each in seen or each in ids[:i])
        else:
            seen.update(dict.fromkeys(ids))
            if len(seen) == read + len(ids):
                self._latest = times[-1]
                if self._remember is not None:
                    for _ in range(len(seen) - self._remember):
                        del seen[next(iter(seen))]
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
        items, cursor = session_page(body)
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
    """Reads a session that must be the one asked for, holding what a write asked for (`fields`), if it did."""

    __slots__ = ("_fields", "_id")

    def __init__(self, ulid: str, fields: dict[str, str | None] | None = None) -> None:
        self._id = f"chat_session:{ulid}"
        self._fields = fields

    def read(self, body: bytes) -> ChatSession:
        found = record(ChatSession, body)
        if found.id != self._id:
            raise FieldError(f"field 'id' must be {self._id!r}, the session asked for, got {found.id!r}")
        if self._fields:
            _holds(found, self._fields, "asked for")
        return found


class TheMessage:
    """Reads a message that must be of the session asked for (and, given, the message asked for, or the one sent)."""

    __slots__ = ("_fields", "_id", "_session")

    def __init__(
        self, session_ulid: str, message_ulid: str | None = None, fields: dict[str, str | None] | None = None
    ) -> None:
        self._session = f"chat_session:{session_ulid}"
        self._id = None if message_ulid is None else f"chat_message:{message_ulid}"
        self._fields = fields

    def read(self, body: bytes) -> ChatMessage:
        found: ChatMessage = _decoded(ChatMessage, body)
        _checked([found], "", {"session": self._session})
        if self._id is not None and found.id != self._id:
            raise FieldError(f"field 'id' must be {self._id!r}, the message asked for, got {found.id!r}")
        if self._fields:
            _holds(found, self._fields, "sent")  # the contract keeps a message's role and content exactly
        return found


class NewSession:
    """Reads a session just made: it must hold the title, owner and tree it was made with."""

    __slots__ = ("_fields",)

    def __init__(self, fields: dict[str, str | None]) -> None:
        self._fields = fields

    def read(self, body: bytes) -> ChatSession:
        found = record(ChatSession, body)
        _holds(found, self._fields, "asked for")
        return found


def _holds(found: ChatSession | ChatMessage, fields: dict[str, str | None], how: str) -> None:
    """Refuse a record that contradicts its request: another owner, tree, title, role or content than sent."""
    for name, wanted in fields.items():
        got = getattr(found, name)
        if got != wanted:
            raise FieldError(f"field {name!r} must be {_echo(wanted)}, as {how}, got {_echo(got)}")


def nothing(body: bytes) -> None:
    """The reader of a 204: there is no body to read."""


def _echo(value: object) -> str:
    return quoted(value, 60)
