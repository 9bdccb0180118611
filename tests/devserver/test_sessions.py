"""Sessions: create, read, rename, delete, and the paged listing with its keyset cursor."""

from __future__ import annotations

import base64
import re
import sqlite3
from pathlib import Path
from typing import Any

import httpx2
import pytest
from starlette.testclient import TestClient

from pyclann.devserver.app import create_app
from pyclann.devserver.server import running
from pyclann.devserver.store import Store

from .helpers import ALICE, BOB, SESSIONS, TOKENS, append, count_rows, new_session


def listed(http: TestClient, query: str = "created_by=alice") -> list[str]:
    """The bare ULIDs of one page of alice's sessions."""
    response = http.get(f"{SESSIONS}?{query}", headers=ALICE)
    assert response.status_code == 200, response.text
    return [s["id"].split(":")[1] for s in response.json()["data"]]


def walk(http: TestClient, limit: int, between_pages: Any = None) -> tuple[list[str], list[dict[str, Any]]]:
    """Every page of alice's sessions, `limit` at a time: the ULIDs in order, and the pages."""
    seen: list[str] = []
    pages: list[dict[str, Any]] = []
    query = f"created_by=alice&limit={limit}"
    while True:
        page = http.get(f"{SESSIONS}?{query}", headers=ALICE).json()
        pages.append(page)
        seen += [s["id"].split(":")[1] for s in page["data"]]
        if not page["has_more"]:
            return seen, pages
        if between_pages is not None:
            between_pages(len(pages))
        query = f"created_by=alice&limit={limit}&cursor={page['next_cursor']}"


def test_a_session_is_created_read_renamed_and_deleted(http: TestClient) -> None:
    created = http.post(SESSIONS, json={"title": "Planning", "created_by": "alice", "tree": "oak"}, headers=ALICE)
    assert created.status_code == 201
    session = created.json()
    ulid = session["id"].split(":")[1]
    assert created.headers["location"] == f"{SESSIONS}/{ulid}"
    assert session["created_at"] == session["updated_at"]
    assert http.get(created.headers["location"], headers=ALICE).json() == session

    renamed = http.patch(f"{SESSIONS}/{ulid}", json={"title": "Trip"}, headers=ALICE)
    assert renamed.status_code == 200
    assert (renamed.json()["title"], renamed.json()["tree"]) == ("Trip", "oak")
    assert renamed.json()["updated_at"] > session["updated_at"]
    assert http.get(f"{SESSIONS}/{ulid}", headers=ALICE).json() == renamed.json()

    assert http.delete(f"{SESSIONS}/{ulid}", headers=ALICE).status_code == 204
    assert http.get(f"{SESSIONS}/{ulid}", headers=ALICE).status_code == 404


def test_patch_keeps_an_absent_field_and_null_clears_the_tree(http: TestClient) -> None:
    ulid = new_session(http, "Kept", tree="oak")
    moved = http.patch(f"{SESSIONS}/{ulid}", json={"tree": "elm"}, headers=ALICE).json()
    assert (moved["title"], moved["tree"]) == ("Kept", "elm")
    cleared = http.patch(f"{SESSIONS}/{ulid}", json={"tree": None}, headers=ALICE).json()
    assert (cleared["title"], cleared["tree"]) == ("Kept", None)
    both = http.patch(f"{SESSIONS}/{ulid}", json={"title": "New", "tree": "ash"}, headers=ALICE).json()
    assert (both["title"], both["tree"]) == ("New", "ash")


def test_a_patch_that_changes_nothing_leaves_the_session_where_it_was(http: TestClient) -> None:
    ulid = new_session(http, "Same", tree="oak")
    before = http.get(f"{SESSIONS}/{ulid}", headers=ALICE).json()
    after = http.patch(f"{SESSIONS}/{ulid}", json={"title": "Same", "tree": "oak"}, headers=ALICE)
    assert after.status_code == 200
    assert after.json() == before


def test_a_patch_names_at_least_one_field(http: TestClient) -> None:
    ulid = new_session(http)
    response = http.patch(f"{SESSIONS}/{ulid}", json={}, headers=ALICE)
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "(body)", "message": "must name at least 1 field"}]


def test_sessions_are_listed_most_recently_updated_first(http: TestClient) -> None:
    first, second, third = new_session(http, "first"), new_session(http, "second"), new_session(http, "third")
    assert listed(http) == [third, second, first]
    append(http, first)
    assert listed(http) == [first, third, second]
    http.patch(f"{SESSIONS}/{second}", json={"title": "renamed"}, headers=ALICE)
    assert listed(http) == [second, first, third]


def test_an_append_makes_the_sessions_updated_at_the_messages_created_at(http: TestClient) -> None:
    ulid = new_session(http)
    message = append(http, ulid)
    assert http.get(f"{SESSIONS}/{ulid}", headers=ALICE).json()["updated_at"] == message["created_at"]


def test_tree_scopes_the_listing(http: TestClient) -> None:
    oak, _ = new_session(http, tree="oak"), new_session(http)
    assert listed(http, "created_by=alice&tree=oak") == [oak]
    assert len(listed(http)) == 2


def test_a_walk_returns_every_session_once_in_order_within_the_page_size(http: TestClient) -> None:
    made = [new_session(http, f"s{i}") for i in range(45)]
    seen, pages = walk(http, 10)
    assert seen == made[::-1]
    assert [len(p["data"]) for p in pages] == [10, 10, 10, 10, 5]
    cursors = [p["next_cursor"] for p in pages]
    assert cursors[-1] is None
    for cursor in cursors[:-1]:
        assert re.fullmatch(r"[A-Za-z0-9_-]{1,200}", cursor)


def test_a_page_holds_20_sessions_unless_told_otherwise(http: TestClient) -> None:
    for i in range(21):
        new_session(http, f"s{i}")
    page = http.get(f"{SESSIONS}?created_by=alice", headers=ALICE).json()
    assert (len(page["data"]), page["has_more"]) == (20, True)
    page = http.get(f"{SESSIONS}?created_by=alice&limit=100", headers=ALICE).json()
    assert (len(page["data"]), page["has_more"], page["next_cursor"]) == (21, False, None)


def test_a_session_changed_during_a_walk_keeps_its_place_and_is_returned_once_as_it_was(http: TestClient) -> None:
    made = [new_session(http, f"s{i}", tree="oak") for i in range(6)]
    newest_first = made[::-1]
    before = {
        s["id"].split(":")[1]: s
        for s in http.get(f"{SESSIONS}?created_by=alice&limit=100", headers=ALICE).json()["data"]
    }

    def change(pages_read: int) -> None:
        if pages_read == 1:
            # One already returned, and three not yet returned: each would move to the top, ahead of the cursor.
            http.patch(f"{SESSIONS}/{newest_first[0]}", json={"title": "seen, then renamed"}, headers=ALICE)
            append(http, newest_first[4])
            http.patch(f"{SESSIONS}/{newest_first[3]}", json={"title": "renamed", "tree": "elm"}, headers=ALICE)
            append(http, newest_first[3])
            http.patch(f"{SESSIONS}/{newest_first[5]}", json={"title": "renamed twice"}, headers=ALICE)
            http.patch(f"{SESSIONS}/{newest_first[5]}", json={"tree": None}, headers=ALICE)

    seen, pages = walk(http, 2, change)
    assert seen == newest_first
    returned = [record for page in pages for record in page["data"]]
    assert returned == [before[ulid] for ulid in newest_first]
    # A new walk sees the changes.
    assert listed(http)[:4] == [newest_first[i] for i in (5, 3, 4, 0)]


def test_a_session_changed_before_a_walk_and_again_during_it_keeps_the_place_of_its_change_before(
    http: TestClient,
) -> None:
    a, b, c = new_session(http, "a"), new_session(http, "b"), new_session(http, "c")
    renamed = http.patch(f"{SESSIONS}/{a}", json={"title": "a, renamed"}, headers=ALICE).json()
    append(http, b)
    given_a_message = http.get(f"{SESSIONS}/{b}", headers=ALICE).json()
    d = new_session(http, "d")

    def change(pages_read: int) -> None:
        if pages_read == 1:
            append(http, a)
            http.patch(f"{SESSIONS}/{b}", json={"title": "b, renamed"}, headers=ALICE)

    seen, pages = walk(http, 1, change)
    assert seen == [d, b, a, c]
    assert [pages[1]["data"], pages[2]["data"]] == [[given_a_message], [renamed]]


def test_a_walk_by_tree_keeps_a_session_whose_tree_changed_during_it(http: TestClient) -> None:
    made = [new_session(http, f"s{i}", tree="oak") for i in range(4)]
    newest_first = made[::-1]

    def change(pages_read: int) -> None:
        http.patch(f"{SESSIONS}/{newest_first[3]}", json={"tree": "elm"}, headers=ALICE)

    seen: list[str] = []
    query = "created_by=alice&tree=oak&limit=2"
    while True:
        page = http.get(f"{SESSIONS}?{query}", headers=ALICE).json()
        seen += [s["id"].split(":")[1] for s in page["data"]]
        assert all(s["tree"] == "oak" for s in page["data"])
        if not page["has_more"]:
            break
        change(1)
        query = f"created_by=alice&tree=oak&limit=2&cursor={page['next_cursor']}"
    assert seen == newest_first


def test_a_session_created_during_a_walk_is_left_to_the_next_walk(http: TestClient) -> None:
    made = [new_session(http, f"s{i}") for i in range(5)]
    added: list[str] = []
    seen, _ = walk(http, 2, lambda pages_read: added.append(new_session(http, f"new{pages_read}")))
    assert seen == made[::-1]
    assert listed(http)[:2] == added[::-1]


def test_a_session_deleted_during_a_walk_is_not_returned_after_its_deletion(http: TestClient) -> None:
    made = [new_session(http, f"s{i}") for i in range(6)]
    newest_first = made[::-1]

    def delete(pages_read: int) -> None:
        if pages_read == 1:
            append(http, newest_first[3])
            assert http.delete(f"{SESSIONS}/{newest_first[3]}", headers=ALICE).status_code == 204
            assert http.delete(f"{SESSIONS}/{newest_first[0]}", headers=ALICE).status_code == 204

    seen, _ = walk(http, 2, delete)
    assert seen == [newest_first[i] for i in (0, 1, 2, 4, 5)]


def test_a_cursor_of_an_earlier_server_still_walks_on(http: TestClient) -> None:
    made = [new_session(http, f"s{i}") for i in range(3)]
    first = http.get(f"{SESSIONS}?created_by=alice&limit=1", headers=ALICE).json()["data"][0]
    # Before walks read as of their start, a cursor was the last session's updated_at and ULID alone.
    old = base64.urlsafe_b64encode(f"{first['updated_at']} {made[2]}".encode()).rstrip(b"=").decode()
    assert len(old) == 72
    assert listed(http, f"created_by=alice&cursor={old}") == [made[1], made[0]]


@pytest.mark.parametrize("other", ["tree=oak", "tree=elm"], ids=["the tree's", "another tree's"])
def test_a_cursor_is_taken_only_by_the_listing_that_gave_it(http: TestClient, other: str) -> None:
    for tree in ("oak", "oak", "oak", None):
        new_session(http, tree=tree)
    given = http.get(f"{SESSIONS}?created_by=alice&limit=1", headers=ALICE).json()["next_cursor"]
    # The whole listing's cursor, given to the listing of one tree (or the other way), would walk on
    # from a position the listing never gave: it is refused, as its words say.
    response = http.get(f"{SESSIONS}?created_by=alice&{other}&cursor={given}", headers=ALICE)
    assert response.status_code == 400
    assert "cursor: not a cursor of this listing" in response.json()["detail"]
    scoped = http.get(f"{SESSIONS}?created_by=alice&tree=oak&limit=1", headers=ALICE).json()["next_cursor"]
    assert http.get(f"{SESSIONS}?created_by=alice&tree=oak&cursor={scoped}", headers=ALICE).status_code == 200
    assert http.get(f"{SESSIONS}?created_by=alice&cursor={scoped}", headers=ALICE).status_code == 400


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("limit=0", "limit: must be at least 1, got 0"),
        ("limit=101", "limit: must be at most 100, got 101"),
        ("limit=ten", "limit: must be an integer, got 'ten'"),
        ("limit=", "limit: must be an integer, got ''"),
        ("cursor=", "cursor: must be at least 1 character"),
        ("cursor=a.b", "cursor: must be an opaque position in a listing"),
        ("cursor=" + "a" * 201, "cursor: must be at most 200 characters"),
        ("cursor=bm90IGEgY3Vyc29y", "cursor: not a cursor of this listing"),
    ],
)
def test_a_bad_limit_or_cursor_is_400_naming_it(http: TestClient, query: str, says: str) -> None:
    response = http.get(f"{SESSIONS}?created_by=alice&{query}", headers=ALICE)
    assert response.status_code == 400
    assert response.json()["type"] == "tag:clann.dev,2026:problem/invalid-parameter"
    assert says in response.json()["detail"]


def test_another_users_session_is_indistinguishable_from_a_missing_one(http: TestClient) -> None:
    ulid = new_session(http)
    message = append(http, ulid)["id"].split(":")[1]
    missing = "01JDXV3C5Z0K8Y8T6W3M2Q9R4N"
    for target in (ulid, missing):
        for response in (
            http.get(f"{SESSIONS}/{target}", headers=BOB),
            http.patch(f"{SESSIONS}/{target}", json={"title": "mine"}, headers=BOB),
            http.delete(f"{SESSIONS}/{target}", headers=BOB),
            http.get(f"{SESSIONS}/{target}/messages", headers=BOB),
            http.post(f"{SESSIONS}/{target}/messages", json={"role": "user", "content": "x"}, headers=BOB),
            http.get(f"{SESSIONS}/{target}/messages/{message}", headers=BOB),
        ):
            assert response.status_code == 404
            assert response.json()["detail"] == f"chat session {target} does not exist"
    assert http.get(f"{SESSIONS}/{ulid}", headers=ALICE).json()["title"] == "T"


def test_acting_for_another_user_is_forbidden(http: TestClient, db: Path) -> None:
    response = http.get(f"{SESSIONS}?created_by=bob", headers=ALICE)
    assert (response.status_code, response.json()["type"]) == (403, "tag:clann.dev,2026:problem/forbidden")
    response = http.post(SESSIONS, json={"title": "x", "created_by": "bob"}, headers=ALICE)
    assert response.status_code == 403
    assert "'bob'" in response.json()["detail"]
    assert count_rows(db) == (0, 0)


def test_data_survives_a_restart_and_new_ids_sort_after_old_ones(db: Path) -> None:
    store = Store(db)
    with TestClient(create_app(store, TOKENS)) as http:
        ulid = new_session(http, "kept")
        append(http, ulid, "still here")
    store.close()
    store = Store(db)
    with TestClient(create_app(store, TOKENS)) as http:
        assert listed(http) == [ulid]
        messages = http.get(f"{SESSIONS}/{ulid}/messages", headers=ALICE).json()["data"]
        assert [m["content"] for m in messages] == ["still here"]
        newer = new_session(http, "newer")
        assert newer > ulid
        assert listed(http) == [newer, ulid]
    store.close()


def test_a_database_of_the_v0_layout_keeps_its_sessions_and_messages(db: Path) -> None:
    v0 = sqlite3.connect(db)
    v0.executescript(
        """
        CREATE TABLE chat_session (ulid TEXT PRIMARY KEY, title TEXT NOT NULL, created_by TEXT NOT NULL,
            tree TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
        CREATE INDEX chat_session_owner ON chat_session (created_by, updated_at DESC, ulid DESC);
        CREATE TABLE chat_message (ulid TEXT PRIMARY KEY, session TEXT NOT NULL REFERENCES chat_session (ulid)
            ON DELETE CASCADE, role TEXT NOT NULL, content TEXT NOT NULL, created_at TEXT NOT NULL);
        CREATE INDEX chat_message_session ON chat_message (session, created_at, ulid);
        CREATE TABLE idempotency (username TEXT NOT NULL, key TEXT NOT NULL, route TEXT NOT NULL,
            body_digest TEXT NOT NULL, status INTEGER NOT NULL, response TEXT NOT NULL,
            PRIMARY KEY (username, key, route));
        INSERT INTO chat_session VALUES ('01JDXV3C5Z0K8Y8T6W3M2Q9R4N', 'old', 'alice', NULL,
            '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:01.000000Z');
        INSERT INTO chat_message VALUES ('01JDXV3C60000000000000000A', '01JDXV3C5Z0K8Y8T6W3M2Q9R4N', 'user', 'hi',
            '2026-01-01T00:00:01.000000Z');
        INSERT INTO idempotency VALUES ('alice', 'k', 'POST /api/chat/sessions', 'd', 201, '{"title": "old"}');
        """
    )
    v0.close()
    store = Store(db)
    with TestClient(create_app(store, TOKENS)) as http:
        assert listed(http) == ["01JDXV3C5Z0K8Y8T6W3M2Q9R4N"]
        messages = http.get(f"{SESSIONS}/01JDXV3C5Z0K8Y8T6W3M2Q9R4N/messages", headers=ALICE).json()["data"]
        assert [m["content"] for m in messages] == ["hi"]
        assert http.delete(f"{SESSIONS}/01JDXV3C5Z0K8Y8T6W3M2Q9R4N", headers=ALICE).status_code == 204
    store.close()
    assert count_rows(db) == (0, 0)


def test_a_204_carries_no_content_length_on_the_wire(db: Path) -> None:
    # RFC 9110 (8.6): a server MUST NOT send Content-Length in a 204.
    with running(db, TOKENS) as server, httpx2.Client(base_url=server.url, headers=ALICE) as client:
        created = client.post(SESSIONS, json={"title": "t", "created_by": "alice"}).json()
        deleted = client.delete(f"{SESSIONS}/{created['id'].split(':')[1]}")
        assert deleted.status_code == 204
        assert "content-length" not in deleted.headers
        assert "transfer-encoding" not in deleted.headers
        assert deleted.content == b""
        # The connection is still good for the next request.
        assert client.get(SESSIONS, params={"created_by": "alice"}).status_code == 200
