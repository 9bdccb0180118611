"""pyclann's own records: what every method returns, each defined once as a frozen msgspec Struct.

Both are frozen, with timezone-aware `datetime` fields in UTC, and convert to and
from the wire's JSON form:

    >>> session.to_dict()["created_at"]
    '2026-11-26T09:00:00.000001Z'
    >>> ChatSession.from_dict(session.to_dict()) == session
    True

A record equals a record of its own class with the same fields, hashes, pickles,
copies, matches by position and keyword (`case ChatMessage(id, session)`), and
`copy.replace` (Python 3.13) makes a changed copy: msgspec writes all of that.

Why msgspec, not attrs (measured on a 10,000-message page, Python 3.11, against
`json.loads` of the same bytes): msgspec decodes the bytes straight into these
Structs in C, in 0.40x `json.loads`; decoding into a frozen attrs class (msgspec
takes those too) runs its `__init__` and validators per record, 1.07x before any
check, and its instances are tracked by the garbage collector (`gc=False` Structs
are not). A Python check per record costs as much as the whole decode (a
`__post_init__` with a regex per ID: 1.37x), so the records checked here are those
made by hand, by `from_dict` and by `copy.replace`; a page read from a body is
checked a column at a time by `pyclann._parse`, as the fields' annotations say:
`_SessionId`, `_MessageId`, `_Time`, `Role`.

Roles: `Role` is what this client knows. A message's `role` is a `MessageRole`: a
`Role` when this client knows it, else the server's string, typed `CustomRole`,
which is also how a role your server knows and this client does not is sent:
`client.append_message(session, CustomRole("tool"), "...")`.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from functools import cache
from types import UnionType
from typing import (
    TYPE_CHECKING,
    Annotated,
    Any,
    Literal,
    NewType,
    Self,
    TypeAlias,
    Union,
    get_args,
    get_origin,
)

import msgspec

from .errors import ClannInvalidArgumentError

__all__ = ["ChatMessage", "ChatSession", "CustomRole", "MessageRole", "Role"]


class Role(StrEnum):
    """The roles this client knows. A message may carry another (a newer server's): see `CustomRole`.

    Attributes:
        USER: `"user"`: what the person wrote.
        ASSISTANT: `"assistant"`: what the AI answered.
        SYSTEM: `"system"`: instructions that frame the conversation.
    """

    USER = "user"
    ASSISTANT = "assistant"
    SYSTEM = "system"


CustomRole = NewType("CustomRole", str)
"""A role this client does not know and your server does, as in `CustomRole("tool")`.

A type checker refuses a plain string that is not one of `Role`'s (`"bot"`, `"User"`):
say `CustomRole("tool")` to send a role your server has learned. A message read with
such a role carries it as a plain `str`, typed `CustomRole`, which can be sent back as it is.
"""

MessageRole: TypeAlias = Role | Literal["user", "assistant", "system"] | CustomRole
"""What a message's role may be: a `Role`, its value as a literal string, or a `CustomRole`."""


class _IdOf:
    """Marks a `str` field that holds a record's full ID, `<table>:<ULID>`, as records carry it.

    Plain classes, this and `_Fields`: a typed named tuple costs `import pyclann` a sixth of a millisecond.
    """

    __slots__ = ("noun", "table")

    def __init__(self, table: str, noun: str) -> None:
        self.table = table
        self.noun = noun


_SessionId = Annotated[str, _IdOf("chat_session", "session")]
_MessageId = Annotated[str, _IdOf("chat_message", "message")]
_Time = Annotated[datetime, msgspec.Meta(tz=True)]  # RFC 3339 with an offset, checked by msgspec in C

if TYPE_CHECKING:
    _Role: TypeAlias = MessageRole
else:
    # msgspec decodes a union of one string type only: on the wire, a role is any string.
    _Role = str


class _Checks(threading.local):
    """Whether `__post_init__` checks this thread's records; off while `_parse` decodes a body."""

    on = True


_checking = _Checks()


# omit_defaults: an optional field left at its default is left out of to_dict(), as the wire leaves it out.
class _Record(msgspec.Struct, frozen=True, gc=False, omit_defaults=True):  # strings and datetimes: no cycle
    """A frozen record; what its fields hold is checked when it is made by hand, as `from_dict` checks it."""

    def __post_init__(self) -> None:
        if _checking.on:
            _check(self)

    def __repr__(self) -> str:
        # Python's repr escapes what is not printable (a lone surrogate, a bidi override); a letter an
        # ASCII stream cannot take is escaped too, as ascii() would, so that any stream prints a record.
        from ._printable import escaped

        return escaped(msgspec.Struct.__repr__(self))

    def to_dict(self) -> dict[str, Any]:
        """The record in the wire's JSON form, times as RFC 3339 strings in UTC with a `Z`; `json.dumps` takes it."""
        return {
            name: _format_time(value) if isinstance(value, datetime) else value
            for name, value in msgspec.to_builtins(self, builtin_types=(datetime,)).items()
        }

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> Self:
        """Read a record from its JSON form, as `to_dict()` and the API write it.

        Args:
            value: The decoded JSON object, or any mapping of the same (str subclasses, a `Role`, welcome).

        Returns:
            The record.

        Raises:
            ClannInvalidArgumentError: If a field is missing or not valid, naming it.
        """
        from . import _parse  # here, not at the top: _parse reads these classes

        try:
            return _parse.converted(_plain(value), cls)
        except _parse.FieldError as error:
            raise ClannInvalidArgumentError(f"not a {_NOUNS[cls.__name__]}: {error}") from None


class ChatSession(_Record, frozen=True, gc=False):
    """An AI chat session.

    Attributes:
        id: Full record ID, `chat_session:<ULID>`.
        title: The session's title.
        created_by: Username of the session's owner.
        tree: The tree slug the session is scoped to, or None.
        created_at: When it was created (UTC).
        updated_at: When it, or its newest message, last changed (UTC).
    """

    id: _SessionId
    title: str
    created_by: str
    tree: str | None
    created_at: _Time
    updated_at: _Time


class ChatMessage(_Record, frozen=True, gc=False):
    """One message of a chat session.

    Attributes:
        id: Full record ID, `chat_message:<ULID>`.
        session: Full record ID of its session.
        role: The role, as the server wrote it: a plain `str`, equal to a `Role` when this client knows it.
        content: The message text, exactly as sent.
        created_at: When it was appended (UTC).
    """

    id: _MessageId
    session: _SessionId
    role: _Role
    content: str
    created_at: _Time


_NOUNS = {"ChatSession": "chat session", "ChatMessage": "chat message"}


class _Fields:
    """A record class's fields by what is checked: IDs (and of what), times, and each one's types."""

    __slots__ = ("ids", "times", "types")

    def __init__(self, ids: dict[str, _IdOf], times: tuple[str, ...], types: dict[str, tuple[type, ...]]) -> None:
        self.ids = ids
        self.times = times
        self.types = types


@cache
def _fields_of(cls: type[_Record]) -> _Fields:
    """What each field of `cls` must hold, read once from its annotations."""
    hints = msgspec.structs.fields(cls)
    ids: dict[str, _IdOf] = {}
    times: list[str] = []
    types: dict[str, tuple[type, ...]] = {}
    for field in hints:
        kind, extras = field.type, []
        if get_origin(kind) is Annotated:
            kind, *extras = get_args(kind)
        ids.update((field.name, extra) for extra in extras if isinstance(extra, _IdOf))
        if kind is datetime:
            times.append(field.name)
        types[field.name] = _runtime_types(kind)
    return _Fields(ids, tuple(times), types)


def _runtime_types(kind: Any) -> tuple[type, ...]:
    if kind is Any:
        return (object,)
    if kind is None or kind is type(None):
        return (type(None),)
    origin = get_origin(kind)
    if origin is Union or origin is UnionType:
        return tuple(t for arg in get_args(kind) for t in _runtime_types(arg))
    return (origin,) if isinstance(origin, type) else (kind,)  # dict[str, Any] is a dict


def _check(record: _Record) -> None:
    """Check a record made by hand as `from_dict` checks it, so that it fails where it is made.

    Times are kept in UTC.
    """
    from . import _parse  # here, not at the top: _parse reads these classes

    kind, fields = type(record).__name__, _fields_of(type(record))
    for name, types in fields.types.items():
        value = getattr(record, name)
        if not isinstance(value, types):
            expected = " or ".join("None" if t is type(None) else f"a {t.__name__}" for t in types)
            raise TypeError(f"{kind}: {name} must be {expected}, not {type(value).__name__}")
        of = fields.ids.get(name)
        if of is not None and isinstance(value, str) and not _parse.is_id(value, of.table):
            raise ClannInvalidArgumentError(f"{kind}: {name} must be a {of.noun}'s full ID: {value!r}")
        if isinstance(value, datetime) and name in fields.times:
            if value.utcoffset() is None:  # read as local time, it would shift on the wire
                raise ClannInvalidArgumentError(f"{kind}: {name} must be timezone-aware: {value!r}")
            if value.tzinfo is not UTC:
                msgspec.structs.force_setattr(record, name, value.astimezone(UTC))


def _format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with a `Z`, as the API writes times."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _plain(value: object) -> object:
    """A mapping as the decoded JSON the readers take: a dict, its str subclasses (a `Role`) plain str."""
    if not isinstance(value, Mapping):
        return value
    return {key: str.__str__(item) if isinstance(item, str) else item for key, item in value.items()}
