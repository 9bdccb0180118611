"""pyclann's own records: what every method returns, whatever generated/ holds.

Both are frozen, with timezone-aware `datetime` fields in UTC, and convert to and
from the wire's JSON form:

    >>> session.to_dict()["created_at"]
    '2026-11-26T09:00:00.000001Z'
    >>> ChatSession.from_dict(session.to_dict()) == session
    True
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import attrs

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


@attrs.frozen
class ChatSession:
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


@attrs.frozen
class ChatMessage:
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
