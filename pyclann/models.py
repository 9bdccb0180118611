"""pyclann's own records: what every method returns, whatever generated/ holds.

Both are frozen, with timezone-aware `datetime` fields in UTC, and convert to and
from the wire's JSON form. They are named tuples: the cheapest frozen record
Python can make in bulk (a listing of 10,000 messages is made a page at a time,
and a frozen attrs class cost twice as much to fill), and `_replace(title=...)`
makes a changed copy. A record equals only a record of its own class.

    >>> session.to_dict()["created_at"]
    '2026-11-26T09:00:00.000001Z'
    >>> ChatSession.from_dict(session.to_dict()) == session
    True
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, NamedTuple

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


class ChatSession(NamedTuple):
    """An AI chat session.

    Attributes:
        id: Full record ID, `chat_session:<ULID>`.
        title: The session's title.
        created_by: Username of the session's owner.
        tree: The tree slug the session is scoped to, or None.
        created_at: When it was created (UTC).
        updated_at: When it, or its newest message, last changed (UTC).
    """

    id: str
    title: str
    created_by: str
    tree: str | None
    created_at: datetime
    updated_at: datetime

    def __eq__(self, other: object) -> bool:
        # A record is not a tuple of its values: it equals only a record of its own class.
        return type(other) is type(self) and tuple.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:  # defining __eq__ would otherwise make the record unhashable
        return tuple.__hash__(self)

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


class ChatMessage(NamedTuple):
    """One message of a chat session.

    Attributes:
        id: Full record ID, `chat_message:<ULID>`.
        session: Full record ID of its session.
        role: A `Role` when this client knows it, else the server's string.
        content: The message text, exactly as sent.
        created_at: When it was appended (UTC).
    """

    id: str
    session: str
    role: str
    content: str
    created_at: datetime

    def __eq__(self, other: object) -> bool:
        # A record is not a tuple of its values: it equals only a record of its own class.
        return type(other) is type(self) and tuple.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:  # defining __eq__ would otherwise make the record unhashable
        return tuple.__hash__(self)

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
