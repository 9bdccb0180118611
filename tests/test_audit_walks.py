"""The soak's audit holds a session walk to openapi.yaml: the sessions as they were when it began, less the deleted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pyclann import ChatSession
from scripts.faults.audit import Audit, SessionRow, State

START = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def row(n: int, seconds: int, title: str = "t") -> SessionRow:
    return SessionRow(f"chat_session:0{n:025d}", title, "alice", None, START, START + timedelta(seconds=seconds))


A, B, C = row(1, 3), row(2, 2), row(3, 1)
BEGAN = State({s.id: s for s in (A, B, C)})
# Between the walk's two pages, C (not yet returned) was renamed, and so moved to the top.
RENAMED = State({s.id: s for s in (A, B, row(3, 4, "renamed"))})


def walked(got: list[SessionRow], later: State) -> Audit:
    """The audit of a walk of two-session pages that yielded `got`, `later` the state when its second page was read."""
    audit = Audit()
    records = [ChatSession(r.id, r.title, r.created_by, r.tree, r.created_at, r.updated_at) for r in got]
    audit.walk_sessions("w", None, 2, [BEGAN, later], records, whole=True)
    return audit


def test_a_walk_that_returns_a_session_renamed_during_it_as_it_was_is_right() -> None:
    assert walked([A, B, C], RENAMED).counts["wrong listings"] == 0


def test_a_walk_that_misses_a_session_renamed_during_it_is_a_wrong_listing() -> None:
    assert walked([A, B], RENAMED).counts["wrong listings"] == 1


def test_a_walk_that_returns_a_session_deleted_during_it_is_a_wrong_listing() -> None:
    deleted = State({s.id: s for s in (A, B)})
    assert walked([A, B], deleted).counts["wrong listings"] == 0
    assert walked([A, B, C], deleted).counts["wrong listings"] == 1
