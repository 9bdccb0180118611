"""Pages of a listing: one page's records, whether more follow, and what resumes the listing after it.

`list_sessions_page` returns a `SessionPage`, `list_messages_page` a `MessagePage`;
the raw views' `iter_sessions` and `iter_messages` yield one per page too. Both are
frozen msgspec records, like `ChatSession` and `ChatMessage`, holding nothing of the
client: a page pickles, and what resumes after it (`next_cursor`, `next_after`) is a
plain string that a stateless web backend can hand to a browser and take back later:

    page = chat.list_sessions_page("alice", cursor=cursor_from_the_browser, page_size=20)
    reply = {"sessions": [s.to_dict() for s in page], "cursor": page.next_cursor}

A page is a sequence of its records (`len(page)`, `page[0]`, `for session in page`),
as the list the raw views' pages held before, and as a Stripe list object is.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, overload

import msgspec

from .models import ChatMessage, ChatSession

__all__ = ["MessagePage", "SessionPage"]


class SessionPage(msgspec.Struct, frozen=True, gc=False):  # records, strings, a bool: no cycle
    """One page of a user's chat sessions, most recently updated first, and the cursor of the next.

    Pass `next_cursor` as `cursor=` to `list_sessions_page` (or `iter_sessions`) for the
    sessions after this page; it is None on the last page. A cursor is an opaque string
    of at most 200 URL-safe characters, which may be kept and used later, by another process.

    Attributes:
        data: The page's sessions.
        has_more: Whether another page follows.
        next_cursor: The `cursor` of the next page; None when `has_more` is false.
    """

    data: tuple[ChatSession, ...]
    has_more: bool
    next_cursor: str | None

    @overload
    def __getitem__(self, index: int) -> ChatSession: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[ChatSession, ...]: ...
    def __getitem__(self, index: int | slice) -> ChatSession | tuple[ChatSession, ...]:
        return self.data[index]

    def __iter__(self) -> Iterator[ChatSession]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    def has_next_page(self) -> bool:
        """Whether another page follows this one, as openai-python's pages say it: `has_more`."""
        return self.has_more

    def to_dict(self) -> dict[str, Any]:
        """The page in the wire's JSON form (`data`, `has_more`, `next_cursor`); `json.dumps` takes it."""
        return {"data": [s.to_dict() for s in self.data], "has_more": self.has_more, "next_cursor": self.next_cursor}


class MessagePage(msgspec.Struct, frozen=True, gc=False):
    """One page of a session's messages, oldest first, and the `after` of the next.

    Pass `next_after` as `after=` to `list_messages_page` (or `iter_messages`) for the
    messages after this page, now or later: it is the last message's ID, or on an empty
    page the `after` this page was asked with, so that polling with it never starts over.

    Attributes:
        data: The page's messages.
        has_more: Whether more messages follow this page (as of when it was read).
        after: The full ID of the message this page starts after, as asked; None for a session's first page.
    """

    data: tuple[ChatMessage, ...]
    has_more: bool
    after: str | None

    @overload
    def __getitem__(self, index: int) -> ChatMessage: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[ChatMessage, ...]: ...
    def __getitem__(self, index: int | slice) -> ChatMessage | tuple[ChatMessage, ...]:
        return self.data[index]

    def __iter__(self) -> Iterator[ChatMessage]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    def has_next_page(self) -> bool:
        """Whether another page follows this one, as openai-python's pages say it: `has_more`."""
        return self.has_more

    @property
    def first_id(self) -> str | None:
        """The first message's full ID; None when the page is empty."""
        return self.data[0].id if self.data else None

    @property
    def last_id(self) -> str | None:
        """The last message's full ID; None when the page is empty."""
        return self.data[-1].id if self.data else None

    @property
    def next_after(self) -> str | None:
        """The `after` of the next page, or of the next poll: `last_id`, or on an empty page `after`."""
        return self.data[-1].id if self.data else self.after

    def to_dict(self) -> dict[str, Any]:
        """The page in the wire's JSON form (`data`, `has_more`, `first_id`, `last_id`); `json.dumps` takes it."""
        return {
            "data": [m.to_dict() for m in self.data],
            "has_more": self.has_more,
            "first_id": self.first_id,
            "last_id": self.last_id,
        }
