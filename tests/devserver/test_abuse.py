"""The dev server under abuse: each case gets a clear problem+json answer and stores nothing.

Bodies too large are sent over real sockets to a server on 127.0.0.1, as a
client would; everything else goes through the app in process.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import socket
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from starlette.testclient import TestClient

from pyclann.devserver.server import RunningServer, running

from .helpers import ALICE, SESSIONS, TOKENS, call_asgi, count_rows, new_session

MIB = 1 << 20


@pytest.fixture
def served(db: Path) -> Iterator[RunningServer]:
    with running(db, TOKENS) as server:
        yield server


def raw_request(port: int, head: str, body: Iterator[bytes] | None = None) -> tuple[bytes, int]:
    """Send a request over a socket, body chunk by chunk until the server answers; the answer and bytes sent."""
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(head.encode())
        sock.setblocking(False)
        answer = b""
        for chunk in body or ():
            with contextlib.suppress(BlockingIOError):
                answer += sock.recv(65536)
            if answer:
                break
            sock.setblocking(True)
            try:
                sock.sendall(chunk)
            except OSError:
                break
            sock.setblocking(False)
            sent += len(chunk)
        sock.setblocking(True)
        while b"\r\n\r\n" not in answer:
            more = sock.recv(65536)
            if not more:
                break
            answer += more
        head_end = answer.index(b"\r\n\r\n") + 4
        length = _headers(answer[:head_end]).get("content-length")
        # To its length, or to the end of an answer without one (uvicorn's own).
        while length is None or len(answer) < head_end + int(length):
            rest = sock.recv(65536)
            if not rest:
                assert length is None, "the answer ended before its Content-Length"
                break
            answer += rest
    return answer, sent


def _headers(head: bytes) -> dict[str, str]:
    lines = head.decode("latin-1").split("\r\n")[1:]
    return {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines if line)}


def status_and_problem(answer: bytes) -> tuple[int, dict[str, str], dict[str, Any]]:
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), _headers(head + b"\r\n"), json.loads(body)


def post_head(length: int | None, path: str = SESSIONS) -> str:
    framing = f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked"
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer token-a\r\n"
        f"Content-Type: application/json\r\n{framing}\r\n\r\n"
    )


def test_a_body_declared_over_1_mib_is_413_before_any_of_it_is_sent(served: RunningServer, db: Path) -> None:
    # 300 MB declared, none of it sent: the answer must not wait for it.
    answer, _ = raw_request(served.port, post_head(300_000_000))
    status, headers, problem = status_and_problem(answer)
    assert status == 413
    assert headers["content-type"] == "application/problem+json"
    assert headers["connection"] == "close"
    assert problem["type"] == "tag:clann.dev,2026:problem/body-too-large"
    assert problem["detail"] == "the body is 300000000 bytes; at most 1048576 are accepted"
    assert count_rows(db) == (0, 0)


def test_a_chunked_body_is_413_once_it_passes_1_mib_while_it_streams(served: RunningServer, db: Path) -> None:
    # An endless chunked body: the server answers, and stops reading, long before the client would stop.
    endless = (b"%x\r\n%s\r\n" % (MIB, b"x" * MIB) for _ in range(1000))
    answer, sent = raw_request(served.port, post_head(None), endless)
    status, headers, problem = status_and_problem(answer)
    assert status == 413
    assert problem["detail"] == "the body is over 1048576 bytes"
    assert headers["connection"] == "close"
    assert sent < 100 * MIB
    assert count_rows(db) == (0, 0)


def test_a_body_just_over_1_mib_gets_its_413_over_httpx_and_the_connection_lives_on(
    served: RunningServer, db: Path
) -> None:
    with httpx2.Client(base_url=served.url, headers=ALICE) as client:
        over = client.post(SESSIONS, json={"title": "x" * (2 * MIB), "created_by": "alice"})
        assert over.status_code == 413
        assert over.json()["type"] == "tag:clann.dev,2026:problem/body-too-large"
        chunked = client.post(
            SESSIONS, content=iter([b"{" + b" " * MIB, b" " * MIB]), headers={"Content-Type": "application/json"}
        )
        assert chunked.status_code == 413
        assert count_rows(db) == (0, 0)
        fine = client.post(SESSIONS, json={"title": "fits", "created_by": "alice"})
        assert fine.status_code == 201


def test_a_body_of_exactly_1_mib_is_read(served: RunningServer) -> None:
    body = json.dumps({"title": "t", "created_by": "alice", "tree": None}).encode()
    padded = body[:-1] + b" " * (MIB - len(body)) + b"}"
    assert len(padded) == MIB
    with httpx2.Client(base_url=served.url, headers=ALICE) as client:
        response = client.post(SESSIONS, content=padded, headers={"Content-Type": "application/json"})
    assert response.status_code == 201


def nested(depth: int) -> str:
    return '{"title": "t", "created_by": "alice", "tree": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"


def test_json_nested_deeper_than_32_levels_is_400(http: TestClient, db: Path) -> None:
    response = http.post(SESSIONS, content=nested(33), headers={**ALICE, "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["type"] == "tag:clann.dev,2026:problem/malformed-request"
    assert response.json()["detail"] == "the body is JSON nested more than 32 levels deep"
    deep = http.post(SESSIONS, content="[" * 100_000, headers={**ALICE, "Content-Type": "application/json"})
    assert deep.status_code == 400
    assert count_rows(db) == (0, 0)


def test_json_nested_32_levels_is_parsed_and_judged_by_its_fields(http: TestClient) -> None:
    response = http.post(SESSIONS, content=nested(32), headers={**ALICE, "Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "tree"


def test_brackets_inside_strings_do_not_count_as_nesting(http: TestClient) -> None:
    title = "[{" * 40 + '\\"' + "}]" * 40
    body = '{"title": "' + title + '", "created_by": "alice"}'
    response = http.post(SESSIONS, content=body, headers={**ALICE, "Content-Type": "application/json"})
    assert response.status_code == 201
    assert response.json()["title"] == json.loads(f'"{title}"')


def test_an_unterminated_string_of_escaped_quotes_is_400(http: TestClient) -> None:
    # Half a million escaped quotes, never closed: stripping strings must not restart at each one.
    body = '{"created_by": "alice", "title": "' + '\\"' * 500_000
    response = http.post(SESSIONS, content=body, headers={**ALICE, "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["detail"].startswith("the body is not valid JSON")


def test_repeated_query_parameters_are_400_naming_them(http: TestClient) -> None:
    response = http.get(f"{SESSIONS}?created_by=alice&tree=a&tree=b&limit=1&limit=2", headers=ALICE)
    assert response.status_code == 400
    assert response.json()["type"] == "tag:clann.dev,2026:problem/invalid-parameter"
    assert response.json()["detail"] == "query parameter(s) given more than once: 'tree', 'limit'"


def test_16_kib_of_repeated_query_parameters_is_a_400(http: TestClient) -> None:
    # Sent straight to the app: httpx2 refuses URLs this long. Decided in one pass (a test never asserts a time).
    answer = call_asgi(http.app, "GET", SESSIONS, ("created_by=alice" + "&tree=a" * 2_300).encode())
    assert answer.status == 400
    assert answer.json()["detail"] == "query parameter(s) given more than once: 'tree'"
    many = "&".join(f"p{i}=1&p{i}=2" for i in range(1000)).encode()
    answer = call_asgi(http.app, "GET", SESSIONS, b"created_by=alice&" + many)
    assert answer.status == 400
    assert answer.json()["detail"].endswith("and 990 more")


def test_a_query_past_16_kib_is_414_before_it_is_parsed(http: TestClient) -> None:
    answer = call_asgi(http.app, "GET", SESSIONS, ("created_by=alice" + "&tree=a" * 15_700).encode())
    assert answer.status == 414
    assert answer.json()["type"] == "tag:clann.dev,2026:problem/uri-too-long"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        # ECMA-262's `$` is the end of the string: a final newline does not match it.
        ({"title": "t", "created_by": "alice", "tree": "travel\n"}, "tree"),
        ({"title": "t", "created_by": "alice\n"}, "created_by"),
        # ECMA-262's `\s` includes U+FEFF: a title of it alone has nothing but white space.
        ({"title": "\ufeff", "created_by": "alice"}, "title"),
        ({"title": " \u3000\u00a0\u2028 ", "created_by": "alice"}, "title"),
        # Control characters, C0 and C1, are refused anywhere in a title.
        ({"title": "a\x1cb", "created_by": "alice"}, "title"),
        ({"title": "\x85", "created_by": "alice"}, "title"),
        ({"title": "tab\there", "created_by": "alice"}, "title"),
        ({"title": "new\nline", "created_by": "alice"}, "title"),
        ({"title": "\x7f", "created_by": "alice"}, "title"),
    ],
)
def test_patterns_have_their_ecma_262_meaning(http: TestClient, db: Path, body: dict[str, Any], field: str) -> None:
    response = http.post(SESSIONS, json=body, headers=ALICE)
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert count_rows(db) == (0, 0)


@pytest.mark.parametrize("title", ["\ufeffa", "a\u2028b", "\u00a0x\u00a0", "שלום", "👋", "a" * 200])
def test_titles_with_a_visible_character_and_no_control_character_are_accepted(http: TestClient, title: str) -> None:
    response = http.post(SESSIONS, json={"title": title, "created_by": "alice"}, headers=ALICE)
    assert response.status_code == 201, response.text
    assert response.json()["title"] == title


def test_a_query_parameter_with_a_final_newline_is_400(http: TestClient) -> None:
    for query in ("created_by=alice%0A", "created_by=alice&tree=travel%0A"):
        response = http.get(f"{SESSIONS}?{query}", headers=ALICE)
        assert response.status_code == 400
        assert "must be a " in response.json()["detail"]


def test_a_path_no_router_would_match_still_gets_a_problem(http: TestClient) -> None:
    response = http.get(f"{SESSIONS}/%C3%88%0A/messages", headers=ALICE)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"].startswith("session_ulid must be a bare ULID")
    assert "\\n" in response.json()["detail"]


LONG = "x" * 131_073
JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "says"),
    [
        ("POST", SESSIONS, {"content": b"{not json", "headers": JSON}, 400, "not valid JSON"),
        ("POST", SESSIONS, {"content": b'{"title": NaN}', "headers": JSON}, 400, "NaN"),
        ("POST", SESSIONS, {"content": b'{"title": Infinity}', "headers": JSON}, 400, "Infinity"),
        (
            "POST",
            SESSIONS,
            {"content": b'{"title": "\\ud800", "created_by": "alice"}', "headers": JSON},
            400,
            "surrogate",
        ),
        ("POST", SESSIONS, {"content": b'{"title": "\xff"}', "headers": JSON}, 400, "not UTF-8"),
        ("POST", SESSIONS, {"content": b"", "headers": JSON}, 400, "not valid JSON"),
        (
            "POST",
            SESSIONS,
            {"content": b"title=x", "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
            400,
            "must be application/json",
        ),
        ("POST", SESSIONS, {"content": b'{"title": "x"}'}, 400, "must be application/json"),
        ("POST", SESSIONS, {"json": ["a list"]}, 422, "(body): must be of type object, got array"),
        (
            "POST",
            SESSIONS,
            {"json": {"title": "x", "created_by": "alice", "admin": True}},
            422,
            "admin: is not a known",
        ),
        ("POST", SESSIONS, {"json": {"title": "", "created_by": "alice"}}, 422, "title: must be at least 1 character"),
        (
            "POST",
            SESSIONS,
            {"json": {"title": "   ", "created_by": "alice"}},
            422,
            "title: must be a session's title; at least one character is not white space",
        ),
        ("POST", SESSIONS, {"json": {"title": "t" * 201, "created_by": "alice"}}, 422, "at most 200"),
        ("POST", SESSIONS, {"json": {"title": "x"}}, 422, "created_by: is required"),
        ("POST", SESSIONS, {"json": {"title": 5, "created_by": "alice"}}, 422, "title: must be of type string"),
        ("GET", SESSIONS + "?created_by=alice&created_by=bob", {}, 400, "more than once"),
        ("GET", SESSIONS + "?created_by=alice&admin=1", {}, 400, "unknown query parameter(s): 'admin'"),
        ("GET", SESSIONS + "?created_by=%FF", {}, 400, "not percent-encoded UTF-8"),
        ("GET", SESSIONS, {}, 400, "missing required parameter 'created_by'"),
        ("GET", SESSIONS + "?created_by=al%20ice", {}, 400, "created_by"),
        ("GET", SESSIONS + "?created_by=alice&tree=", {}, 400, "tree"),
        ("GET", SESSIONS + "/..%2F..%2Fetc/messages", {}, 400, "must be a bare ULID"),
        ("GET", SESSIONS + "/%2F/messages", {}, 400, "must be a bare ULID"),
        ("GET", SESSIONS + "/01JDXV3C5Z0K8Y8T6W3M2Q9R4N%23x/messages", {}, 400, "must be a bare ULID"),
        ("GET", SESSIONS + "/01JDXV3C5Z0K8Y8T6W3M2Q9R4N%3Fx/messages", {}, 400, "must be a bare ULID"),
        ("GET", SESSIONS + "/'%20OR%201=1--/messages", {}, 400, "must be a bare ULID"),
        ("GET", SESSIONS + "/chat_session:01JDXV3C5Z0K8Y8T6W3M2Q9R4N", {}, 400, "must be a bare ULID"),
        ("GET", SESSIONS + "/01jdxv3c5z0k8y8t6w3m2q9r4n", {}, 400, "must be a bare ULID"),
        ("GET", SESSIONS + "/01JDXV3C5Z0K8Y8T6W3M2Q9R4", {}, 400, "must be a bare ULID"),
        ("GET", SESSIONS + "/81JDXV3C5Z0K8Y8T6W3M2Q9R4N/messages", {}, 400, "must be a bare ULID"),
        ("GET", SESSIONS + "/01JDXV3C5Z0K8Y8T6W3M2Q9R4N/messages/%2E%2E", {}, 400, "message_ulid must be a bare ULID"),
        ("DELETE", SESSIONS + "/01JDXV3C5Z0K8Y8T6W3M2Q9R4N/messages", {}, 405, "not allowed"),
        ("PUT", SESSIONS, {}, 405, "not allowed"),
        ("GET", "/api/chat/other", {}, 404, "no such resource"),
        ("GET", SESSIONS + "/", {}, 400, "must be a bare ULID"),
        ("GET", SESSIONS + "/01JDXV3C5Z0K8Y8T6W3M2Q9R4N/messages/01JDXV3C5Z0K8Y8T6W3M2Q9R4N/x", {}, 404, "no such"),
    ],
)
def test_bad_input_gets_a_problem_naming_it_and_writes_nothing(
    http: TestClient, db: Path, method: str, path: str, kwargs: dict[str, Any], status: int, says: str
) -> None:
    headers = {**ALICE, **kwargs.pop("headers", {})}
    response = http.request(method, path, headers=headers, **kwargs)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-request-id"] == response.json()["request_id"]
    problem = response.json()
    assert problem["status"] == status
    assert says in problem["detail"]
    assert count_rows(db) == (0, 0)


def test_over_long_content_is_refused_for_a_session_that_exists(http: TestClient, db: Path) -> None:
    ulid = new_session(http)
    response = http.post(f"{SESSIONS}/{ulid}/messages", json={"role": "user", "content": LONG}, headers=ALICE)
    assert response.status_code == 422
    assert count_rows(db) == (1, 0)


@pytest.mark.parametrize(
    "limit", ["0" * 4400 + "5", "9" * 5000, "-" + "1" * 4301, "0" * 19 + "5"], ids=["zeros", "nines", "negative", "19"]
)
def test_an_integer_parameter_of_thousands_of_digits_is_a_400_not_a_500(http: TestClient, limit: str) -> None:
    # Python's int() refuses more than 4,300 digits with a ValueError, which was answered 500.
    ulid = new_session(http)
    for path in (f"{SESSIONS}?created_by=alice&limit={limit}", f"{SESSIONS}/{ulid}/messages?limit={limit}"):
        response = http.get(path, headers=ALICE)
        assert response.status_code == 400, response.text
        problem = response.json()
        assert problem["type"] == "tag:clann.dev,2026:problem/invalid-parameter"
        assert problem["detail"].startswith("limit: must be an integer of at most 18 digits, got '")
        assert len(problem["detail"]) < 200


@pytest.mark.parametrize("zeros", [20, 5000])
def test_a_content_length_with_leading_zeros_is_read_as_the_number_it_is_or_refused(
    served: RunningServer, zeros: int
) -> None:
    # The app must not meet a long one with int()'s digit limit (a 500); uvicorn refuses the longest itself.
    head = post_head(None).replace("Transfer-Encoding: chunked", "Content-Length: " + "0" * zeros + "2")
    answer, _ = raw_request(served.port, head + "{}")
    status = int(answer.split()[1])
    assert status in (400, 422)
    if status == 422:
        assert status_and_problem(answer)[2]["detail"] == "title: is required; created_by: is required"


def test_thousands_of_unknown_query_parameters_are_named_ten_at_most(http: TestClient) -> None:
    unknown = "&".join(f"p{i}=1" for i in range(2000))
    answer = call_asgi(http.app, "GET", SESSIONS, f"created_by=alice&{unknown}".encode())
    assert answer.status == 400
    assert answer.json()["detail"].startswith("unknown query parameter(s): 'p0', 'p1', 'p10', ")
    assert answer.json()["detail"].endswith("and 1990 more")


def test_a_body_of_105000_unknown_fields_is_answered_with_ten_of_them_and_a_count(http: TestClient, db: Path) -> None:
    # 0.84 MB of body was answered with 16.9 MB, each field twice with the known fields after it.
    names = ["".join(letters) for letters in itertools.product(string.digits + string.ascii_letters, repeat=3)]
    names = names[:105_000]  # in ASCII order, so the first ten met are the first ten here
    body = '{"title":"t","created_by":"alice",' + ",".join(f'"{n}":0' for n in names) + "}"
    assert len(body) < MIB
    response = http.post(SESSIONS, content=body, headers={**ALICE, "Content-Type": "application/json"})
    assert response.status_code == 422
    assert len(response.content) < 4096
    problem = response.json()
    assert [e["field"] for e in problem["errors"]] == names[:10]
    assert problem["detail"].endswith("; and 104990 more fields")
    assert count_rows(db) == (0, 0)


def test_a_long_or_unprintable_field_name_is_echoed_in_part(http: TestClient) -> None:
    long_name, broken_name = "n" * 10_000, "line\nbreak"
    body = {"title": "t", "created_by": "alice", long_name: 1, broken_name: 2}
    response = http.post(SESSIONS, json=body, headers=ALICE)
    assert response.status_code == 422
    fields = [e["field"] for e in response.json()["errors"]]
    assert fields == ["n" * 57 + "...", broken_name]
    detail = response.json()["detail"]
    assert "n" * 58 not in detail
    assert "\n" not in detail  # the line break is escaped, as repr does
    assert "'line\\nbreak': is not a known field" in detail
