"""The times the dev server issues: after every earlier one, whatever its clock does, across restarts and upgrades."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from pyclann.devserver.app import create_app
from pyclann.devserver.store import Store

from .helpers import ALICE, SESSIONS, TOKENS, append, new_session


def at(*moments: datetime) -> Callable[[], datetime]:
    """A clock that reads `moments` in turn, then the last one forever."""
    readings = list(moments)

    def read() -> datetime:
        return readings.pop(0) if len(readings) > 1 else readings[0]

    return read


def session(http: TestClient, ulid: str) -> dict[str, Any]:
    response = http.get(f"{SESSIONS}/{ulid}", headers=ALICE)
    assert response.status_code == 200, response.text
    return dict(response.json())


def rename(http: TestClient, ulid: str, title: str) -> dict[str, Any]:
    response = http.patch(f"{SESSIONS}/{ulid}", json={"title": title}, headers=ALICE)
    assert response.status_code == 200, response.text
    return dict(response.json())


NOON = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def test_updated_at_moves_forward_when_the_clock_steps_back(db: Path) -> None:
    store = Store(db, clock=at(NOON, NOON - timedelta(hours=1), NOON - timedelta(seconds=1)))
    with TestClient(create_app(store, TOKENS)) as http:
        ulid = new_session(http)
        created = session(http, ulid)["updated_at"]
        appended = append(http, ulid)["created_at"]
        renamed = rename(http, ulid, "after the step")["updated_at"]
    store.close()
    assert created < appended < renamed
    assert created == "2026-12-07T12:00:00.000000Z"


def test_writes_in_the_same_microsecond_get_times_of_their_own(db: Path) -> None:
    store = Store(db, clock=at(NOON))
    with TestClient(create_app(store, TOKENS)) as http:
        sessions = [new_session(http, f"s{i}") for i in range(3)]
        times = [append(http, sessions[i % 3])["created_at"] for i in range(6)]
        times += [rename(http, ulid, "renamed")["updated_at"] for ulid in sessions]
        listed = http.get(f"{SESSIONS}?created_by=alice", headers=ALICE).json()["data"]
    store.close()
    assert times == sorted(set(times))
    assert [s["id"].split(":")[1] for s in listed] == sessions[::-1]


def test_times_stay_after_a_deleted_sessions_across_a_restart_with_the_clock_stepped_back(db: Path) -> None:
    store = Store(db)
    with TestClient(create_app(store, TOKENS)) as http:
        kept = new_session(http, "kept")
        newest = new_session(http, "newest")
        latest = append(http, newest)["created_at"]
        assert http.delete(f"{SESSIONS}/{newest}", headers=ALICE).status_code == 204
    store.close()
    store = Store(db, clock=at(datetime.fromisoformat(latest) - timedelta(minutes=5)))
    with TestClient(create_app(store, TOKENS)) as http:
        assert rename(http, kept, "after the restart")["updated_at"] > latest
        assert new_session(http, "new") > newest
    store.close()


def test_a_walk_begun_before_a_restart_with_the_clock_stepped_back_misses_nothing(db: Path) -> None:
    store = Store(db)
    with TestClient(create_app(store, TOKENS)) as http:
        made = [new_session(http, f"s{i}") for i in range(4)]
        page = http.get(f"{SESSIONS}?created_by=alice&limit=2", headers=ALICE).json()
        assert [s["id"].split(":")[1] for s in page["data"]] == made[:1:-1]
        assert http.delete(f"{SESSIONS}/{made[3]}", headers=ALICE).status_code == 204
    store.close()
    store = Store(db, clock=at(NOON - timedelta(days=365)))
    with TestClient(create_app(store, TOKENS)) as http:
        # Given a message after the restart: its time is after the walk began, though the clock says a year before.
        append(http, made[1])
        rest = http.get(f"{SESSIONS}?created_by=alice&limit=2&cursor={page['next_cursor']}", headers=ALICE).json()
    store.close()
    assert [s["id"].split(":")[1] for s in rest["data"]] == [made[1], made[0]]


_LAYOUT_1 = """
CREATE TABLE chat_session (ulid TEXT PRIMARY KEY, title TEXT NOT NULL, created_by TEXT NOT NULL, tree TEXT,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX chat_session_owner ON chat_session (created_by, updated_at DESC, ulid DESC);
CREATE TABLE chat_message (session TEXT NOT NULL REFERENCES chat_session (ulid) ON DELETE CASCADE,
    ulid TEXT NOT NULL, role TEXT NOT NULL, content TEXT NOT NULL, created_at TEXT NOT NULL,
    PRIMARY KEY (session, ulid)) WITHOUT ROWID;
CREATE TABLE replay (username TEXT NOT NULL, key TEXT NOT NULL, method TEXT NOT NULL, path TEXT NOT NULL,
    session TEXT NOT NULL, body_digest TEXT, status INTEGER NOT NULL, response BLOB, location TEXT,
    purged INTEGER NOT NULL DEFAULT 0, first_seen REAL NOT NULL, PRIMARY KEY (username, key, method, path));
CREATE INDEX replay_session ON replay (session);
CREATE INDEX replay_first_seen ON replay (first_seen);
-- Renamed at 00:00:04, before the upgrade.
INSERT INTO chat_session VALUES ('01JDXV3C5Z0K8Y8T6W3M2Q9R4A', 'renamed', 'alice', NULL,
    '2026-01-01T00:00:01.000000Z', '2026-01-01T00:00:04.000000Z');
INSERT INTO chat_session VALUES ('01JDXV3C5Z0K8Y8T6W3M2Q9R4B', 'b', 'alice', NULL,
    '2026-01-01T00:00:02.000000Z', '2026-01-01T00:00:02.000000Z');
INSERT INTO chat_session VALUES ('01JDXV3C5Z0K8Y8T6W3M2Q9R4C', 'c', 'alice', NULL,
    '2026-01-01T00:00:05.000000Z', '2026-01-01T00:00:05.000000Z');
PRAGMA user_version = 1;
"""


def test_a_database_of_layout_1_walks_a_session_renamed_before_the_upgrade_at_its_place(db: Path) -> None:
    layout_1 = sqlite3.connect(db)
    layout_1.executescript(_LAYOUT_1)
    layout_1.close()
    store = Store(db)
    with TestClient(create_app(store, TOKENS)) as http:
        page = http.get(f"{SESSIONS}?created_by=alice&limit=1", headers=ALICE).json()
        assert page["data"][0]["title"] == "c"
        append(http, "01JDXV3C5Z0K8Y8T6W3M2Q9R4A")
        rest = http.get(f"{SESSIONS}?created_by=alice&cursor={page['next_cursor']}", headers=ALICE).json()["data"]
    store.close()
    assert [(s["title"], s["updated_at"]) for s in rest] == [
        ("renamed", "2026-01-01T00:00:04.000000Z"),
        ("b", "2026-01-01T00:00:02.000000Z"),
    ]
