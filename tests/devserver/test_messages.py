"""Messages: append, read one, and the paged listing that starts `after` a message."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from .helpers import ALICE, SESSIONS, append, count_rows, new_session

MAX_PAGE = 1 << 20


def page(http: TestClient, session: str, query: str = "") -> dict[str, Any]:
    response = http.get(f"{SESSIONS}/{session}/messages?{query}", headers=ALICE)
    assert response.status_code == 200, response.text
    assert len(response.content) <= MAX_PAGE
    return dict(response.json())


def walk(http: TestClient, session: str, limit: int = 20, after: str | None = None) -> tuple[list[str], int]:
    """Every message after `after`, page by page: their contents, and how many pages it took."""
    contents: list[str] = []
    pages = 0
    while True:
        got = page(http, session, f"limit={limit}" + (f"&after={after}" if after else ""))
        pages += 1
        contents += [m["content"] for m in got["data"]]
        if not got["has_more"]:
            return contents, pages
        after = got["last_id"]


def test_content_round_trips_exactly(http: TestClient) -> None:
    ulid = new_session(http)
    texts = ["  hi 👋\nשלום  ", "\x00\x1f\x7f\x85\u2028", "\ufeff", " ", '\\u0000 "quoted"']
    for text in texts:
        message = append(http, ulid, text)
        assert message["content"] == text
        assert message["session"] == f"chat_session:{ulid}"
    assert [m["content"] for m in page(http, ulid)["data"]] == texts


def test_a_new_message_has_a_location_that_reads_it_back(http: TestClient) -> None:
    ulid = new_session(http)
    response = http.post(f"{SESSIONS}/{ulid}/messages", json={"role": "system", "content": "be brief"}, headers=ALICE)
    message = response.json()
    assert response.headers["location"] == f"{SESSIONS}/{ulid}/messages/{message['id'].split(':')[1]}"
    assert http.get(response.headers["location"], headers=ALICE).json() == message


def test_a_message_of_another_session_is_not_found_under_this_one(http: TestClient) -> None:
    one, other = new_session(http), new_session(http)
    message = append(http, one)["id"].split(":")[1]
    response = http.get(f"{SESSIONS}/{other}/messages/{message}", headers=ALICE)
    assert response.status_code == 404
    assert response.json()["type"] == "tag:clann.dev,2026:problem/not-found"


def test_messages_keep_append_order_within_one_millisecond(http: TestClient) -> None:
    ulid = new_session(http)
    for i in range(30):
        append(http, ulid, str(i))
    messages = page(http, ulid, "limit=100")["data"]
    assert [m["content"] for m in messages] == [str(i) for i in range(30)]
    assert [m["id"] for m in messages] == sorted(m["id"] for m in messages)
    assert [m["created_at"] for m in messages] == sorted({m["created_at"] for m in messages})


def test_a_walk_after_a_message_returns_the_rest_in_order(http: TestClient) -> None:
    ulid = new_session(http)
    ids = [append(http, ulid, str(i))["id"] for i in range(25)]
    contents, pages = walk(http, ulid, limit=10)
    assert (contents, pages) == ([str(i) for i in range(25)], 3)
    rest, pages = walk(http, ulid, limit=10, after=ids[9])
    assert (rest, pages) == ([str(i) for i in range(10, 25)], 2)


def test_after_takes_the_full_id_or_the_bare_ulid(http: TestClient) -> None:
    ulid = new_session(http)
    ids = [append(http, ulid, str(i))["id"] for i in range(3)]
    by_full = page(http, ulid, f"after={ids[0]}")
    by_bare = page(http, ulid, f"after={ids[0].split(':')[1]}")
    assert by_full == by_bare
    assert (by_full["first_id"], by_full["last_id"], by_full["has_more"]) == (ids[1], ids[2], False)


def test_polling_after_the_last_message_finds_only_new_ones(http: TestClient) -> None:
    ulid = new_session(http)
    last = append(http, ulid, "old")["id"]
    assert page(http, ulid, f"after={last}") == {"data": [], "has_more": False, "first_id": None, "last_id": None}
    append(http, ulid, "new")
    assert [m["content"] for m in page(http, ulid, f"after={last}")["data"]] == ["new"]


@pytest.mark.parametrize("which", ["another session's", "a missing", "a session ID as"])
def test_after_that_is_not_a_message_of_this_session_is_400(http: TestClient, which: str) -> None:
    ulid, other = new_session(http), new_session(http)
    after = {
        "another session's": append(http, other)["id"],
        "a missing": "chat_message:01JDXV3C5Z0K8Y8T6W3M2Q9R4N",
        "a session ID as": f"chat_session:{ulid}",
    }[which]
    response = http.get(f"{SESSIONS}/{ulid}/messages?after={after}", headers=ALICE)
    assert response.status_code == 400
    assert response.json()["type"] == "tag:clann.dev,2026:problem/invalid-parameter"
    assert response.json()["detail"].startswith("after: ")


@pytest.mark.parametrize(
    ("content", "per_page"),
    [
        # 131072 control characters are 786 KB of `\u0001` escapes: one such message to a page.
        ("\x01" * 131_072, 1),
        # 131072 astral characters are 512 KiB of UTF-8: one to a page, as two would pass 1 MiB.
        ("😀" * 131_072, 1),
        # 100 KiB each: ten fit, the eleventh would pass 1 MiB.
        ("x" * 102_400, 10),
    ],
)
def test_a_page_ends_early_rather_than_pass_1_mib(http: TestClient, content: str, per_page: int) -> None:
    ulid = new_session(http)
    for _ in range(per_page + 2):
        append(http, ulid, content)
    first = page(http, ulid, "limit=100")
    assert (len(first["data"]), first["has_more"]) == (per_page, True)
    contents, _ = walk(http, ulid, limit=100)
    assert contents == [content] * (per_page + 2)


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("limit=0", "limit: must be at least 1, got 0"),
        ("limit=101", "limit: must be at most 100, got 101"),
        ("after=chat_session", "after: must match"),
        ("after=", "after: must match"),
        ("before=x", "unknown query parameter(s): 'before'"),
    ],
)
def test_a_bad_limit_or_after_is_400_naming_it(http: TestClient, query: str, says: str) -> None:
    ulid = new_session(http)
    response = http.get(f"{SESSIONS}/{ulid}/messages?{query}", headers=ALICE)
    assert response.status_code == 400
    assert says in response.json()["detail"]


def test_a_role_the_server_does_not_know_is_422_naming_the_known_ones(http: TestClient, db: Path) -> None:
    ulid = new_session(http)
    response = http.post(f"{SESSIONS}/{ulid}/messages", json={"role": "tool", "content": "x"}, headers=ALICE)
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "role", "message": "must be one of user, assistant, system, got 'tool'"}
    ]
    assert response.json()["detail"] == "role: must be one of user, assistant, system, got 'tool'"
    assert count_rows(db) == (1, 0)


def test_over_long_content_is_422_naming_the_field_without_echoing_it(http: TestClient, db: Path) -> None:
    ulid = new_session(http)
    response = http.post(f"{SESSIONS}/{ulid}/messages", json={"role": "user", "content": "x" * 131_073}, headers=ALICE)
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "content", "message": "must be at most 131072 characters"}]
    assert len(response.content) < 1000
    assert count_rows(db) == (1, 0)


def test_deleting_a_session_deletes_its_messages(http: TestClient, db: Path) -> None:
    ulid = new_session(http)
    append(http, ulid)
    assert http.delete(f"{SESSIONS}/{ulid}", headers=ALICE).status_code == 204
    assert count_rows(db) == (0, 0)
    assert http.get(f"{SESSIONS}/{ulid}/messages", headers=ALICE).status_code == 404


def test_a_listing_is_the_json_the_contract_describes(http: TestClient) -> None:
    ulid = new_session(http)
    append(http, ulid, "one")
    raw = http.get(f"{SESSIONS}/{ulid}/messages", headers=ALICE)
    assert raw.headers["content-type"] == "application/json"
    assert set(json.loads(raw.content)) == {"data", "has_more", "first_id", "last_id"}
