"""The audit: what each call was finally told, against what the dev server holds, read from its SQLite file.

Each lane of the workload is one user, whose records only that lane touches,
one call at a time; so the server's state of that user, read right after a
call, is its state throughout the next one. The audit reads it after every
write, and checks each call against the states before and after it:

    lost                told stored (a session created, a message appended), and not there
    doubled             stored more than once
    phantom deletes     told deleted, yet still there (or never there); told not found, yet it was there
    wrong listings      a listing or walk that is not what the server held, as openapi.yaml's
                        walks define it: a session walk, the sessions as they were when its first
                        page was fetched, less those deleted before each page; a message walk,
                        the messages when each page was fetched
    wrong renames       told renamed, and the server holds another title or tree (or the answer differs)
    unflagged landings  a write that raised saying it had not been carried out (not `may_have_landed`),
                        and the caller gave up on it; yet it was carried out
    wrong answers       a record returned that differs from the server's; not found for one that exists
    stray changes       a change to the server that the call did not ask for
    late changes        a change after the lane's last call (a write that landed after its caller moved on)
    escaped errors      an exception that is not a ClannError
    wrong keys          a write's error without the idempotency key all its attempts were sent with

Records are compared field by field, times as instants, so a listing is right only
if every record in it is the server's, in the server's order.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pyclann import ChatMessage, ChatSession, ClannError, ClannNotFoundError, NotGiven

HEADLINE = ("lost", "doubled", "phantom deletes", "wrong listings")
CATEGORIES = (
    *HEADLINE,
    "wrong renames",
    "unflagged landings",
    "wrong answers",
    "stray changes",
    "late changes",
    "escaped errors",
    "wrong keys",
)
_EXAMPLES = 5


@dataclass(frozen=True)
class SessionRow:
    id: str
    title: str
    created_by: str
    tree: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, session: ChatSession) -> SessionRow:
        return cls(session.id, session.title, session.created_by, session.tree, session.created_at, session.updated_at)

    @property
    def position(self) -> tuple[datetime, str]:
        """Where it sorts in a listing: most recently updated first, ties broken on the ID."""
        return self.updated_at, self.id


@dataclass(frozen=True)
class MessageRow:
    id: str
    session: str
    role: str
    content: str
    created_at: datetime

    @classmethod
    def of(cls, message: ChatMessage) -> MessageRow:
        return cls(message.id, message.session, message.role, message.content, message.created_at)


@dataclass(frozen=True)
class State:
    """One user's sessions, and their messages oldest first, as the server held them at one moment."""

    sessions: dict[str, SessionRow] = field(default_factory=dict)
    messages: dict[str, tuple[MessageRow, ...]] = field(default_factory=dict)

    def listing(self, tree: str | None) -> list[SessionRow]:
        """What `list_sessions` must return now."""
        kept = [s for s in self.sessions.values() if tree is None or s.tree == tree]
        return sorted(kept, key=lambda s: s.position, reverse=True)

    def message(self, session: str, message: str) -> MessageRow | None:
        return next((m for m in self.messages.get(session, ()) if m.id == message), None)

    def all_messages(self) -> dict[str, MessageRow]:
        return {m.id: m for ms in self.messages.values() for m in ms}


class ServerStore:
    """The dev server's SQLite file, read-only, from a connection of its own (WAL: reads never block writes)."""

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, check_same_thread=False)

    def close(self) -> None:
        self._db.close()

    def state(self, user: str) -> State:
        sessions = {
            f"chat_session:{row[0]}": SessionRow(
                f"chat_session:{row[0]}", row[1], row[2], row[3], _t(row[4]), _t(row[5])
            )
            for row in self._db.execute(
                "SELECT ulid, title, created_by, tree, created_at, updated_at FROM chat_session WHERE created_by = ?",
                (user,),
            )
        }
        messages: dict[str, list[MessageRow]] = {}
        rows = self._db.execute(
            "SELECT m.ulid, m.session, m.role, m.content, m.created_at FROM chat_message m "
            "JOIN chat_session s ON s.ulid = m.session WHERE s.created_by = ? ORDER BY m.session, m.ulid",
            (user,),
        )
        for ulid, session, role, content, created_at in rows:
            sid = f"chat_session:{session}"
            messages.setdefault(sid, []).append(MessageRow(f"chat_message:{ulid}", sid, role, content, _t(created_at)))
        return State(sessions, {sid: tuple(ms) for sid, ms in messages.items()})


def _t(text: str) -> datetime:
    return datetime.fromisoformat(text)


@dataclass(frozen=True)
class Told:
    """What a call was finally told: a value, or the error it raised last."""

    value: Any = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def not_found(self) -> bool:
        return isinstance(self.error, ClannNotFoundError)

    @property
    def refused(self) -> bool:
        """A write's error that says it was not carried out."""
        return isinstance(self.error, ClannError) and not self.error.may_have_landed


@dataclass
class _Diff:
    added: list[SessionRow]
    removed: list[SessionRow]
    changed: list[tuple[SessionRow, SessionRow]]
    added_messages: list[MessageRow]
    removed_messages: list[MessageRow]


def _diff(before: State, after: State) -> _Diff:
    old, new = before.all_messages(), after.all_messages()
    return _Diff(
        added=[s for sid, s in after.sessions.items() if sid not in before.sessions],
        removed=[s for sid, s in before.sessions.items() if sid not in after.sessions],
        changed=[(s, after.sessions[sid]) for sid, s in before.sessions.items() if after.sessions.get(sid, s) != s],
        added_messages=[m for mid, m in new.items() if mid not in old],
        removed_messages=[m for mid, m in old.items() if mid not in new],
    )


@dataclass
class Audit:
    """The counts of what went wrong, with a few examples of each."""

    counts: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)
    checked: Counter[str] = field(default_factory=Counter)

    def flag(self, category: str, detail: str) -> None:
        assert category in CATEGORIES, category
        self.counts[category] += 1
        shown = self.examples.setdefault(category, [])
        if len(shown) < _EXAMPLES:
            shown.append(detail)

    @property
    def failures(self) -> int:
        return self.counts.total()

    # -- writes -------------------------------------------------------------------------

    def create(self, call: str, title: str, tree: str | None, told: Told, before: State, after: State) -> None:
        self.checked["create_session"] += 1
        diff = _diff(before, after)
        mine = [s for s in diff.added if s.title == title]
        self._stray(call, diff, sessions_added=mine)
        if len(mine) > 1:
            self.flag("doubled", f"{call}: session {title!r} stored {len(mine)} times")
        if told.ok:
            got = SessionRow.of(told.value)
            held = after.sessions.get(got.id)
            if held is None:
                self.flag("lost", f"{call}: told {got.id} ({title!r}) was created; the server has no such session")
            elif held != got or (got.title, got.tree) != (title, tree):
                self.flag("wrong answers", f"{call}: create_session returned {got}, the server holds {held}")
        elif told.refused and mine:
            self.flag("unflagged landings", f"{call}: create_session raised {_name(told)}, yet {title!r} was created")

    def append(self, call: str, session: str, content: str, told: Told, before: State, after: State) -> None:
        self.checked["append_message"] += 1
        diff = _diff(before, after)
        mine = [m for m in diff.added_messages if m.session == session and m.content == content]
        bumped = [(old, new) for old, new in diff.changed if old.id == session and _only_bumped(old, new)]
        self._stray(call, diff, messages_added=mine, changed=bumped)
        if len(mine) > 1:
            self.flag("doubled", f"{call}: message {_clip(content)!r} stored {len(mine)} times in {session}")
        if told.ok:
            got = MessageRow.of(told.value)
            held = after.message(session, got.id)
            if held is None:
                self.flag("lost", f"{call}: told {got.id} was stored in {session}; the server does not hold it")
            elif held != got or got.content != content:
                self.flag("wrong answers", f"{call}: append_message returned {got}, the server holds {held}")
        elif told.not_found:
            if session in before.sessions:
                self.flag("wrong answers", f"{call}: append_message told not found; {session} existed")
        elif told.refused and mine:
            self.flag("unflagged landings", f"{call}: append_message raised {_name(told)}, yet the message was stored")

    def update(
        self, call: str, session: str, title: str, tree: str | NotGiven | None, told: Told, before: State, after: State
    ) -> None:
        self.checked["update_session"] += 1
        diff = _diff(before, after)
        mine = [(old, new) for old, new in diff.changed if old.id == session]
        self._stray(call, diff, changed=mine)
        held = after.sessions.get(session)
        if told.ok:
            got = SessionRow.of(told.value)
            if (
                held is None
                or held != got
                or got.title != title
                or (not isinstance(tree, NotGiven) and got.tree != tree)
            ):
                self.flag("wrong renames", f"{call}: told {session} is now {got}; the server holds {held}")
        elif told.not_found:
            if session in before.sessions:
                self.flag("wrong answers", f"{call}: update_session told not found; {session} existed")
        elif told.refused and mine:
            self.flag("unflagged landings", f"{call}: update_session raised {_name(told)}, yet it was renamed")

    def delete(self, call: str, session: str, told: Told, before: State, after: State) -> None:
        self.checked["delete_session"] += 1
        diff = _diff(before, after)
        mine = [s for s in diff.removed if s.id == session]
        theirs = [m for m in diff.removed_messages if m.session == session]
        self._stray(call, diff, sessions_removed=mine, messages_removed=theirs)
        if told.ok:
            if session in after.sessions:
                self.flag("phantom deletes", f"{call}: told {session} was deleted; it is still there")
            elif session not in before.sessions:
                self.flag("phantom deletes", f"{call}: told {session} was deleted; there was no such session")
        elif told.not_found:
            if session in before.sessions:
                gone = "and the call deleted it" if mine else "and still does"
                self.flag("phantom deletes", f"{call}: told {session} was not found; it existed, {gone}")
        elif told.refused and mine:
            self.flag("unflagged landings", f"{call}: delete_session raised {_name(told)}, yet it was deleted")

    def _stray(
        self,
        call: str,
        diff: _Diff,
        *,
        sessions_added: Sequence[SessionRow] = (),
        sessions_removed: Sequence[SessionRow] = (),
        changed: Sequence[tuple[SessionRow, SessionRow]] = (),
        messages_added: Sequence[MessageRow] = (),
        messages_removed: Sequence[MessageRow] = (),
    ) -> None:
        stray = [
            *(f"session added {s.id}" for s in diff.added if s not in sessions_added),
            *(f"session removed {s.id}" for s in diff.removed if s not in sessions_removed),
            *(f"session changed {new}" for old, new in diff.changed if (old, new) not in changed),
            *(f"message added {m.id}" for m in diff.added_messages if m not in messages_added),
            *(f"message removed {m.id}" for m in diff.removed_messages if m not in messages_removed),
        ]
        for change in stray:
            self.flag("stray changes", f"{call}: {change}")

    # -- reads --------------------------------------------------------------------------

    def get_session(self, call: str, session: str, told: Told, state: State) -> None:
        self.checked["get_session"] += 1
        held = state.sessions.get(session)
        if told.ok and SessionRow.of(told.value) != held:
            self.flag("wrong answers", f"{call}: get_session returned {told.value}; the server holds {held}")
        elif told.not_found and held is not None:
            self.flag("wrong answers", f"{call}: get_session told not found; {session} exists")

    def get_message(self, call: str, session: str, message: str, told: Told, state: State) -> None:
        self.checked["get_message"] += 1
        held = state.message(session, message) if session in state.sessions else None
        if told.ok and MessageRow.of(told.value) != held:
            self.flag("wrong answers", f"{call}: get_message returned {told.value}; the server holds {held}")
        elif told.not_found and held is not None:
            self.flag("wrong answers", f"{call}: get_message told not found; {message} exists")

    def list_sessions(self, call: str, tree: str | None, told: Told, state: State) -> None:
        self.checked["list_sessions"] += 1
        if told.ok:
            self._listing(call, "list_sessions", [SessionRow.of(s) for s in told.value], state.listing(tree))

    def list_messages(self, call: str, session: str, told: Told, state: State) -> None:
        self.checked["list_messages"] += 1
        exists = session in state.sessions
        if told.ok:
            expected = list(state.messages.get(session, ())) if exists else None
            self._listing(call, "list_messages", [MessageRow.of(m) for m in told.value], expected)
        elif told.not_found and exists:
            self.flag("wrong listings", f"{call}: list_messages told not found; {session} exists")

    def walk_sessions(
        self,
        call: str,
        tree: str | None,
        page_size: int,
        fetched: Sequence[State],
        got: Iterable[ChatSession],
        *,
        whole: bool,
    ) -> None:
        """A walk of `iter_sessions`, `fetched[j]` the server's state when its page j was fetched.

        Every page lists the sessions as they were when the walk began (page 0), in that
        order, each as it was then, less the sessions deleted since.

        `whole`: the walk ran to its end (else it stopped, or raised, part way, and only what it yielded is checked).
        """
        self.checked["iter_sessions"] += 1
        expected: list[SessionRow] = []
        cursor: tuple[datetime, str] | None = None
        began = fetched[0].listing(tree) if fetched else []
        for j in range(max(len(fetched), 1)):
            state = fetched[min(j, len(fetched) - 1)] if fetched else State()
            rest = [s for s in began if s.id in state.sessions and (cursor is None or s.position < cursor)]
            expected += rest[:page_size]
            if len(rest) <= page_size:
                break
            cursor = rest[page_size - 1].position
        self._walk(call, "iter_sessions", [SessionRow.of(s) for s in got], expected, whole=whole)

    def walk_messages(
        self,
        call: str,
        session: str,
        after: str | None,
        page_size: int,
        fetched: Sequence[State],
        got: Iterable[ChatMessage],
        *,
        whole: bool,
        told: Told,
    ) -> None:
        """A walk of `iter_messages` (from `after`, if given): see `walk_sessions`."""
        self.checked["iter_messages"] += 1
        now = fetched[-1] if fetched else State()
        if told.not_found and session in now.sessions:
            self.flag("wrong listings", f"{call}: iter_messages told not found; {session} exists")
        refused = told.error is not None and getattr(told.error, "status_code", None) == 400
        if refused and after is not None and now.message(session, after) is not None:
            self.flag("wrong answers", f"{call}: iter_messages refused after={after}, a message of {session}")
        expected: list[MessageRow] = []
        cursor = after
        for j in range(max(len(fetched), 1)):
            state = fetched[min(j, len(fetched) - 1)] if fetched else State()
            if session not in state.sessions or (cursor is not None and state.message(session, cursor) is None):
                break  # the page is refused: nothing more may be yielded
            rest = [m for m in state.messages.get(session, ()) if cursor is None or m.id > cursor]
            expected += rest[:page_size]
            if len(rest) <= page_size:
                break
            cursor = rest[page_size - 1].id
        self._walk(call, "iter_messages", [MessageRow.of(m) for m in got], expected, whole=whole)

    def _walk(self, call: str, name: str, got: list[Any], expected: list[Any], *, whole: bool) -> None:
        if got != (expected if whole else expected[: len(got)]):
            self._listing(call, name, got, expected)

    def _listing(self, call: str, name: str, got: list[Any], expected: list[Any] | None) -> None:
        if expected is None:
            self.flag("wrong listings", f"{call}: {name} returned {len(got)} records for a session that does not exist")
        elif got != expected:
            at = next(
                (i for i, (a, b) in enumerate(zip(got, expected, strict=False)) if a != b), min(len(got), len(expected))
            )
            self.flag(
                "wrong listings",
                f"{call}: {name} returned {len(got)} records, the server held {len(expected)}; they differ at {at}",
            )

    # -- the end ------------------------------------------------------------------------

    def settled(self, user: str, last: State, final: State) -> None:
        """The lane's last state, read after its last call, against the server's at the very end."""
        diff = _diff(last, final)
        changes = len(diff.added) + len(diff.removed) + len(diff.changed)
        changes += len(diff.added_messages) + len(diff.removed_messages)
        if changes:
            self.flag("late changes", f"{user}: {changes} changes after the lane's last call")


def _only_bumped(old: SessionRow, new: SessionRow) -> bool:
    return (old.title, old.tree, old.created_at) == (new.title, new.tree, new.created_at)


def _name(told: Told) -> str:
    return type(told.error).__name__


def _clip(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."
