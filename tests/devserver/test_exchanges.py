"""A recorded exchange checked against openapi.yaml without a server: what the cassette tests can use."""

from __future__ import annotations

import httpx2
from starlette.testclient import TestClient

from pyclann.devserver.contract import Contract
from pyclann.devserver.exchanges import exchange_errors

from .helpers import ALICE, SESSIONS, new_session

CONTRACT = Contract()


def errors_of(response: httpx2.Response, body: bytes | None = None) -> list[str]:
    request = response.request
    return exchange_errors(
        CONTRACT,
        request.method,
        request.url.raw_path.decode().partition("?")[0],
        request.url.query,
        dict(request.headers),
        request.content or None,
        response.status_code,
        dict(response.headers),
        response.content if body is None else body,
    )


def test_the_servers_own_exchanges_obey_the_contract(http: TestClient) -> None:
    ulid = new_session(http)
    exchanges = [
        http.post(SESSIONS, json={"title": "t", "created_by": "alice"}, headers=ALICE),
        http.get(f"{SESSIONS}?created_by=alice&limit=1", headers=ALICE),
        http.post(f"{SESSIONS}/{ulid}/messages", json={"role": "user", "content": "x"}, headers=ALICE),
        http.get(f"{SESSIONS}/{ulid}/messages", headers=ALICE),
        http.patch(f"{SESSIONS}/{ulid}", json={"tree": None}, headers=ALICE),
        http.delete(f"{SESSIONS}/{ulid}", headers=ALICE),
        # Refused requests, answered with the problem the contract calls for.
        http.post(SESSIONS, json={"title": ""}, headers=ALICE),
        http.get(f"{SESSIONS}/{ulid}", headers=ALICE),
        http.get(f"{SESSIONS}?created_by=alice&limit=0", headers=ALICE),
        http.get(f"{SESSIONS}/not-a-ulid", headers=ALICE),
        http.put(SESSIONS, headers=ALICE),
    ]
    for response in exchanges:
        assert errors_of(response) == [], response.request.url


def test_a_response_that_drifts_is_found(http: TestClient) -> None:
    response = http.get(f"{SESSIONS}?created_by=alice", headers=ALICE)
    found = errors_of(response, body=b'{"data": [], "has_more": false}')
    assert len(found) == 1
    assert "next_cursor" in found[0]


def test_a_refused_request_answered_with_a_success_is_found(http: TestClient) -> None:
    response = http.get(f"{SESSIONS}?created_by=alice&limit=0", headers=ALICE)
    response.status_code = 200
    response.headers["content-type"] = "application/json"
    found = errors_of(response, body=b'{"data": [], "has_more": false, "next_cursor": null}')
    assert found == [
        "the request breaks the contract (invalid-parameter: limit: must be at least 1, got 0), answered 200"
    ]
