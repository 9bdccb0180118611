"""The dev server under racing writers, through real HTTP: times that never go back, walks that miss nothing.

Each test runs a dev server on 127.0.0.1 and many threads against it at once,
each with a connection of its own, and checks what every thread was told
against the order in which the answers came, and against what is read back.
The server's clock steps back and stands still while they run, as a system
clock may (an NTP step, a coarse clock): no time it issues may follow it.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest

from pyclann import ChatClient, ChatSession, ClannNotFoundError
from pyclann.devserver.server import RunningServer, running

from .helpers import ALICE, SESSIONS, TOKENS

WRITERS, READERS, EACH = 8, 3, 40


def unsteady_clock() -> Callable[[], datetime]:
    """The system clock, but every third reading is two seconds back and every third repeats the last one."""
    readings = 0
    last = datetime.now(UTC)

    def read() -> datetime:
        nonlocal readings, last
        readings += 1
        if readings % 3 == 1:
            last = datetime.now(UTC)
        elif readings % 3 == 2:
            last = datetime.now(UTC) - timedelta(seconds=2)
        return last  # and on the third, the same microsecond again

    return read


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    with running(tmp_path / "chat.sqlite3", TOKENS) as started:
        started.app.store.clock = unsteady_clock()
        yield started


@dataclass(frozen=True)
class Seen:
    """One answer: when its request was sent and its answer read (monotonic), and the `updated_at` it told."""

    sent: float
    read: float
    session: str
    updated_at: str | None  # None: the session was not found
    write: bool


def create(http: httpx2.Client, title: str) -> dict[str, Any]:
    response = http.post(SESSIONS, json={"title": title, "created_by": "alice"})
    assert response.status_code == 201, response.text
    return dict(response.json())


def race(server: RunningServer, sessions: list[str], doomed: list[str]) -> list[Seen]:
    """Writers rename and append to `sessions`, and delete `doomed` half way, while readers read; every answer."""
    seen: list[Seen] = []
    lock = threading.Lock()
    start = threading.Barrier(WRITERS + READERS)

    def note(sent: float, session: str, response: httpx2.Response, write: bool, field: str = "updated_at") -> None:
        read = time.monotonic()
        assert response.status_code in (200, 201, 204, 404), response.text
        told = response.json()[field] if response.status_code in (200, 201) else None
        with lock:
            seen.append(Seen(sent, read, session, told, write))

    def writer(n: int) -> None:
        rng = random.Random(n)
        with httpx2.Client(base_url=server.url, headers=ALICE) as http:
            start.wait()
            for i in range(EACH):
                session = rng.choice(sessions)
                sent = time.monotonic()
                if i == EACH // 2 and n < len(doomed):
                    response = http.delete(f"{SESSIONS}/{doomed[n]}")
                    assert response.status_code == 204, response.text
                elif rng.random() < 0.5:
                    note(sent, session, http.patch(f"{SESSIONS}/{session}", json={"title": f"w{n}-{i}"}), True)
                else:
                    body = {"role": "user", "content": f"w{n}-{i}"}
                    response = http.post(f"{SESSIONS}/{session}/messages", json=body)
                    note(sent, session, response, True, field="created_at")

    def reader(n: int) -> None:
        with httpx2.Client(base_url=server.url, headers=ALICE) as http:
            start.wait()
            for i in range(EACH * 2):
                session = sessions[(n + i) % len(sessions)]
                sent = time.monotonic()
                note(sent, session, http.get(f"{SESSIONS}/{session}"), False)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    threads += [threading.Thread(target=reader, args=(n,)) for n in range(READERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return seen


def test_updated_at_never_goes_back_under_racing_patch_append_and_delete(server: RunningServer) -> None:
    with httpx2.Client(base_url=server.url, headers=ALICE) as http:
        sessions = [create(http, f"s{i}")["id"].split(":")[1] for i in range(6)]
        doomed = sessions[:2]
        seen = race(server, sessions, doomed)
        final = {s["id"].split(":")[1]: s for s in http.get(SESSIONS, params={"created_by": "alice"}).json()["data"]}

    told = [s for s in seen if s.updated_at is not None]
    writes = [s for s in told if s.write]
    assert len(writes) > WRITERS * EACH // 2
    # Every write that bumps a session gets a time of its own: none equal, to the microsecond.
    assert len({w.updated_at for w in writes}) == len(writes)
    # In the order the answers came: a write's time is after every time any answer before it told,
    # and a read tells its session's time as it was, or later.
    by_sent = sorted(told, key=lambda s: s.sent)
    by_read = sorted(told, key=lambda s: s.read)
    latest: dict[str | None, str] = {}
    done = 0
    for each in by_sent:
        while done < len(by_read) and by_read[done].read < each.sent:
            before = by_read[done]
            for scope in (None, before.session):
                latest[scope] = max(latest.get(scope, ""), str(before.updated_at))
            done += 1
        assert each.updated_at is not None
        if each.write:
            assert each.updated_at > latest.get(None, ""), f"{each} is not after every time told before it"
        else:
            assert each.updated_at >= latest.get(each.session, ""), f"{each} went back"
    # Read back: each session still there holds the time of its last write; the deleted ones are gone.
    assert set(final) == set(sessions) - set(doomed)
    for ulid, session in final.items():
        assert session["updated_at"] == max(str(w.updated_at) for w in writes if w.session == ulid)


def test_a_session_walk_during_racing_writes_returns_every_session_that_existed_throughout_once_in_order(
    server: RunningServer,
) -> None:
    times: dict[str, set[datetime]] = {}
    titles: dict[str, set[str]] = {}
    created: dict[str, float] = {}  # when each session's create was sent
    lock = threading.Lock()

    def stored(session: ChatSession, *, sent: float | None = None, updated_at: datetime | None = None) -> None:
        ulid = session.id.split(":")[1]
        with lock:
            times.setdefault(ulid, set()).add(updated_at or session.updated_at)
            titles.setdefault(ulid, set()).add(session.title)
            if sent is not None:
                created[ulid] = sent

    with ChatClient(server.url, token="token-a") as chat:
        sessions = []
        for i in range(24):
            made = chat.create_session(f"s{i}", "alice")
            stored(made, sent=0.0)
            sessions.append(made.id.split(":")[1])
    doomed = set(sessions[::5])
    walks: list[tuple[list[ChatSession], float]] = []
    stop = threading.Event()

    def write(n: int) -> None:
        rng = random.Random(n)
        with ChatClient(server.url, token="token-a") as chat:
            while not stop.is_set():
                session = rng.choice(sessions)
                try:
                    if session in doomed and rng.random() < 0.05:
                        chat.delete_session(session)
                    elif rng.random() < 0.5:
                        stored(chat.update_session(session, title=f"w{n}-{rng.random()}"))
                    else:
                        message = chat.append_message(session, "user", f"w{n}")
                        with lock:
                            times[session].add(message.created_at)
                except ClannNotFoundError:  # a doomed session, deleted
                    pass
                if rng.random() < 0.2:
                    sent = time.monotonic()
                    stored(chat.create_session(f"new{n}", "alice"), sent=sent)

    def walk() -> None:
        with ChatClient(server.url, token="token-a") as chat:
            for _ in range(4):
                pages = chat.iter_sessions("alice", page_size=3)
                first = next(pages)
                began = time.monotonic()  # the first page has been answered: the walk has begun
                walks.append(([first, *pages], began))

    writers = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in writers:
        thread.start()
    try:
        walk()
    finally:
        stop.set()
        for thread in writers:
            thread.join()

    for walked, began in walks:
        ids = [s.id.split(":")[1] for s in walked]
        assert len(ids) == len(set(ids)), "no session twice"
        # Every session that existed throughout the walk: all but the doomed ones were made before it began.
        throughout = set(sessions) - doomed
        assert throughout <= set(ids), f"missed {sorted(throughout - set(ids))}"
        # Nothing created once the walk had begun.
        assert all(created[ulid] < began for ulid in ids)
        assert [s.updated_at for s in walked] == sorted((s.updated_at for s in walked), reverse=True)
        for session in walked:
            # Each as its session really was at some moment: a time and a title that a write gave it.
            ulid = session.id.split(":")[1]
            assert session.updated_at in times[ulid], f"{session}: no write gave it this time"
            assert session.title in titles[ulid], f"{session}: no write gave it this title"
