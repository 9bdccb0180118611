"""pyclann's own records: what every method returns, whatever generated/ holds.

Both are frozen, with timezone-aware `datetime` fields in UTC, and convert to and
from the wire's JSON form:

    >>> session.to_dict()["created_at"]
    '2026-11-26T09:00:00.000001Z'
    >>> ChatSession.from_dict(session.to_dict()) == session
    True

A record keeps its fields in one tuple behind read-only properties: a listing of
10,000 messages is made a page at a time, and a record with one slot to fill is
made in C for a whole page, where a frozen attrs class, filled a slot at a time,
cost twice as much. A record equals a record of its own class with the same
fields, hashes, pickles, matches by position (`case ChatMessage(id, session)`),
and `copy.replace` (Python 3.13) makes a changed copy.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar, Self

from .errors import ClannInvalidArgumentError

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


class _Record:
    """A frozen record whose fields (named in `_fields`) are kept in one tuple, `_values`."""

    __slots__ = ("__weakref__", "_values")
    _fields: ClassVar[tuple[str, ...]]
    _ids: ClassVar[dict[str, str]]
    _values: tuple[Any, ...]

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen: {name!r} cannot be set")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen: {name!r} cannot be deleted")

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self) or not isinstance(other, _Record):
            return NotImplemented
        return self._values == other._values

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._values))

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={value!r}" for name, value in zip(self._fields, self._values, strict=True))
        return f"{type(self).__name__}({fields})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), self._values)

    def __replace__(self, **changes: Any) -> Self:
        unknown = set(changes) - set(self._fields)
        if unknown:
            raise TypeError(f"{type(self).__name__} has no field(s) {', '.join(sorted(unknown))}")
        values = tuple(changes.get(name, value) for name, value in zip(self._fields, self._values, strict=True))
        return type(self)(*values)


def _set(record: _Record, values: tuple[Any, ...]) -> None:
    """Fill a record made by its class's `__init__` with `values` as the wire would give them.

    Each is checked as `from_dict` checks it, so that a record made by hand (in a test,
    say) fails where it is made, not when it is sent or read back; times are kept in UTC.
    """
    from . import _parse  # here, not at the top: _parse builds these classes

    kind, checked = type(record).__name__, []
    for name, value in zip(record._fields, values, strict=True):
        if name.endswith("_at"):
            if not isinstance(value, datetime):
                raise TypeError(f"{kind}: {name} must be a datetime, not {type(value).__name__}")
            if value.utcoffset() is None:  # read as local time, it would shift on the wire
                raise ClannInvalidArgumentError(f"{kind}: {name} must be timezone-aware: {value!r}")
            value = value.astimezone(UTC)
        elif isinstance(value, str):
            of = record._ids.get(name)
            if of is not None and not (_parse.is_session_id if of == "session" else _parse.is_message_id)(value):
                raise ClannInvalidArgumentError(f"{kind}: {name} must be a {of}'s full ID: {value!r}")
        elif name != "tree" or value is not None:
            expected = "a str or None" if name == "tree" else "a str"
            raise TypeError(f"{kind}: {name} must be {expected}, not {type(value).__name__}")
        checked.append(value)
    object.__setattr__(record, "_values", tuple(checked))


class ChatSession(_Record):
    """An AI chat session."""

    __slots__ = ()
    _fields = ("id", "title", "created_by", "tree", "created_at", "updated_at")
    _ids: ClassVar[dict[str, str]] = {"id": "session"}  # the fields that are record IDs, and of what
    __match_args__ = ("id", "title", "created_by", "tree", "created_at", "updated_at")
    _values: tuple[str, str, str, str | None, datetime, datetime]

    def __init__(
        self, id: str, title: str, created_by: str, tree: str | None, created_at: datetime, updated_at: datetime
    ) -> None:
        _set(self, (id, title, created_by, tree, created_at, updated_at))

    @property
    def id(self) -> str:
        """Full record ID, `chat_session:<ULID>`."""
        return self._values[0]

    @property
    def title(self) -> str:
        """The session's title."""
        return self._values[1]

    @property
    def created_by(self) -> str:
        """Username of the session's owner."""
        return self._values[2]

    @property
    def tree(self) -> str | None:
        """The tree slug the session is scoped to, or None."""
        return self._values[3]

    @property
    def created_at(self) -> datetime:
        """When it was created (UTC)."""
        return self._values[4]

    @property
    def updated_at(self) -> datetime:
        """When it, or its newest message, last changed (UTC)."""
        return self._values[5]

    def to_dict(self) -> dict[str, Any]:
        """The session in the wire's JSON form, times as RFC 3339 strings; `json.dumps` takes it."""
        return {
            "id": self.id,
            "title": self.title,
            "created_by": self.created_by,
            "tree": self.tree,
            "created_at": _format_time(self.created_at),
            "updated_at": _format_time(self.updated_at),
        }

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> ChatSession:
        """Read a session from its JSON form, as `to_dict()` and the API write it.

        Args:
            value: The decoded JSON object, or any mapping of the same (str subclasses, a `Role`, welcome).

        Returns:
            The session.

        Raises:
            ClannInvalidArgumentError: If a field is missing or not valid, naming it.
        """
        from . import _parse  # here, not at the top: _parse builds these classes

        try:
            return _parse.session(_plain(value))
        except _parse.FieldError as error:
            raise ClannInvalidArgumentError(f"not a chat session: {error}") from None


class ChatMessage(_Record):
    """One message of a chat session."""

    __slots__ = ()
    _fields = ("id", "session", "role", "content", "created_at")
    _ids: ClassVar[dict[str, str]] = {"id": "message", "session": "session"}
    __match_args__ = ("id", "session", "role", "content", "created_at")
    _values: tuple[str, str, str, str, datetime]

    def __init__(self, id: str, session: str, role: str, content: str, created_at: datetime) -> None:
        _set(self, (id, session, role, content, created_at))

    @property
    def id(self) -> str:
        """Full record ID, `chat_message:<ULID>`."""
        return self._values[0]

    @property
    def session(self) -> str:
        """Full record ID of its session."""
        return self._values[1]

    @property
    def role(self) -> str:
        """A `Role` when this client knows it, else the server's string."""
        return self._values[2]

    @property
    def content(self) -> str:
        """The message text, exactly as sent."""
        return self._values[3]

    @property
    def created_at(self) -> datetime:
        """When it was appended (UTC)."""
        return self._values[4]

    def to_dict(self) -> dict[str, Any]:
        """The message in the wire's JSON form, its time as an RFC 3339 string; `json.dumps` takes it."""
        return {
            "id": self.id,
            "session": self.session,
            "role": str(self.role),
            "content": self.content,
            "created_at": _format_time(self.created_at),
        }

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> ChatMessage:
        """Read a message from its JSON form, as `to_dict()` and the API write it.

        Args:
            value: The decoded JSON object, or any mapping of the same (str subclasses, a `Role`, welcome).

        Returns:
            The message.

        Raises:
            ClannInvalidArgumentError: If a field is missing or not valid, naming it.
        """
        from . import _parse

        try:
            return _parse.message(_plain(value))
        except _parse.FieldError as error:
            raise ClannInvalidArgumentError(f"not a chat message: {error}") from None


def _format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with a `Z`, as the API writes times."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _plain(value: object) -> object:
    """A mapping as the decoded JSON the readers take: a dict, its str subclasses (a `Role`) plain str."""
    if not isinstance(value, Mapping):
        return value
    return {key: str.__str__(item) if isinstance(item, str) else item for key, item in value.items()}
