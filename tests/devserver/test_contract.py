"""The contract enforced: problem types, 422s that name their fields, ECMA-262 patterns, and checked responses."""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema_rs
import pytest
import regress
from starlette.testclient import TestClient

from pyclann.devserver.contract import Contract
from pyclann.devserver.explain import field_errors
from pyclann.devserver.problems import KINDS, TYPE_PREFIX, Problem, invalid_fields
from pyclann.devserver.spec import Spec
from pyclann.devserver.store import Store

from .helpers import ALICE, SESSIONS, new_session

# A tree slug's pattern, as a 422 words it (from the schema's description).
SLUG = "must be a tree's slug; lower-case letters and digits, words joined by single hyphens"
SPEC = Spec()
CONTRACT = Contract(SPEC)


def test_the_problem_kinds_are_the_table_of_openapi_yaml() -> None:
    description = SPEC.document["info"]["description"]
    table = dict(re.findall(r"\| `([a-z-]+)` \| (\d{3}) \|", description))
    assert {kind: int(status) for kind, status in table.items()} == KINDS


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "kind"),
    [
        ("POST", SESSIONS, {"content": b"{", "headers": {"Content-Type": "application/json"}}, "malformed-request"),
        ("GET", f"{SESSIONS}?created_by=alice&limit=0", {}, "invalid-parameter"),
        ("GET", f"{SESSIONS}?created_by=alice", {"headers": {"Authorization": "Bearer wrong"}}, "unauthenticated"),
        ("GET", f"{SESSIONS}?created_by=bob", {}, "forbidden"),
        ("GET", f"{SESSIONS}/01JDXV3C5Z0K8Y8T6W3M2Q9R4N", {}, "not-found"),
        ("GET", "/nowhere", {}, "not-found"),
        ("PUT", SESSIONS, {}, "method-not-allowed"),
        ("POST", SESSIONS, {"json": {"title": ""}}, "validation-failed"),
    ],
)
def test_each_kind_of_problem_has_its_type_status_and_request_id(
    http: TestClient, method: str, path: str, kwargs: dict[str, Any], kind: str
) -> None:
    headers = {**ALICE, **kwargs.pop("headers", {})}
    response = http.request(method, path, headers=headers, **kwargs)
    problem = response.json()
    assert response.status_code == KINDS[kind] == problem["status"]
    assert problem["type"] == TYPE_PREFIX + kind
    assert response.headers["content-type"] == "application/problem+json"
    assert problem["request_id"] == response.headers["x-request-id"]
    assert problem["title"]
    assert problem["detail"]


def test_a_401_says_how_to_authenticate_and_a_405_what_is_allowed(http: TestClient) -> None:
    for headers in ({}, {"Authorization": "Basic token-a"}, {"Authorization": "Bearer "}):
        response = http.get(f"{SESSIONS}?created_by=alice", headers=headers)
        assert (response.status_code, response.headers["www-authenticate"]) == (401, "Bearer")
        assert response.json()["detail"] == "a bearer token is required"
    response = http.get(f"{SESSIONS}?created_by=alice", headers={"Authorization": "Bearer nope"})
    assert response.json()["detail"] == "the bearer token is not valid"
    response = http.delete(SESSIONS, headers=ALICE)
    assert (response.status_code, response.headers["allow"]) == (405, "GET, POST")


def test_every_response_carries_its_own_request_id(http: TestClient) -> None:
    ulid = new_session(http)
    responses = [
        http.get(f"{SESSIONS}?created_by=alice", headers=ALICE),
        http.get(f"{SESSIONS}/{ulid}", headers=ALICE),
        http.delete(f"{SESSIONS}/{ulid}", headers=ALICE),
        http.get("/nowhere", headers=ALICE),
        http.get(f"{SESSIONS}?created_by=alice"),
    ]
    ids = [r.headers["x-request-id"] for r in responses]
    assert all(ids)
    assert len(set(ids)) == len(ids)


def test_a_422_names_every_wrong_field_in_its_detail(http: TestClient) -> None:
    response = http.post(SESSIONS, json={"title": "", "created_by": "alice", "tree": "Not A Slug"}, headers=ALICE)
    assert response.status_code == 422
    assert response.json()["detail"] == (f"title: must be at least 1 character; tree: {SLUG}, got 'Not A Slug'")
    assert response.json()["errors"] == [
        {"field": "title", "message": "must be at least 1 character"},
        {"field": "tree", "message": f"{SLUG}, got 'Not A Slug'"},
    ]


@pytest.mark.parametrize(
    ("tree", "message"),
    [
        ("Oak", f"{SLUG}, got 'Oak'"),
        ("", "must be at least 1 character"),
        ("a" * 101, "must be at most 100 characters"),
        (5, "must be of type string or null, got integer"),
        (["oak"], "must be of type string or null, got array"),
    ],
)
def test_a_nullable_field_is_reported_for_the_branch_its_value_was_meant_for(
    http: TestClient, tree: object, message: str
) -> None:
    for method, path, body in [
        ("POST", SESSIONS, {"title": "t", "created_by": "alice", "tree": tree}),
        ("PATCH", f"{SESSIONS}/{new_session(http)}", {"tree": tree}),
    ]:
        response = http.request(method, path, json=body, headers=ALICE)
        assert response.status_code == 422
        assert response.json()["errors"] == [{"field": "tree", "message": message}]
        assert 'null"' not in response.text
        assert "of type null," not in response.text


def test_an_unknown_field_is_named_with_the_fields_that_are_known(http: TestClient) -> None:
    response = http.post(SESSIONS, json={"title": "t", "created_by": "alice", "owner": "x"}, headers=ALICE)
    assert response.json()["errors"] == [
        {"field": "owner", "message": "is not a known field; known fields: created_by, title, tree"}
    ]


def test_a_value_is_echoed_only_in_part(http: TestClient) -> None:
    response = http.post(SESSIONS, json={"title": "t", "created_by": "alice", "tree": "X" * 100}, headers=ALICE)
    message = response.json()["errors"][0]["message"]
    assert message.endswith("...")
    assert len(message) < 200


# The edge cases where ECMA-262, Python's `re` and Rust's `regex` disagree.
EDGES = [
    "travel",
    "travel\n",
    "\ntravel",
    "alice\r\n",
    "\ufeff",
    "\u0085",
    "\u001c",
    "\u00a0",
    "\u2028",
    "\u3000",
    "\u180e",
    "a\x00",
    "Ａ",
    "٣",
    " x ",
    "x\u200b",
    "\U0001f600",
]


def _patterns(node: Any, pointer: str = "#") -> list[tuple[str, str]]:
    """`(pointer, pattern)` of every schema in the spec that has a pattern."""
    found = []
    if isinstance(node, dict):
        if isinstance(node.get("pattern"), str):
            found.append((pointer, node["pattern"]))
        for key, value in node.items():
            found += _patterns(value, f"{pointer}/{key.replace('~', '~0').replace('/', '~1')}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _patterns(value, f"{pointer}/{index}")
    return found


@pytest.mark.parametrize(("pointer", "pattern"), _patterns(SPEC.document), ids=lambda v: v.rsplit("/", 1)[-1])
def test_every_pattern_of_the_spec_means_what_ecma_262_says(pointer: str, pattern: str) -> None:
    # regress is an ECMA-262 engine of its own: the server's schemas must agree with it on every edge.
    compiled = SPEC.validator(pointer)
    ecma = regress.Regex(pattern)
    for value in EDGES + [edge * 3 for edge in EDGES]:
        assert compiled.is_valid(value) == (ecma.find(value) is not None), (pattern, value)


@pytest.mark.parametrize(
    ("value", "ecma", "python"),
    [
        ("\ufeff", True, False),
        ("\u0085", False, True),
        ("\u001c", False, True),
        ("\u00a0", True, True),
        ("\u2028", True, True),
    ],
)
def test_white_space_is_ecma_262s_not_pythons(value: str, ecma: bool, python: bool) -> None:
    schema = {"type": "string", "pattern": r"^\s$"}
    assert jsonschema_rs.validator_for(schema, pattern_options=jsonschema_rs.RegexOptions()).is_valid(value) is ecma
    assert (re.search(r"^\s$", value) is not None) is python


def test_a_read_whose_answer_breaks_the_contract_is_a_500_and_logged(
    http: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    ulid = new_session(http)
    broken = {"id": f"chat_session:{ulid}", "title": "no times", "created_by": "alice"}
    monkeypatch.setattr(Store, "get_session", lambda self, u: broken)
    response = http.get(f"{SESSIONS}/{ulid}", headers=ALICE)
    assert response.status_code == 500
    assert response.json()["type"] == "tag:clann.dev,2026:problem/internal"
    assert response.json()["detail"] == "the server's response broke its own contract"
    assert "response breaks openapi.yaml" in caplog.text


GET_SESSION = SPEC.operations["get_session"]
CREATE = SPEC.operations["create_session"]
DELETE = SPEC.operations["delete_session"]
SESSION = (
    b'{"id": "chat_session:01JDXV3C5Z0K8Y8T6W3M2Q9R4N", "title": "t", "created_by": "alice", "tree": null, '
    b'"created_at": "2026-11-26T12:00:00.000000Z", "updated_at": "2026-11-26T12:00:00.000000Z"}'
)
OK = {"x-request-id": "r", "content-type": "application/json"}


@pytest.mark.parametrize(
    ("operation", "status", "headers", "body", "says"),
    [
        (GET_SESSION, 200, OK, SESSION, None),
        (CREATE, 201, {**OK, "location": "/api/chat/sessions/01JDXV3C5Z0K8Y8T6W3M2Q9R4N"}, SESSION, None),
        (CREATE, 201, OK, SESSION, "header location is missing"),
        (GET_SESSION, 200, {"content-type": "application/json"}, SESSION, "header x-request-id is missing"),
        (GET_SESSION, 200, {**OK, "content-type": "text/plain"}, SESSION, "media type 'text/plain'"),
        (GET_SESSION, 200, OK, SESSION.replace(b"alice", b"al ice"), "created_by"),
        (GET_SESSION, 200, OK, SESSION.replace(b"12:00:00.000000Z", b"noon"), "date-time"),
        (GET_SESSION, 200, OK, b"{", "not JSON"),
        # Any other status falls to `default`, a problem.
        (GET_SESSION, 201, OK, SESSION, "media type 'application/json' is not documented for a 201"),
        (DELETE, 204, {"x-request-id": "r"}, b"", None),
        (DELETE, 204, {"x-request-id": "r", "idempotent-replayed": "yes"}, b"", "header idempotent-replayed"),
        (DELETE, 204, {"x-request-id": "r"}, b"{}", "a 204 has no body"),
        (None, 404, {"x-request-id": "r"}, b'{"type": "x", "title": "t", "status": 404}', "detail"),
    ],
)
def test_the_checker_finds_what_breaks_a_response(
    operation: Any, status: int, headers: dict[str, str], body: bytes, says: str | None
) -> None:
    found = CONTRACT.response_errors(operation, status, headers, body)
    if says is None:
        assert found is None
    else:
        assert found is not None
        assert says in found


def _examples(node: Any, pointer: str = "#") -> list[tuple[str, Any]]:
    """`(pointer, example)` of every example a schema of the spec gives."""
    found = []
    if isinstance(node, dict):
        if isinstance(node.get("examples"), list) and "type" in node:
            found += [(pointer, example) for example in node["examples"]]
        for key, value in node.items():
            found += _examples(value, f"{pointer}/{key.replace('~', '~0').replace('/', '~1')}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _examples(value, f"{pointer}/{index}")
    return found


@pytest.mark.parametrize(("pointer", "example"), _examples(SPEC.document), ids=lambda v: str(v).rsplit("/", 1)[-1])
def test_every_example_of_the_spec_is_valid_against_its_schema(pointer: str, example: Any) -> None:
    # Mock servers (Prism) serve the examples: an example its own schema refuses is served as an answer.
    assert SPEC.validator(pointer).is_valid(example), (pointer, example)


@pytest.mark.parametrize("name", ["Ulid", "SessionId", "MessageId", "Cursor"])
def test_every_id_schema_has_an_example(name: str) -> None:
    assert SPEC.document["components"]["schemas"][name]["examples"]


LIST_SESSIONS = SPEC.operations["list_sessions"]
LIST_MESSAGES = SPEC.operations["list_messages"]
MESSAGE = {
    "id": "chat_message:01JDXV4F7B1M9Z2X5C8V0N3K6H",
    "session": "chat_session:01JDXV3C5Z0K8Y8T6W3M2Q9R4N",
    "role": "user",
    "content": "hi",
    "created_at": "2026-11-26T12:00:00.000000Z",
}
CURSOR = "MjAyNi0xMS0yNlQxMjowMDowMC4wMDAwMDBaIDAxSkRYVjNDNVowSzhZOFQ2VzNNMlE5UjRO"
EMPTY_MESSAGES = {"data": [], "has_more": False, "first_id": None, "last_id": None}
SOME_MESSAGES = {"data": [MESSAGE], "has_more": True, "first_id": MESSAGE["id"], "last_id": MESSAGE["id"]}
LAST_SESSIONS = {"data": [json.loads(SESSION)], "has_more": False, "next_cursor": None}
MORE_SESSIONS = {**LAST_SESSIONS, "has_more": True, "next_cursor": CURSOR}


@pytest.mark.parametrize(
    ("operation", "page", "says"),
    [
        (LIST_MESSAGES, EMPTY_MESSAGES, None),
        (LIST_MESSAGES, SOME_MESSAGES, None),
        (LIST_MESSAGES, {**SOME_MESSAGES, "has_more": False}, None),
        (LIST_MESSAGES, {**EMPTY_MESSAGES, "has_more": True}, "has_more"),
        (LIST_MESSAGES, {**EMPTY_MESSAGES, "last_id": MESSAGE["id"]}, "last_id"),
        (LIST_MESSAGES, {**SOME_MESSAGES, "first_id": None}, "first_id"),
        (LIST_MESSAGES, {**SOME_MESSAGES, "last_id": "chat_session:01JDXV3C5Z0K8Y8T6W3M2Q9R4N"}, "last_id"),
        (LIST_MESSAGES, {**SOME_MESSAGES, "last_id": "string"}, "last_id"),
        (LIST_SESSIONS, LAST_SESSIONS, None),
        (LIST_SESSIONS, MORE_SESSIONS, None),
        (LIST_SESSIONS, {**LAST_SESSIONS, "data": []}, None),
        (LIST_SESSIONS, {**MORE_SESSIONS, "next_cursor": None}, "next_cursor"),
        (LIST_SESSIONS, {**LAST_SESSIONS, "next_cursor": CURSOR}, "next_cursor"),
        (LIST_SESSIONS, {**MORE_SESSIONS, "data": []}, "data"),
        (LIST_SESSIONS, {**MORE_SESSIONS, "next_cursor": "not a cursor"}, "next_cursor"),
        (LIST_SESSIONS, {**LAST_SESSIONS, "data": [{**json.loads(SESSION), "tree": "Not A Slug"}]}, "tree"),
    ],
)
def test_a_page_is_checked_against_the_rules_of_its_schema(
    operation: Any, page: dict[str, Any], says: str | None
) -> None:
    # The schema holds what the prose says: `has_more` and `next_cursor` go together, an empty
    # page has no IDs and nothing after it, and every ID and cursor has its own pattern.
    found = CONTRACT.response_errors(operation, 200, OK, json.dumps(page).encode())
    if says is None:
        assert found is None
    else:
        assert found is not None
        assert says in found


@pytest.mark.parametrize(
    "body",
    [
        {f"k{i}": i for i in range(30)},
        {"title": "", **{f"k{i}": i for i in range(12)}, "tree": "X"},
        {**{f"k{i}": i for i in range(12)}, "title": 5, "created_by": "al ice"},
        {"title": "t", "created_by": "alice", **{f"z{i}": i for i in range(11)}},
    ],
)
def test_a_body_of_many_unknown_fields_gets_the_answer_the_whole_body_would(body: dict[str, Any]) -> None:
    # Only the first ten unknown fields are shown to the schema; the rest are counted. The answer
    # must be the one that judging every field, and naming only ten, would give.
    operation = SPEC.operations["create_session"]
    assert operation.body is not None
    with pytest.raises(Problem) as raised:
        CONTRACT.check_body(operation, body)
    whole = invalid_fields(*field_errors(operation.body.iter_errors(body), operation.body_fields, SPEC.pattern_words))
    assert (raised.value.errors, raised.value.detail) == (whole.errors, whole.detail)
