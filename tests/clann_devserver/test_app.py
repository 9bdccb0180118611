"""The dev server, in process: the contract's behaviour and every kind of bad input."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from clann_devserver.app import create_app
from clann_devserver.store import Store

ALICE = {"Authorization": "Bearer token-a"}
BOB = {"Authorization": "Bearer token-b"}
TOKENS = {"token-a": "alice", "token-b": "bob"}


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "chat.sqlite3"


@pytest.fixture
def http(db: Path) -> Iterator[TestClient]:
    store = Store(db)
    with TestClient(create_app(store, TOKENS), raise_server_exceptions=True) as client:
        yield client
    store.close()


def new_session(http: TestClient, title: str = "T", tree: str | None = None, headers: dict[str, str] = ALICE) -> str:
    owner = "alice" if headers is ALICE else "bob"
    response = http.post(
        "/api/chat/sessions", json={"title": title, "created_by": owner, "tree": tree}, headers=headers
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"]).split(":")[1]


def count_rows(db: Path) -> tuple[int, int]:
    store = Store(db)
    try:
        sessions = store._db.execute("SELECT count(*) FROM chat_session").fetchone()[0]
        messages = store._db.execute("SELECT count(*) FROM chat_message").fetchone()[0]
        return sessions, messages
    finally:
        store.close()


def test_a_conversation_round_trips(http: TestClient) -> None:
    ulid = new_session(http, "Planning", tree="oak")
    for role, content in [("user", "  hi 👋\nשלום  "), ("assistant", "hello")]:
        response = http.post(
            f"/api/chat/sessions/{ulid}/messages", json={"role": role, "content": content}, headers=ALICE
        )
        assert response.status_code == 201
        assert response.json()["session"] == f"chat_session:{ulid}"
    messages = http.get(f"/api/chat/sessions/{ulid}/messages", headers=ALICE).json()
    assert [(m["role"], m["content"]) for m in messages] == [("user", "  hi 👋\nשלום  "), ("assistant", "hello")]
    assert http.delete(f"/api/chat/sessions/{ulid}", headers=ALICE).status_code == 204
    assert http.get(f"/api/chat/sessions/{ulid}/messages", headers=ALICE).status_code == 404


def test_sessions_are_listed_most_recently_updated_first(http: TestClient) -> None:
    first, second = new_session(http, "first"), new_session(http, "second")
    listed = [s["id"] for s in http.get("/api/chat/sessions?created_by=alice", headers=ALICE).json()]
    assert listed == [f"chat_session:{second}", f"chat_session:{first}"]
    http.post(f"/api/chat/sessions/{first}/messages", json={"role": "user", "content": "bump"}, headers=ALICE)
    listed = [s["id"] for s in http.get("/api/chat/sessions?created_by=alice", headers=ALICE).json()]
    assert listed == [f"chat_session:{first}", f"chat_session:{second}"]


def test_tree_scopes_the_listing(http: TestClient) -> None:
    oak, _ = new_session(http, tree="oak"), new_session(http)
    scoped = http.get("/api/chat/sessions?created_by=alice&tree=oak", headers=ALICE).json()
    assert [s["id"] for s in scoped] == [f"chat_session:{oak}"]
    assert len(http.get("/api/chat/sessions?created_by=alice", headers=ALICE).json()) == 2


def test_messages_keep_append_order_within_one_millisecond(http: TestClient) -> None:
    ulid = new_session(http)
    for i in range(30):
        http.post(f"/api/chat/sessions/{ulid}/messages", json={"role": "user", "content": str(i)}, headers=ALICE)
    messages = http.get(f"/api/chat/sessions/{ulid}/messages", headers=ALICE).json()
    assert [m["content"] for m in messages] == [str(i) for i in range(30)]
    assert [m["id"] for m in messages] == sorted(m["id"] for m in messages)


def test_another_users_session_is_indistinguishable_from_a_missing_one(http: TestClient) -> None:
    ulid = new_session(http)
    missing = "01JDXV3C5Z0K8Y8T6W3M2Q9R4N"
    for target in (ulid, missing):
        for response in (
            http.get(f"/api/chat/sessions/{target}/messages", headers=BOB),
            http.post(f"/api/chat/sessions/{target}/messages", json={"role": "user", "content": "x"}, headers=BOB),
            http.delete(f"/api/chat/sessions/{target}", headers=BOB),
        ):
            assert response.status_code == 404
            assert response.json()["detail"] == f"chat session {target} does not exist"


def test_acting_for_another_user_is_forbidden(http: TestClient, db: Path) -> None:
    assert http.get("/api/chat/sessions?created_by=bob", headers=ALICE).status_code == 403
    response = http.post("/api/chat/sessions", json={"title": "x", "created_by": "bob"}, headers=ALICE)
    assert response.status_code == 403
    assert "'bob'" in response.json()["detail"]
    assert count_rows(db) == (0, 0)


def test_same_idempotency_key_and_body_replays_without_writing(http: TestClient, db: Path) -> None:
    ulid = new_session(http)
    headers = {**ALICE, "Idempotency-Key": "k-1"}
    body = {"role": "user", "content": "once"}
    first = http.post(f"/api/chat/sessions/{ulid}/messages", json=body, headers=headers)
    again = http.post(f"/api/chat/sessions/{ulid}/messages", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert count_rows(db) == (1, 1)
    other = http.post(f"/api/chat/sessions/{ulid}/messages", json={**body, "content": "other"}, headers=headers)
    assert other.status_code == 409
    assert other.headers["content-type"] == "application/problem+json"
    assert count_rows(db) == (1, 1)


def test_idempotency_keys_are_per_user(http: TestClient) -> None:
    body = {"title": "x", "created_by": "alice"}
    a = http.post("/api/chat/sessions", json=body, headers={**ALICE, "Idempotency-Key": "same"})
    b = http.post("/api/chat/sessions", json={**body, "created_by": "bob"}, headers={**BOB, "Idempotency-Key": "same"})
    assert (a.status_code, b.status_code) == (201, 201)
    assert a.json()["id"] != b.json()["id"]


def test_data_survives_a_restart(db: Path) -> None:
    store = Store(db)
    with TestClient(create_app(store, TOKENS)) as http:
        ulid = new_session(http, "kept")
        http.post(f"/api/chat/sessions/{ulid}/messages", json={"role": "user", "content": "still here"}, headers=ALICE)
    store.close()
    store = Store(db)
    with TestClient(create_app(store, TOKENS)) as http:
        assert [s["title"] for s in http.get("/api/chat/sessions?created_by=alice", headers=ALICE).json()] == ["kept"]
        messages = http.get(f"/api/chat/sessions/{ulid}/messages", headers=ALICE).json()
        assert [m["content"] for m in messages] == ["still here"]
        # New IDs after a restart still sort after the old ones.
        newer = new_session(http, "newer")
        assert newer > ulid
    store.close()


def test_deleting_a_session_deletes_its_messages(http: TestClient, db: Path) -> None:
    ulid = new_session(http)
    http.post(f"/api/chat/sessions/{ulid}/messages", json={"role": "user", "content": "x"}, headers=ALICE)
    assert http.delete(f"/api/chat/sessions/{ulid}", headers=ALICE).status_code == 204
    assert count_rows(db) == (0, 0)


SESSIONS = "/api/chat/sessions"
LONG = "x" * 131_073


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "says"),
    [
        (
            "POST",
            SESSIONS,
            {"content": b"{not json", "headers": {"Content-Type": "application/json"}},
            400,
            "not valid JSON",
        ),
        ("POST", SESSIONS, {"content": b'{"title": NaN}', "headers": {"Content-Type": "application/json"}}, 400, "NaN"),
        (
            "POST",
            SESSIONS,
            {
                "content": b'{"title": "\\ud800", "created_by": "alice"}',
                "headers": {"Content-Type": "application/json"},
            },
            400,
            "not valid JSON",
        ),
        (
            "POST",
            SESSIONS,
            {"content": b"title=x", "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
            400,
            "must be application/json",
        ),
        ("POST", SESSIONS, {"content": b'{"title": "x"}'}, 400, "must be application/json"),
        (
            "POST",
            SESSIONS,
            {"content": b'{"title": "\xff"}', "headers": {"Content-Type": "application/json"}},
            400,
            "not UTF-8",
        ),
        ("POST", SESSIONS, {"json": ["a list"]}, 422, "must be a JSON object"),
        ("POST", SESSIONS, {"json": {"title": "x", "created_by": "alice", "admin": True}}, 422, "unknown field"),
        ("POST", SESSIONS, {"json": {"title": "", "created_by": "alice"}}, 422, "title"),
        ("POST", SESSIONS, {"json": {"title": "   ", "created_by": "alice"}}, 422, "title"),
        ("POST", SESSIONS, {"json": {"title": "t" * 201, "created_by": "alice"}}, 422, "at most 200"),
        ("POST", SESSIONS, {"json": {"title": "x"}}, 422, "created_by"),
        ("POST", SESSIONS, {"json": {"title": 5, "created_by": "alice"}}, 422, "type"),
        ("POST", SESSIONS, {"json": {"title": "x", "created_by": "alice", "tree": "Not A Slug"}}, 422, "tree"),
        ("GET", SESSIONS + "?created_by=alice&limit=5", {}, 400, "unknown query parameter(s): 'limit'"),
        ("GET", SESSIONS + "?created_by=alice&created_by=bob", {}, 400, "more than once"),
        ("GET", SESSIONS, {}, 400, "created_by"),
        ("GET", SESSIONS + "?created_by=al%20ice", {}, 400, "created_by"),
        ("GET", SESSIONS + "?created_by=alice&tree=", {}, 400, "tree"),
        ("GET", SESSIONS + "/..%2F..%2Fetc/messages", {}, 400, "must be a bare ULID"),
        ("GET", SESSIONS + "/%2F/messages", {}, 400, "must be a bare ULID"),
        ("GET", SESSIONS + "/01JDXV3C5Z0K8Y8T6W3M2Q9R4N%23x/messages", {}, 400, "must be a bare ULID"),
        ("GET", SESSIONS + "/01JDXV3C5Z0K8Y8T6W3M2Q9R4N%3Fx/messages", {}, 400, "must be a bare ULID"),
        ("GET", SESSIONS + "/'%20OR%201=1--/messages", {}, 400, "must be a bare ULID"),
        ("GET", SESSIONS + "/chat_session:01JDXV3C5Z0K8Y8T6W3M2Q9R4N/messages", {}, 400, "must be a bare ULID"),
        ("GET", SESSIONS + "/01jdxv3c5z0k8y8t6w3m2q9r4n/messages", {}, 400, "must be a bare ULID"),
        ("GET", SESSIONS + "/01JDXV3C5Z0K8Y8T6W3M2Q9R4/messages", {}, 400, "must be a bare ULID"),
        ("GET", SESSIONS + "/81JDXV3C5Z0K8Y8T6W3M2Q9R4N/messages", {}, 400, "must be a bare ULID"),
        ("DELETE", SESSIONS + "/01JDXV3C5Z0K8Y8T6W3M2Q9R4N/messages", {}, 405, "not allowed"),
        ("PUT", SESSIONS, {}, 405, "not allowed"),
        ("GET", "/api/chat/other", {}, 404, "no such resource"),
        ("GET", SESSIONS + "/01JDXV3C5Z0K8Y8T6W3M2Q9R4N/messages/extra", {}, 404, "no such resource"),
    ],
)
def test_bad_input_gets_a_problem_naming_it_and_writes_nothing(
    http: TestClient, db: Path, method: str, path: str, kwargs: dict[str, object], status: int, says: str
) -> None:
    headers = {**ALICE, **kwargs.pop("headers", {})}  # type: ignore[dict-item]
    response = http.request(method, path, headers=headers, **kwargs)  # type: ignore[arg-type]
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-request-id"]
    problem = response.json()
    assert problem["status"] == status
    assert says in json.dumps(problem)
    assert count_rows(db) == (0, 0)


def test_over_long_content_is_422_naming_the_field(http: TestClient, db: Path) -> None:
    ulid = new_session(http)
    response = http.post(f"{SESSIONS}/{ulid}/messages", json={"role": "user", "content": LONG}, headers=ALICE)
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "content", "message": "must be at most 131072 characters"}]
    assert len(response.content) < 1000, "the error must not echo the value"
    assert count_rows(db) == (1, 0)


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({}, "a bearer token is required"),
        ({"Authorization": "Bearer nope"}, "not valid"),
        ({"Authorization": "Basic token-a"}, "required"),
    ],
)
def test_missing_or_unknown_token_is_401(http: TestClient, headers: dict[str, str], detail: str) -> None:
    response = http.get(f"{SESSIONS}?created_by=alice", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert detail in response.json()["detail"]


def test_every_response_carries_a_request_id(http: TestClient) -> None:
    ids = {http.get(f"{SESSIONS}?created_by=alice", headers=ALICE).headers["x-request-id"] for _ in range(3)}
    assert len(ids) == 3


def test_a_response_that_breaks_the_contract_is_a_500_not_a_recording(
    http: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    ulid = new_session(http)
    broken = [{"id": f"chat_session:{ulid}", "title": "no times"}]
    monkeypatch.setattr(Store, "list_sessions", lambda self, created_by, tree: broken)
    response = http.get(f"{SESSIONS}?created_by=alice", headers=ALICE)
    assert response.status_code == 500
    assert response.json()["detail"] == "the server's response broke its own contract"
    assert "response breaks openapi.yaml" in caplog.text


def test_one_log_line_per_request_without_the_token(http: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="clann_devserver")
    http.get(f"{SESSIONS}?created_by=alice", headers=ALICE)
    lines = [r.getMessage() for r in caplog.records if r.name == "clann_devserver"]
    assert len(lines) == 1
    assert lines[0].startswith("GET /api/chat/sessions 200 ")
    assert "token-a" not in caplog.text


def test_a_path_no_router_would_match_still_gets_a_problem(http: TestClient) -> None:
    response = http.get(f"{SESSIONS}/%C3%88%0A/messages", headers=ALICE)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-request-id"]
