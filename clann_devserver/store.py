"""SQLite storage for the dev server: sessions, messages and idempotency records.

One connection, used from the event loop only, so a check-then-write (the
idempotency key, the session's owner) cannot interleave with another request.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ulid import ULID

_SCHEMA = """
PRAGMA foreign_keys = ON;
CREATE TABLE IF NOT EXISTS chat_session (
    ulid TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    created_by TEXT NOT NULL,
    tree TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chat_session_owner
    ON chat_session (created_by, updated_at DESC, ulid DESC);
CREATE TABLE IF NOT EXISTS chat_message (
    ulid TEXT PRIMARY KEY,
    session TEXT NOT NULL REFERENCES chat_session (ulid) ON DELETE CASCADE,
    role TEXT NOT NULL,
    content TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chat_message_session
    ON chat_message (session, created_at, ulid);
CREATE TABLE IF NOT EXISTS idempotency (
    username TEXT NOT NULL,
    key TEXT NOT NULL,
    route TEXT NOT NULL,
    body_digest TEXT NOT NULL,
    status INTEGER NOT NULL,
    response TEXT NOT NULL,
    PRIMARY KEY (username, key, route)
);
"""


def _format_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Replay:
    """A response stored under an idempotency key."""

    body_digest: str
    status: int
    response: str


class Store:
    """The dev server's data, in one SQLite file that survives a restart."""

    def __init__(self, path: str | Path) -> None:
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.executescript(_SCHEMA)
        self._db.execute("PRAGMA journal_mode = WAL")
        self._last_ulid = ULID.from_int(0)
        self._last_time = datetime.fromtimestamp(0, UTC)

    def close(self) -> None:
        self._db.close()

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

    def _next(self) -> tuple[str, str]:
        """A fresh ULID and time, each strictly greater than the last one issued.

        Strictly increasing, so that "oldest first" and "most recently updated
        first" never depend on two writes falling in the same millisecond.
        """
        now = max(datetime.now(UTC), self._last_time + timedelta(microseconds=1))
        candidate = ULID.from_datetime(now)
        if int(candidate) <= int(self._last_ulid):
            candidate = ULID.from_int(int(self._last_ulid) + 1)
        self._last_ulid, self._last_time = candidate, now
        return str(candidate), _format_time(now)

    def create_session(self, title: str, created_by: str, tree: str | None) -> dict[str, Any]:
        ulid, now = self._next()
        self._db.execute(
            "INSERT INTO chat_session VALUES (?, ?, ?, ?, ?, ?)",
            (ulid, title, created_by, tree, now, now),
        )
        return _session(
            {"ulid": ulid, "title": title, "created_by": created_by, "tree": tree, "created_at": now, "updated_at": now}
        )

    def get_session(self, ulid: str) -> dict[str, Any] | None:
        row = self._db.execute("SELECT * FROM chat_session WHERE ulid = ?", (ulid,)).fetchone()
        return _session(row) if row else None

    def list_sessions(self, created_by: str, tree: str | None) -> list[dict[str, Any]]:
        query = "SELECT * FROM chat_session WHERE created_by = ?"
        args: tuple[str, ...] = (created_by,)
        if tree is not None:
            query += " AND tree = ?"
            args += (tree,)
        query += " ORDER BY updated_at DESC, ulid DESC"
        return [_session(row) for row in self._db.execute(query, args)]

    def delete_session(self, ulid: str) -> None:
        self._db.execute("DELETE FROM chat_session WHERE ulid = ?", (ulid,))

    def append_message(self, session: str, role: str, content: str) -> dict[str, Any]:
        ulid, now = self._next()
        self._db.execute("INSERT INTO chat_message VALUES (?, ?, ?, ?, ?)", (ulid, session, role, content, now))
        self._db.execute("UPDATE chat_session SET updated_at = ? WHERE ulid = ?", (now, session))
        row = self._db.execute("SELECT * FROM chat_message WHERE ulid = ?", (ulid,)).fetchone()
        return _message(row)

    def list_messages(self, session: str) -> list[dict[str, Any]]:
        rows = self._db.execute("SELECT * FROM chat_message WHERE session = ? ORDER BY created_at, ulid", (session,))
        return [_message(row) for row in rows]

    def find_replay(self, username: str, key: str, route: str) -> Replay | None:
        row = self._db.execute(
            "SELECT body_digest, status, response FROM idempotency WHERE username = ? AND key = ? AND route = ?",
            (username, key, route),
        ).fetchone()
        return Replay(row["body_digest"], row["status"], row["response"]) if row else None

    def save_replay(self, username: str, key: str, route: str, replay: Replay) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO idempotency VALUES (?, ?, ?, ?, ?, ?)",
            (username, key, route, replay.body_digest, replay.status, replay.response),
        )


def _session(row: sqlite3.Row | dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"chat_session:{row['ulid']}",
        "title": row["title"],
        "created_by": row["created_by"],
        "tree": row["tree"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def _message(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": f"chat_message:{row['ulid']}",
        "session": f"chat_session:{row['session']}",
        "role": row["role"],
        "content": row["content"],
        "created_at": row["created_at"],
    }
