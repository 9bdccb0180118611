"""The chat operations of openapi.yaml, one method each, on the store.

A handler gets a request whose parameters and body already match the
contract, and returns the status, body and `Location` of its answer, or
raises a Problem. Authentication and idempotency are done around it.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .pages import decode_cursor, listing_tag, message_page, session_page
from .problems import Problem, echo, invalid_fields
from .store import Store

KNOWN_ROLES = ("user", "assistant", "system")
SESSIONS = "/api/chat/sessions"


@dataclass(frozen=True)
class Call:
    """One request, as far as a handler needs to know it.

    Attributes:
        user: The token's user.
        params: The operation's parameters by name, typed, with their defaults.
        body: The JSON body, for an operation that takes one.
    """

    user: str
    params: dict[str, Any]
    body: Any = None


@dataclass(frozen=True)
class Result:
    """A handler's answer: its status, JSON body (empty for none), and `Location` on a 201."""

    status: int
    body: bytes
    location: str | None = None
    session: str | None = None  # the session written to, which an idempotency record is purged with
    empty: bool = False  # a listing's page with no records: a long poll keeps waiting


Handler = Callable[[Call], Result]


class Operations:
    """The handlers, by operation ID."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.handlers: dict[str, Handler] = {
            "list_sessions": self.list_sessions,
            "create_session": self.create_session,
            "get_session": self.get_session,
            "update_session": self.update_session,
            "delete_session": self.delete_session,
            "list_messages": self.list_messages,
            "append_message": self.append_message,
            "get_message": self.get_message,
        }

    @staticmethod
    def check(operation_id: str, call: Call) -> None:
        """The server's own rules for a request, beyond its schema: a role this server knows."""
        if operation_id == "append_message" and call.body["role"] not in KNOWN_ROLES:
            role = call.body["role"]
            raise invalid_fields(
                [{"field": "role", "message": f"must be one of {', '.join(KNOWN_ROLES)}, got {echo(role)}"}]
            )

    # -- sessions ---------------------------------------------------------------

    def list_sessions(self, call: Call) -> Result:
        created_by = call.params["created_by"]
        self._require_self(call, created_by)
        cursor, tree = call.params.get("cursor"), call.params.get("tree")
        tag = listing_tag(created_by, tree)
        # A walk reads every page as of its first: its cursors carry that time, and their listing.
        as_of, after = decode_cursor(cursor, tag) if cursor is not None else (None, None)
        as_of = as_of or self.store.latest()
        limit = call.params["limit"]
        sessions = self.store.sessions(created_by, tree, after, limit + 1, as_of)
        return Result(200, session_page(sessions, limit, as_of, tag))

    def create_session(self, call: Call) -> Result:
        body = call.body
        self._require_self(call, body["created_by"])
        session = self.store.create_session(body["title"], body["created_by"], body.get("tree"))
        ulid = _ulid(session)
        return Result(201, _json(session), f"{SESSIONS}/{ulid}", ulid)

    def get_session(self, call: Call) -> Result:
        return Result(200, _json(self._owned_session(call)))

    def update_session(self, call: Call) -> Result:
        ulid = _ulid(self._owned_session(call))
        return Result(200, _json(self.store.update_session(ulid, **call.body)), session=ulid)

    def delete_session(self, call: Call) -> Result:
        ulid = _ulid(self._owned_session(call))
        self.store.delete_session(ulid)
        return Result(204, b"", session=ulid)

    # -- messages ---------------------------------------------------------------

    def list_messages(self, call: Call) -> Result:
        session = _ulid(self._owned_session(call))
        after = None
        if "after" in call.params:
            given = call.params["after"]
            found = self.store.get_message(session, given.rpartition(":")[2])
            if found is None:
                raise Problem("invalid-parameter", f"after: {echo(given)} is not a message of this session")
            after = _ulid(found)
        limit = call.params["limit"]
        messages = self.store.messages(session, after, limit + 1)
        first = next(messages, None)
        if first is None:
            return Result(200, message_page((), limit), empty=True)
        return Result(200, message_page(itertools.chain((first,), messages), limit))

    def append_message(self, call: Call) -> Result:
        session = _ulid(self._owned_session(call))
        message = self.store.append_message(session, call.body["role"], call.body["content"])
        return Result(201, _json(message), f"{SESSIONS}/{session}/messages/{_ulid(message)}", session)

    def get_message(self, call: Call) -> Result:
        session = _ulid(self._owned_session(call))
        ulid = call.params["message_ulid"]
        message = self.store.get_message(session, ulid)
        if message is None:
            raise Problem("not-found", f"chat message {ulid} does not exist in chat session {session}")
        return Result(200, _json(message))

    # -- ownership --------------------------------------------------------------

    @staticmethod
    def _require_self(call: Call, username: str) -> None:
        if username != call.user:
            raise Problem("forbidden", f"this token may not act for user {echo(username)}")

    def _owned_session(self, call: Call) -> dict[str, Any]:
        ulid = call.params["session_ulid"]
        found = self.store.get_session(ulid)
        # Another user's session is reported exactly like a missing one.
        if found is None or found["created_by"] != call.user:
            raise Problem("not-found", f"chat session {ulid} does not exist")
        return found


def _ulid(record: dict[str, Any]) -> str:
    return str(record["id"]).partition(":")[2]


def _json(record: dict[str, Any]) -> bytes:
    return json.dumps(record, ensure_ascii=False).encode()
