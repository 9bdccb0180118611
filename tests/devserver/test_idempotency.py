"""Idempotency-Key on every write: replays, a key reused with another body, expiry, purging on delete, 409 in flight."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest
from starlette.testclient import TestClient

from pyclann.devserver.app import create_app
from pyclann.devserver.server import running
from pyclann.devserver.store import Store

from .helpers import ALICE, BOB, SESSIONS, TOKENS, append, count_rows, new_session, rows

REPLAYED = "idempotent-replayed"


def keyed(key: str, headers: dict[str, str] = ALICE) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


def replays(db: Path) -> list[tuple[Any, ...]]:
    return rows(db, "SELECT method, path, body_digest, status, response, location, purged FROM replay ORDER BY path")


def assert_replayed(first: Any, again: Any) -> None:
    assert again.status_code == first.status_code
    assert again.content == first.content
    assert again.headers.get("location") == first.headers.get("location")
    assert again.headers[REPLAYED] == "true"
    assert REPLAYED not in first.headers
    assert again.headers["x-request-id"] != first.headers["x-request-id"]


def test_a_create_sent_again_with_its_key_replays_without_writing(http: TestClient, db: Path) -> None:
    body = {"title": "once", "created_by": "alice"}
    first = http.post(SESSIONS, json=body, headers=keyed("k"))
    again = http.post(SESSIONS, json=body, headers=keyed("k"))
    assert first.status_code == 201
    assert_replayed(first, again)
    assert count_rows(db) == (1, 0)


def test_an_append_a_rename_and_a_delete_replay_too(http: TestClient, db: Path) -> None:
    ulid = new_session(http)
    for method, path, body in [
        ("POST", f"{SESSIONS}/{ulid}/messages", {"role": "user", "content": "once"}),
        ("PATCH", f"{SESSIONS}/{ulid}", {"title": "renamed once"}),
    ]:
        first = http.request(method, path, json=body, headers=keyed("k"))
        again = http.request(method, path, json=body, headers=keyed("k"))
        assert_replayed(first, again)
    assert count_rows(db) == (1, 1)
    first = http.delete(f"{SESSIONS}/{ulid}", headers=keyed("k"))
    again = http.delete(f"{SESSIONS}/{ulid}", headers=keyed("k"))
    assert (first.status_code, again.content) == (204, b"")
    assert_replayed(first, again)


def test_a_key_is_the_same_body_whatever_its_key_order_and_spacing(http: TestClient) -> None:
    first = http.post(
        SESSIONS,
        content=b'{"title": "t", "created_by": "alice"}',
        headers={**keyed("k"), "Content-Type": "application/json"},
    )
    again = http.post(
        SESSIONS,
        content=b'{"created_by":"alice","title":"t"}',
        headers={**keyed("k"), "Content-Type": "application/json"},
    )
    assert_replayed(first, again)


def test_a_key_reused_with_another_body_is_422_and_writes_nothing(http: TestClient, db: Path) -> None:
    ulid = new_session(http)
    path = f"{SESSIONS}/{ulid}/messages"
    http.post(path, json={"role": "user", "content": "first"}, headers=keyed("k"))
    other = http.post(path, json={"role": "user", "content": "second"}, headers=keyed("k"))
    assert other.status_code == 422
    assert other.headers["content-type"] == "application/problem+json"
    assert other.json()["type"] == "tag:clann.dev,2026:problem/idempotency-key-reused"
    assert count_rows(db) == (1, 1)


def test_a_key_belongs_to_its_user_method_and_path(http: TestClient, db: Path) -> None:
    a = http.post(SESSIONS, json={"title": "x", "created_by": "alice"}, headers=keyed("same"))
    b = http.post(SESSIONS, json={"title": "x", "created_by": "bob"}, headers=keyed("same", BOB))
    assert (a.status_code, b.status_code) == (201, 201)
    assert a.json()["id"] != b.json()["id"]
    one, two = new_session(http), new_session(http)
    for session in (one, two):
        response = http.post(
            f"{SESSIONS}/{session}/messages", json={"role": "user", "content": "x"}, headers=keyed("same")
        )
        assert (response.status_code, REPLAYED in response.headers) == (201, False)
    assert count_rows(db) == (4, 2)


def test_a_failed_write_is_not_recorded_so_its_key_can_be_sent_again(http: TestClient, db: Path) -> None:
    ulid = new_session(http)
    path = f"{SESSIONS}/{ulid}/messages"
    refused = http.post(path, json={"role": "tool", "content": "x"}, headers=keyed("k"))
    assert refused.status_code == 422
    forbidden = http.post(SESSIONS, json={"title": "x", "created_by": "bob"}, headers=keyed("k"))
    assert forbidden.status_code == 403
    assert replays(db) == []
    accepted = http.post(path, json={"role": "user", "content": "x"}, headers=keyed("k"))
    assert (accepted.status_code, REPLAYED in accepted.headers) == (201, False)


@pytest.mark.parametrize("key", ["", "has space", "é".encode(), "x" * 256])
def test_a_malformed_key_is_400(http: TestClient, db: Path, key: str | bytes) -> None:
    value = key if isinstance(key, bytes) else key.encode()
    headers = {k.encode(): v.encode() for k, v in ALICE.items()} | {b"Idempotency-Key": value}
    response = http.post(SESSIONS, json={"title": "x", "created_by": "alice"}, headers=headers)
    assert response.status_code == 400
    assert response.json()["detail"].startswith("Idempotency-Key: ")
    assert count_rows(db) == (0, 0)


def test_two_copies_of_the_key_header_are_400(http: TestClient, db: Path) -> None:
    response = http.post(
        SESSIONS,
        json={"title": "x", "created_by": "alice"},
        headers=[("Authorization", "Bearer token-a"), ("Idempotency-Key", "a"), ("Idempotency-Key", "b")],
    )
    assert response.status_code == 400
    assert count_rows(db) == (0, 0)


@pytest.fixture
def short_lived(db: Path) -> Iterator[TestClient]:
    store = Store(db, replay_ttl=timedelta(seconds=0.2))
    with TestClient(create_app(store, TOKENS)) as client:
        yield client
    store.close()


def test_records_expire_and_are_deleted_then_the_key_is_new(short_lived: TestClient, db: Path) -> None:
    http = short_lived
    first = http.post(SESSIONS, json={"title": "one", "created_by": "alice"}, headers=keyed("k"))
    assert http.post(SESSIONS, json={"title": "one", "created_by": "alice"}, headers=keyed("k")).headers[REPLAYED]
    time.sleep(0.3)
    again = http.post(SESSIONS, json={"title": "two", "created_by": "alice"}, headers=keyed("k"))
    assert (again.status_code, REPLAYED in again.headers) == (201, False)
    assert again.json()["id"] != first.json()["id"]
    # The expired record is gone from the database, not merely ignored: only the new one is left.
    assert [r[5] for r in replays(db)] == [again.headers["location"]]


def test_an_expired_record_is_deleted_by_any_keyed_write(short_lived: TestClient, db: Path) -> None:
    http = short_lived
    ulid = new_session(http)
    http.post(f"{SESSIONS}/{ulid}/messages", json={"role": "user", "content": "secret"}, headers=keyed("old"))
    time.sleep(0.3)
    http.patch(f"{SESSIONS}/{ulid}", json={"title": "other"}, headers=keyed("new"))
    assert [r[0] for r in replays(db)] == ["PATCH"]


def test_a_record_lasts_24_hours_by_default(store: Store) -> None:
    assert store.replay_ttl == timedelta(hours=24)


def test_deleting_a_session_purges_its_records_and_their_replays_are_410(http: TestClient, db: Path) -> None:
    create = {"title": "secret title", "created_by": "alice"}
    ulid = http.post(SESSIONS, json=create, headers=keyed("c")).json()["id"].split(":")[1]
    message = {"role": "user", "content": "secret content"}
    http.post(f"{SESSIONS}/{ulid}/messages", json=message, headers=keyed("a"))
    http.patch(f"{SESSIONS}/{ulid}", json={"title": "secret rename"}, headers=keyed("p"))
    assert http.delete(f"{SESSIONS}/{ulid}", headers=keyed("d")).status_code == 204

    for method, path, body, key in [
        ("POST", SESSIONS, create, "c"),
        ("POST", f"{SESSIONS}/{ulid}/messages", message, "a"),
        ("PATCH", f"{SESSIONS}/{ulid}", {"title": "secret rename"}, "p"),
        ("PATCH", f"{SESSIONS}/{ulid}", {"title": "another body"}, "p"),
    ]:
        response = http.request(method, path, json=body, headers=keyed(key))
        assert response.status_code == 410
        assert response.json()["type"] == "tag:clann.dev,2026:problem/replay-purged"
    everything = repr(rows(db, "SELECT * FROM replay"))
    assert "secret" not in everything
    purged = sorted(r[2:7] for r in replays(db) if r[0] != "DELETE")
    assert purged == [(None, 200, None, None, 1), (None, 201, None, None, 1), (None, 201, None, None, 1)]


def test_a_retried_delete_learns_from_its_replay_and_without_a_key_meets_a_404(http: TestClient) -> None:
    ulid = new_session(http)
    assert http.delete(f"{SESSIONS}/{ulid}", headers=keyed("d")).status_code == 204
    retried = http.delete(f"{SESSIONS}/{ulid}", headers=keyed("d"))
    assert (retried.status_code, retried.headers[REPLAYED]) == (204, "true")
    assert http.delete(f"{SESSIONS}/{ulid}", headers=ALICE).status_code == 404
    assert http.delete(f"{SESSIONS}/{ulid}", headers=keyed("another")).status_code == 404


def test_a_write_whose_answer_breaks_the_contract_is_rolled_back_with_its_record(
    http: TestClient, db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ulid = new_session(http)
    real = Store.append_message

    def broken(self: Store, session: str, role: str, content: str) -> dict[str, Any]:
        return {**real(self, session, role, content), "created_at": "yesterday"}

    monkeypatch.setattr(Store, "append_message", broken)
    response = http.post(f"{SESSIONS}/{ulid}/messages", json={"role": "user", "content": "x"}, headers=keyed("k"))
    assert response.status_code == 500
    assert count_rows(db) == (1, 0)
    assert replays(db) == []
    monkeypatch.undo()
    assert append(http, ulid)["content"] == "x"


def test_with_a_write_delay_a_request_whose_key_is_in_flight_is_409_and_then_replayed(db: Path) -> None:
    body = {"title": "slow", "created_by": "alice"}
    with running(db, TOKENS, write_delay=0.5) as server, httpx2.Client(base_url=server.url) as client:
        answers: list[httpx2.Response] = []
        first = threading.Thread(target=lambda: answers.append(client.post(SESSIONS, json=body, headers=keyed("k"))))
        first.start()
        # The first request's key is in flight once it has reached the app; until then the second
        # may find it free and become the one in flight itself: either way, one of them is the 409.
        second = client.post(SESSIONS, json=body, headers=keyed("k"))
        first.join()
        statuses = sorted([second.status_code, answers[0].status_code])
        assert statuses == [201, 409]
        conflict = second if second.status_code == 409 else answers[0]
        assert conflict.json()["type"] == "tag:clann.dev,2026:problem/idempotency-in-flight"
        again = client.post(SESSIONS, json=body, headers=keyed("k"))
        assert again.status_code == 201
        assert again.headers[REPLAYED] == "true"
    assert count_rows(db) == (1, 0)
