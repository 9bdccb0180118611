"""SQLite storage for the dev server: sessions, messages and the records of idempotent writes.

One connection, used from the event loop only, and no `await` inside a
transaction, so a check-then-write (an idempotency key, a session's owner)
cannot interleave with another request. Every write's time comes from `_next`,
strictly after every time issued before it, whatever the clock does (it may
step back, or read the same microsecond twice), and across restarts.

WAL with `synchronous=NORMAL`: a commit is not flushed to disk on its own, so a
power cut may lose the last writes but never corrupts the file, which is the
right trade for a dev server.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ulid import ULID

# Layout 2 is `_SCHEMA` (layout 1) and `_LAYOUT_2`. Sessions and messages are
# keyed WITHOUT ROWID on what they are looked up and listed by, so an append
# writes two B-trees (the message's, and the session's with its owner index)
# instead of six: measured, 70 us a commit became 40.
# Messages are keyed (session, ulid): `_next` issues ULIDs in the order of their
# times, so ULID order within a session is `created_at` order, ties included.
# Listing by tree filters the owner's sessions instead of keeping an index on
# tree that every append would also have to update.
# A session walk reads the sessions as they were when it began (`Store.sessions`):
# a session changed since is rebuilt from what it was. Its `updated_at` then was
# its latest bump at or before that time: its creation, a message (whose times
# are in chat_message already, so an append writes nothing more) or a rename,
# kept in chat_session_was with the title and tree the rename replaced.
# `issued` keeps the greatest ULID and time issued, written when a delete or a
# clear takes them out of the tables, so that a restart resumes after them.
_LAYOUT_VERSION = 2
_SCHEMA = """
CREATE TABLE chat_session (
    ulid TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    created_by TEXT NOT NULL,
    tree TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX chat_session_owner ON chat_session (created_by, updated_at DESC, ulid DESC);
CREATE TABLE chat_message (
    session TEXT NOT NULL REFERENCES chat_session (ulid) ON DELETE CASCADE,
    ulid TEXT NOT NULL,
    role TEXT NOT NULL,
    content TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (session, ulid)
) WITHOUT ROWID;
CREATE TABLE replay (
    username TEXT NOT NULL,
    key TEXT NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    -- The session written to: deleting it purges the record.
    session TEXT NOT NULL,
    -- NULL once purged, with the response and its Location.
    body_digest TEXT,
    status INTEGER NOT NULL,
    response BLOB,
    location TEXT,
    purged INTEGER NOT NULL DEFAULT 0,
    -- Unix time of the first request: the record expires a TTL after it.
    first_seen REAL NOT NULL,
    PRIMARY KEY (username, key, method, path)
);
CREATE INDEX replay_session ON replay (session);
CREATE INDEX replay_first_seen ON replay (first_seen);
"""
# What layout 2 adds to layout 1. A session renamed before it was laid out gets one
# row at its `updated_at` (its title and tree before that are not known, and no walk
# begun since needs them), so that its `updated_at` as of a later walk's start is known.
_LAYOUT_2 = """
CREATE TABLE chat_session_was (
    session TEXT NOT NULL REFERENCES chat_session (ulid) ON DELETE CASCADE,
    -- The `updated_at` the rename gave the session: the title and tree held until then.
    until TEXT NOT NULL,
    title TEXT NOT NULL,
    tree TEXT,
    PRIMARY KEY (session, until)
) WITHOUT ROWID;
CREATE TABLE issued (
    only INTEGER PRIMARY KEY CHECK (only = 0),
    last_ulid TEXT NOT NULL,
    last_time TEXT NOT NULL
);
INSERT INTO chat_session_was SELECT ulid, updated_at, title, tree FROM chat_session WHERE updated_at > created_at;
"""
# A database of layout 0 (v0 of the contract) keeps its sessions and messages.
# Its idempotency records never expired and named no session to purge them by:
# they are dropped, as if they had expired.
_FROM_LAYOUT_0 = """
ALTER TABLE chat_session RENAME TO chat_session_0;
ALTER TABLE chat_message RENAME TO chat_message_0;
DROP INDEX IF EXISTS chat_session_owner;
DROP INDEX IF EXISTS chat_message_session;
DROP TABLE IF EXISTS idempotency;
{schema}
INSERT INTO chat_session SELECT ulid, title, created_by, tree, created_at, updated_at FROM chat_session_0;
INSERT INTO chat_message SELECT session, ulid, role, content, created_at FROM chat_message_0;
DROP TABLE chat_message_0;
DROP TABLE chat_session_0;
"""

# A user's sessions changed since `as_of`, as they were then, in walk order after a position.
# Title and tree: those the first rename after `as_of` replaced, else today's. `updated_at`:
# the latest of the creation, the renames and the messages at or before `as_of` (the messages
# scanned newest first by ULID, which is their time order within a session).
_AS_OF = """
SELECT ulid, title, created_by, tree, created_at, updated_at FROM (
    SELECT c.ulid,
        CASE WHEN c.next_rename IS NULL THEN c.title ELSE w.title END AS title,
        c.created_by,
        CASE WHEN c.next_rename IS NULL THEN c.tree ELSE w.tree END AS tree,
        c.created_at,
        c.updated_at
    FROM (
        SELECT s.ulid, s.title, s.created_by, s.tree, s.created_at,
            (SELECT min(until) FROM chat_session_was WHERE session = s.ulid AND until > :as_of) AS next_rename,
            max(
                s.created_at,
                coalesce((SELECT max(until) FROM chat_session_was WHERE session = s.ulid AND until <= :as_of), ''),
                coalesce((SELECT created_at FROM chat_message WHERE session = s.ulid AND created_at <= :as_of
                    ORDER BY ulid DESC LIMIT 1), '')
            ) AS updated_at
        FROM chat_session s
        WHERE s.created_by = :owner AND s.updated_at > :as_of AND s.created_at <= :created
    ) c
    LEFT JOIN chat_session_was w ON w.session = c.ulid AND w.until = c.next_rename
)
WHERE (:tree IS NULL OR tree = :tree) AND (:after_time IS NULL OR (updated_at, ulid) < (:after_time, :after_ulid))
ORDER BY updated_at DESC, ulid DESC LIMIT :limit
"""
REPLAY_TTL = timedelta(hours=24)
_UNSET: Any = object()


@dataclass(frozen=True)
class Replay:
    """The record of a successful write made with an Idempotency-Key."""

    body_digest: str | None
    status: int
    response: bytes | None
    location: str | None
    purged: bool


def format_time(moment: datetime) -> str:
    """An RFC 3339 UTC time with microseconds, as every record carries them."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def utc_now() -> datetime:
    """The system clock, in UTC: what a store reads its time from unless told otherwise."""
    return datetime.now(UTC)


class Store:
    """The dev server's data, in one SQLite file that survives a restart.

    Args:
        path: The SQLite file; created if missing.
        replay_ttl: How long the record of an idempotent write is kept after its
            first request; openapi.yaml says 24 hours. Tests pass a short one.
        clock: Where the store reads the time, in UTC.

    Attributes:
        clock: Settable from any thread: tests give the store a clock that steps
            back or stands still, as a system clock may, to show that no time
            issued goes back.
    """

    def __init__(
        self, path: str | Path, *, replay_ttl: timedelta = REPLAY_TTL, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self.replay_ttl = replay_ttl
        self.clock = clock
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = NORMAL")
        self._db.execute("PRAGMA foreign_keys = ON")
        self._lay_out()
        self._last_ulid, self._last_time = self._resume()
        with self.atomic():
            self.forget_expired_replays()

    def close(self) -> None:
        """Move what the write-ahead log holds into the database file, and close it.

        After this the `.sqlite3` file alone holds every write: copying it is enough.
        (SQLite checkpoints when its last connection closes too, but not while
        another process has the file open; TRUNCATE also leaves an empty `-wal`.)
        """
        try:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            self._db.close()

    def clear(self) -> None:
        """Delete every session, message and idempotency record, in one transaction.

        IDs and times issued after it still sort after those issued before.
        """
        with self.atomic():
            # Messages first: deleting sessions would otherwise cascade to them row by row.
            self._db.execute("DELETE FROM chat_message")
            self._db.execute("DELETE FROM chat_session_was")
            self._db.execute("DELETE FROM chat_session")
            self._db.execute("DELETE FROM replay")
            self._keep_issued()

    def _lay_out(self) -> None:
        """Create the tables, or bring a database of an older layout up to this one."""
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version >= _LAYOUT_VERSION:
            return
        tables = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if version == 1:
            script = _LAYOUT_2
        elif "chat_session" in tables:
            script = _FROM_LAYOUT_0.format(schema=_SCHEMA) + _LAYOUT_2
        else:
            script = _SCHEMA + _LAYOUT_2
        # executescript commits any open transaction first, so the script brings its own. Foreign keys
        # are off while it runs: renaming a table would otherwise rewrite the references to it.
        self._db.execute("PRAGMA foreign_keys = OFF")
        self._db.executescript(f"BEGIN IMMEDIATE; {script} PRAGMA user_version = {_LAYOUT_VERSION}; COMMIT;")
        self._db.execute("PRAGMA foreign_keys = ON")

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """One transaction: a write and its idempotency record land together or not at all."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _resume(self) -> tuple[int, datetime]:
        """The greatest ULID and time ever issued, so that new ones sort after them after a restart.

        Those of deleted sessions too: a reader may have seen them, and a walk begun
        then holds its start time (see `sessions`), which every later write must pass
        even if the clock stepped back while the server was down.
        """
        ulids = [
            self._db.execute("SELECT max(ulid) FROM chat_session").fetchone()[0],
            self._db.execute("SELECT max(ulid) FROM chat_message").fetchone()[0],
        ]
        # A message's time is its session's `updated_at` or earlier, a rename's is its session's or earlier.
        times = [self._db.execute("SELECT max(updated_at) FROM chat_session").fetchone()[0]]
        issued = self._db.execute("SELECT last_ulid, last_time FROM issued").fetchone()
        if issued is not None:
            ulids.append(issued[0])
            times.append(issued[1])
        last_time = max((datetime.fromisoformat(t) for t in times if t), default=datetime.fromtimestamp(0, UTC))
        return max((int(ULID.from_str(u)) for u in ulids if u is not None), default=0), last_time

    def _keep_issued(self) -> None:
        """Write down the greatest ULID and time issued, before a delete takes them out of the tables."""
        self._db.execute(
            "INSERT INTO issued VALUES (0, ?, ?) ON CONFLICT (only) DO UPDATE "
            "SET last_ulid = excluded.last_ulid, last_time = excluded.last_time",
            (str(ULID.from_int(self._last_ulid)), format_time(self._last_time)),
        )

    def latest(self) -> str:
        """The time of the last write: every write so far is at or before it, every later one after it."""
        return format_time(self._last_time)

    def _next(self) -> tuple[str, str]:
        """A fresh ULID and time, each strictly greater than the last one issued.

        Strictly increasing, so that "oldest first" and "most recently updated
        first" never depend on two writes falling in the same microsecond, and a
        session's `updated_at` never goes back, even when the clock steps back.
        """
        now = max(self.clock(), self._last_time + timedelta(microseconds=1))
        candidate = int(ULID.from_datetime(now))
        if candidate <= self._last_ulid:
            candidate = self._last_ulid + 1
        self._last_ulid, self._last_time = candidate, now
        return str(ULID.from_int(candidate)), format_time(now)

    # -- sessions -------------------------------------------------------------

    def create_session(self, title: str, created_by: str, tree: str | None) -> dict[str, Any]:
        ulid, now = self._next()
        row = (ulid, title, created_by, tree, now, now)
        self._db.execute("INSERT INTO chat_session VALUES (?, ?, ?, ?, ?, ?)", row)
        return _session(row)

    def get_session(self, ulid: str) -> dict[str, Any] | None:
        row = self._db.execute(
            "SELECT ulid, title, created_by, tree, created_at, updated_at FROM chat_session WHERE ulid = ?", (ulid,)
        ).fetchone()
        return _session(row) if row else None

    def update_session(self, ulid: str, *, title: str = _UNSET, tree: str | None = _UNSET) -> dict[str, Any]:
        """Change the title and/or tree of an existing session; a change also moves its `updated_at`."""
        found = self.get_session(ulid)
        assert found is not None
        changed = {**found}
        if title is not _UNSET:
            changed["title"] = title
        if tree is not _UNSET:
            changed["tree"] = tree
        if changed == found:
            return found
        changed["updated_at"] = self._next()[1]
        # What it was until now, for the walks begun before (see `sessions`).
        was = (ulid, changed["updated_at"], found["title"], found["tree"])
        self._db.execute("INSERT INTO chat_session_was VALUES (?, ?, ?, ?)", was)
        self._db.execute(
            "UPDATE chat_session SET title = ?, tree = ?, updated_at = ? WHERE ulid = ?",
            (changed["title"], changed["tree"], changed["updated_at"], ulid),
        )
        return changed

    def delete_session(self, ulid: str) -> None:
        """Delete a session with its messages, and purge what the records of its writes held."""
        self._db.execute("DELETE FROM chat_session WHERE ulid = ?", (ulid,))
        self._keep_issued()
        # The DELETE's own record is written after this, and kept: see `Idempotency`.
        self._db.execute(
            "UPDATE replay SET body_digest = NULL, response = NULL, location = NULL, purged = 1 WHERE session = ?",
            (ulid,),
        )

    def sessions(
        self, created_by: str, tree: str | None, after: tuple[str, str] | None, limit: int, as_of: str
    ) -> list[dict[str, Any]]:
        """At most `limit` of a user's sessions as they were at `as_of`, most recently updated first, after a position.

        A walk reads every page as of the time its first page was read, so that a
        session changed during the walk keeps its place, and is returned exactly once,
        as it was then. One created since is not returned; one deleted since is not
        returned either, as nothing of it is left.

        Args:
            created_by: The owner.
            tree: Only the sessions of this tree (as of `as_of`), if not None.
            after: `(updated_at, ulid)` as of `as_of` of the last session already seen, or None from the start.
            limit: The most sessions to return.
            as_of: The walk's start: `latest()` when its first page was read.
        """
        query = (
            "SELECT ulid, title, created_by, tree, created_at, updated_at FROM chat_session "
            "WHERE created_by = ? AND updated_at <= ?"
        )
        args: list[Any] = [created_by, as_of]
        if tree is not None:
            query += " AND tree = ?"
            args.append(tree)
        if after is not None:
            query += " AND (updated_at, ulid) < (?, ?)"
            args += after
        query += " ORDER BY updated_at DESC, ulid DESC LIMIT ?"
        found = self._db.execute(query, (*args, limit)).fetchall()
        # Those changed since the walk began (few, unless the walk is old), each rebuilt as it was then.
        # One created after the position was then at or before it (updated_at >= created_at): returned already.
        changed = self._db.execute(
            _AS_OF,
            {
                "owner": created_by,
                "as_of": as_of,
                "created": min(as_of, after[0]) if after is not None else as_of,
                "tree": tree,
                "after_time": after[0] if after is not None else None,
                "after_ulid": after[1] if after is not None else None,
                "limit": limit,
            },
        ).fetchall()
        if changed:
            found = sorted(found + changed, key=lambda row: (row[5], row[0]), reverse=True)
        return [_session(row) for row in found[:limit]]

    # -- messages -------------------------------------------------------------

    def append_message(self, session: str, role: str, content: str) -> dict[str, Any]:
        """Append a message; the session's `updated_at` becomes the message's `created_at`."""
        ulid, now = self._next()
        row = (ulid, session, role, content, now)
        self._db.execute(
            "INSERT INTO chat_message (ulid, session, role, content, created_at) VALUES (?, ?, ?, ?, ?)", row
        )
        self._db.execute("UPDATE chat_session SET updated_at = ? WHERE ulid = ?", (now, session))
        return _message(row)

    def get_message(self, session: str, ulid: str) -> dict[str, Any] | None:
        row = self._db.execute(
            "SELECT ulid, session, role, content, created_at FROM chat_message WHERE ulid = ? AND session = ?",
            (ulid, session),
        ).fetchone()
        return _message(row) if row else None

    def messages(self, session: str, after: str | None, limit: int) -> Iterator[dict[str, Any]]:
        """At most `limit` of a session's messages, oldest first (ties broken on the ID), after a ULID if given."""
        # Every ULID sorts after "": no `after` starts at the first message.
        rows = self._db.execute(
            "SELECT ulid, session, role, content, created_at FROM chat_message "
            "WHERE session = ? AND ulid > ? ORDER BY ulid LIMIT ?",
            (session, after or "", limit),
        )
        return map(_message, rows)

    # -- idempotency records ----------------------------------------------------

    def find_replay(self, username: str, key: str, method: str, path: str) -> Replay | None:
        row = self._db.execute(
            "SELECT body_digest, status, response, location, purged FROM replay "
            "WHERE username = ? AND key = ? AND method = ? AND path = ?",
            (username, key, method, path),
        ).fetchone()
        return Replay(row[0], row[1], row[2], row[3], bool(row[4])) if row else None

    def save_replay(self, username: str, key: str, method: str, path: str, session: str, replay: Replay) -> None:
        self._db.execute(
            "INSERT INTO replay (username, key, method, path, session, body_digest, status, response, location, "
            "first_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                username,
                key,
                method,
                path,
                session,
                replay.body_digest,
                replay.status,
                replay.response,
                replay.location,
                time.time(),
            ),
        )

    def forget_expired_replays(self) -> None:
        """Delete the records whose time is up, so that their keys are forgotten and their content gone."""
        self._db.execute("DELETE FROM replay WHERE first_seen <= ?", (time.time() - self.replay_ttl.total_seconds(),))


def _session(row: tuple[Any, ...]) -> dict[str, Any]:
    return {
        "id": f"chat_session:{row[0]}",
        "title": row[1],
        "created_by": row[2],
        "tree": row[3],
        "created_at": row[4],
        "updated_at": row[5],
    }


def _message(row: tuple[Any, ...]) -> dict[str, Any]:
    return {
        "id": f"chat_message:{row[0]}",
        "session": f"chat_session:{row[1]}",
        "role": row[2],
        "content": row[3],
        "created_at": row[4],
    }
