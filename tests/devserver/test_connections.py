"""The connection under abuse: the body's deadline, limits on a head's size and on connections.

What the app holds (the body's deadline, 414 and 431 for a head within what
uvicorn buffers) is answered with problem+json; what stock uvicorn holds (a
head longer than it buffers, a request that is not HTTP/1.1, the connection
limit) with uvicorn's own text/plain answer. A head's deadline is left to a
production server (docs/guides/limits.md), and has no test here.

Each test runs a server on 127.0.0.1 with short deadlines where it needs them,
and talks to it over raw sockets, as a client that misbehaves would. No test
asserts how long anything took: a socket's own timeout only stops a test that
would otherwise hang.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest

from pyclann.devserver import server as server_module
from pyclann.devserver.contract import Contract
from pyclann.devserver.problems import TYPE_PREFIX
from pyclann.devserver.server import MAX_HEAD, Limits, RunningServer, running
from pyclann.devserver.wire import MAX_HEADER_SECTION, MAX_TARGET

from .helpers import ALICE, SESSIONS, TOKENS, count_rows

# Long enough for any request a test sends at once, short enough to wait for.
SHORT = Limits(body_timeout=0.5, graceful_shutdown=1)
# Stops a test that would otherwise hang; never a measure of anything.
PATIENCE = 30.0
GET_HEAD = "GET /api/chat/sessions?created_by=alice HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer token-a\r\n"
CLOSE = "Connection: close\r\n"
# A POST whose client waits for `100 Continue`, which uvicorn sends once the app starts to read
# the body: then the request is known to be in progress. Its body never comes.
STALLED_POST = (
    f"POST {SESSIONS} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer token-a\r\n"
    "Content-Type: application/json\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n"
).encode()
CONTRACT = Contract()


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def problem(self) -> dict[str, Any]:
        assert self.headers["content-type"] == "application/problem+json"
        document: dict[str, Any] = json.loads(self.body)
        assert document["request_id"] == self.headers["x-request-id"]
        # Every answer made below the app is a problem the contract's schema accepts.
        assert CONTRACT.response_errors(None, self.status, self.headers, self.body) is None
        return document

    def refused_by_uvicorn(self) -> None:
        """An answer of stock uvicorn's own, made below the app, which closes the connection."""
        assert self.headers["content-type"] == "text/plain; charset=utf-8"
        assert self.headers["connection"] == "close"


def parse(raw: bytes) -> Answer:
    """The first final answer in what a server sent."""
    raw = raw.removeprefix(b"HTTP/1.1 100 Continue\r\n\r\n")
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return Answer(int(lines[0].split()[1]), headers, body[: int(headers.get("content-length", len(body)))])


def parse_all(raw: bytes) -> list[Answer]:
    """Every final answer in what a server sent, in order."""
    answers = []
    while raw:
        answer = parse(raw)
        answers.append(answer)
        raw = raw.removeprefix(b"HTTP/1.1 100 Continue\r\n\r\n")
        raw = raw[raw.index(b"\r\n\r\n") + 4 + len(answer.body) :]
    return answers


def connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=PATIENCE)


def stall(port: int) -> socket.socket:
    """A connection with a request in progress: the app is reading a body that does not come."""
    sock = connect(port)
    sock.sendall(STALLED_POST)
    assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
    return sock


def read_to_end(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    received = b""
    with contextlib.suppress(ConnectionResetError):
        while more := sock.recv(65536):
            received += more
    return received


def exchange(port: int, request: bytes) -> Answer:
    with connect(port) as sock:
        sock.sendall(request)
        return parse(read_to_end(sock))


@pytest.fixture(autouse=True)
def nothing_fails_unseen(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """No test here may make the server log an error: an exception in a protocol callback is only logged."""
    caplog.set_level(logging.INFO)
    yield
    records = caplog.get_records("setup") + caplog.get_records("call")
    errors = [r.getMessage() for r in records if r.levelno >= logging.ERROR]
    # The one error a test causes on purpose: a stop that outlasts its graceful shutdown.
    assert [e for e in errors if "timeout graceful shutdown exceeded" not in e] == []


@pytest.fixture
def short(db: Path) -> Iterator[RunningServer]:
    with running(db, TOKENS, limits=SHORT) as server:
        yield server


@pytest.fixture
def served(db: Path) -> Iterator[RunningServer]:
    with running(db, TOKENS) as server:
        yield server


# -- deadlines ----------------------------------------------------------------------


def test_a_body_that_stops_arriving_is_answered_408_and_nothing_is_written(short: RunningServer, db: Path) -> None:
    head = (
        f"POST {SESSIONS} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer token-a\r\n"
        "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    )
    with connect(short.port) as sock:
        sock.sendall(head.encode() + b'{"title": "t", ')
        answer = parse(read_to_end(sock))
    assert answer.status == 408
    assert answer.headers["connection"] == "close"
    assert answer.problem()["detail"] == "the body did not arrive within 0.5 s"
    assert count_rows(db) == (0, 0)


# -- the size of a head -----------------------------------------------------------------


def test_a_request_target_of_16_kib_is_read_and_one_byte_more_is_414(served: RunningServer) -> None:
    def target(size: int) -> str:
        start = f"{SESSIONS}?created_by=alice&x="
        return start + "a" * (size - len(start))

    at_limit = exchange(served.port, f"GET {target(MAX_TARGET)} HTTP/1.1\r\nHost: x\r\n{CLOSE}\r\n".encode())
    assert at_limit.status == 401  # read, and answered by the app
    over = exchange(served.port, f"GET {target(MAX_TARGET + 1)} HTTP/1.1\r\nHost: x\r\n{CLOSE}\r\n".encode())
    assert over.status == 414
    assert over.problem()["type"] == TYPE_PREFIX + "uri-too-long"


@pytest.mark.parametrize("spelling", ["X-Pad: {}", "X-Pad:{}", "X-Pad:\t {} \t"], ids=["plain", "unspaced", "padded"])
def test_a_header_section_of_64_kib_is_read_and_one_byte_more_is_431(served: RunningServer, spelling: str) -> None:
    def head(section: int) -> bytes:
        fields = f"Host: x\r\nAuthorization: Bearer token-a\r\n{CLOSE}"
        # Each field line counts as `name: value` and CRLF however it is spaced; the blank line ending them, not at all.
        filler = "p" * (section - len(fields) - len("X-Pad: \r\n"))
        return f"GET {SESSIONS}?created_by=alice HTTP/1.1\r\n{fields}{spelling.format(filler)}\r\n\r\n".encode()

    assert exchange(served.port, head(MAX_HEADER_SECTION)).status == 200
    over = exchange(served.port, head(MAX_HEADER_SECTION + 1))
    assert over.status == 431
    problem = over.problem()
    assert problem["type"] == TYPE_PREFIX + "headers-too-large"
    assert problem["detail"] == f"the header section is {MAX_HEADER_SECTION + 1} bytes; at most 65536 are accepted"


def test_many_small_headers_over_64_kib_are_431(served: RunningServer) -> None:
    fields = "".join(f"X-{i}: v\r\n" for i in range(10_000))
    answer = exchange(served.port, f"{GET_HEAD}{fields}\r\n".encode())
    assert answer.status == 431


def send_endlessly(port: int, opening: bytes, closing: bytes = b"") -> tuple[Answer, bool]:
    """Send `opening`, then 64 MB of one line, then `closing`: the answer, and whether all of it was sent."""
    block = b"x" * (1 << 20)
    sent = 0
    with connect(port) as sock:
        received: list[bytes] = []
        reader = threading.Thread(target=lambda: received.append(read_to_end(sock)))
        reader.start()
        with contextlib.suppress(OSError):
            sock.sendall(opening)
            for _ in range(64):
                sock.sendall(block)
                sent += len(block)
            sock.sendall(closing)
        reader.join(PATIENCE)
    return parse(received[0]), sent == 64 * len(block)


def test_a_huge_header_line_is_refused_before_the_client_has_sent_it(served: RunningServer) -> None:
    # 64 MB of one header line: uvicorn holds no more of an unfinished head than MAX_HEAD, and
    # refuses it once past (the client meets a closed connection long before it has sent it all).
    answer, all_sent = send_endlessly(served.port, f"{GET_HEAD}X-Big: ".encode(), b"\r\n\r\n")
    assert answer.status == 400
    answer.refused_by_uvicorn()
    assert not all_sent


def test_a_target_never_finished_is_refused_once_it_passes_what_uvicorn_holds(served: RunningServer) -> None:
    with connect(served.port) as sock:
        with contextlib.suppress(OSError):
            sock.sendall(b"GET /" + b"a" * MAX_HEAD * 2)
        answer = parse(read_to_end(sock))
    assert answer.status == 400
    answer.refused_by_uvicorn()


# -- answers made below the app ------------------------------------------------------------


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"F(O /api/chat/sessions HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /api/chat/sessions/\xff HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /api/chat/sessions HTTP/1.1\r\nHost: x\r\nX-A: a\nb\r\n\r\n",
        b"POST /api/chat/sessions HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n",
        b"POST /api/chat/sessions HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\r\n\r\n",  # TLS to a plain HTTP port
        b"GET / HTTP/1.1\r\nHost x\r\n\r\n",
    ],
    ids=[
        "bad-method",
        "non-ascii-path",
        "bare-line-feed-in-a-header",
        "bad-content-length",
        "two-content-lengths",
        "tls-hello",
        "header-without-colon",
    ],
)
def test_a_request_that_is_not_http_1_1_is_refused_by_uvicorn_and_reaches_nothing(
    served: RunningServer, db: Path, request_bytes: bytes
) -> None:
    answer = exchange(served.port, request_bytes)
    assert answer.status == 400
    answer.refused_by_uvicorn()
    assert count_rows(db) == (0, 0)


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ("X-A: a\x01b\r\n", "header 'x-a' holds a control character"),
        ("X-A: a\x7fb\r\n", "header 'x-a' holds a control character"),
        ("Content-Length: 3\r\nTransfer-Encoding: chunked\r\n", "framed both by Content-Length and Transfer-Encoding"),
    ],
    ids=["control-character", "delete", "content-length-with-transfer-encoding"],
)
def test_a_head_uvicorn_lets_through_but_http_forbids_is_a_400_problem_that_closes(
    served: RunningServer, db: Path, fields: str, says: str
) -> None:
    body = new_session("smuggled")
    request = f"{POST_HEAD}{fields}\r\n".encode() + b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    answer = exchange(served.port, request + f"{GET_HEAD}\r\n".encode())
    assert answer.status == 400
    assert answer.headers["connection"] == "close"
    problem = answer.problem()
    assert problem["type"] == TYPE_PREFIX + "malformed-request"
    assert problem["detail"].endswith(says)
    assert count_rows(db) == (0, 0)


def test_a_broken_request_after_a_good_one_on_the_same_connection_is_answered_in_turn(served: RunningServer) -> None:
    good = f"{GET_HEAD}\r\n".encode()
    with connect(served.port) as sock:
        sock.sendall(good + b"FOO / HTTP/1.1\r\n\r\n")
        received = read_to_end(sock)
    first_end = received.index(b"\r\n\r\n") + 4
    first = parse(received)
    second = parse(received[first_end + len(first.body) :])
    assert (first.status, second.status) == (200, 400)
    second.refused_by_uvicorn()


def test_a_chunked_body_that_breaks_off_writes_nothing(served: RunningServer, db: Path) -> None:
    head = (
        f"POST {SESSIONS} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer token-a\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    answer = exchange(served.port, head.encode() + b'5\r\n{"tit\r\nZZZ\r\n')
    assert answer.status == 400
    assert count_rows(db) == (0, 0)


def test_an_upgrade_header_is_ignored_and_the_request_answered(served: RunningServer) -> None:
    answer = exchange(
        served.port,
        f"{GET_HEAD}Connection: Upgrade, close\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n".encode(),
    )
    assert answer.status == 200


UPGRADES = {
    "h2c": "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n",
    "keep-alive-and-upgrade": "Connection: keep-alive, Upgrade\r\nUpgrade: h2c\r\n",
    "upper-case": "CONNECTION: UPGRADE\r\nUPGRADE: WEBSOCKET\r\n",
    "two-connection-fields": "Connection: keep-alive\r\nconnection: upgrade\r\nupgrade: websocket\r\n",
}


POST_HEAD = (
    f"POST {SESSIONS} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer token-a\r\nContent-Type: application/json\r\n"
)


def post(fields: str, body: bytes, *, chunked: bool = False) -> bytes:
    """A POST of `body` to the sessions, with `fields` in its head."""
    if chunked:
        framing, body = "Transfer-Encoding: chunked", b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    else:
        framing = f"Content-Length: {len(body)}"
    return f"{POST_HEAD}{fields}{framing}\r\n\r\n".encode() + body


def new_session(title: str) -> bytes:
    return json.dumps({"title": title, "created_by": "alice", "tree": None}).encode()


@pytest.mark.parametrize("upgrade", UPGRADES.values(), ids=UPGRADES)
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_request_asking_for_an_upgrade_keeps_its_body_and_the_connection_goes_on(
    served: RunningServer, db: Path, upgrade: str, chunked: bool
) -> None:
    # Between two requests on one connection, so that the one after it is read as a request too.
    sent = post(upgrade, new_session("up"), chunked=chunked)
    with connect(served.port) as sock:
        sock.sendall(f"{GET_HEAD}\r\n".encode() + sent + f"{GET_HEAD}{CLOSE}\r\n".encode())
        answers = parse_all(read_to_end(sock))
    assert [answer.status for answer in answers] == [200, 201, 200]
    assert json.loads(answers[1].body)["title"] == "up"
    assert [session["title"] for session in json.loads(answers[2].body)["data"]] == ["up"]
    assert count_rows(db) == (1, 0)


def test_the_body_of_a_request_asking_for_an_upgrade_is_never_read_as_a_request(
    served: RunningServer, db: Path
) -> None:
    request = post(
        "Connection: keep-alive, Upgrade\r\nUpgrade: h2c\r\nExpect: 100-continue\r\n", post("", new_session("smuggled"))
    )
    head_end = request.index(b"\r\n\r\n") + 4
    with connect(served.port) as sock:
        # The body goes once the app reads it (after `100 Continue`), so it arrives apart from the head.
        sock.sendall(request[:head_end])
        interim = b"HTTP/1.1 100 Continue\r\n\r\n"
        assert sock.recv(len(interim), socket.MSG_WAITALL) == interim
        sock.sendall(request[head_end:] + f"{GET_HEAD}{CLOSE}\r\n".encode())
        answers = parse_all(read_to_end(sock))
    assert [answer.status for answer in answers] == [400, 200]  # the body is not JSON; the GET after it
    assert answers[0].problem()["detail"].startswith("the body is not valid JSON")
    assert count_rows(db) == (0, 0)


def test_a_connect_is_answered_405_and_its_body_read_as_a_body(served: RunningServer, db: Path) -> None:
    # httptools takes any CONNECT for a tunnel, as it does a request asking for an upgrade.
    smuggled = post("", new_session("smuggled"))
    head = f"CONNECT {SESSIONS} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(smuggled)}\r\n\r\n"
    with connect(served.port) as sock:
        sock.sendall(head.encode() + smuggled + f"{GET_HEAD}{CLOSE}\r\n".encode())
        answers = parse_all(read_to_end(sock))
    assert [answer.status for answer in answers] == [405, 200]
    assert count_rows(db) == (0, 0)


def test_a_request_asking_for_an_upgrade_is_refused_for_a_transfer_coding_it_would_be_for_without(
    served: RunningServer, db: Path
) -> None:
    # httptools checks the transfer coding only of a request it does not take for an upgrade.
    fields = "Connection: upgrade\r\nUpgrade: h2c\r\nTransfer-Encoding: gzip\r\n\r\n"
    with connect(served.port) as sock:
        sock.sendall(f"{POST_HEAD}{fields}".encode() + post("", new_session("smuggled")))
        answers = parse_all(read_to_end(sock))
    assert [answer.status for answer in answers] == [400]
    answers[0].refused_by_uvicorn()
    assert count_rows(db) == (0, 0)


# -- connections --------------------------------------------------------------------------


def test_past_the_connection_limit_a_request_is_answered_503_by_uvicorn(db: Path) -> None:
    # uvicorn counts the connection a request comes on: three others, and it is the fourth.
    with running(db, TOKENS, limits=Limits(max_connections=4)) as server:
        busy = [stall(server.port) for _ in range(3)]
        try:
            with httpx2.Client(base_url=server.url, headers=ALICE) as client:
                response = client.get(SESSIONS, params={"created_by": "alice"})
            assert response.status_code == 503
            assert response.headers["content-type"] == "text/plain; charset=utf-8"
        finally:
            for sock in busy:
                sock.close()


def test_the_connection_limit_follows_the_limit_on_open_files(monkeypatch: pytest.MonkeyPatch) -> None:
    resource = pytest.importorskip("resource")
    monkeypatch.setattr(resource, "getrlimit", lambda _: (1024, 4096))
    assert server_module.default_max_connections() == 1024 - 64
    monkeypatch.setattr(resource, "getrlimit", lambda _: (1 << 20, 1 << 20))
    assert server_module.default_max_connections() == 2000


def test_a_stop_cancels_a_request_still_reading_its_body_with_a_503(db: Path) -> None:
    # A body that never comes holds its request past the graceful shutdown's time; it is then
    # cancelled, and answered with a problem rather than uvicorn's text/plain 500.
    limits = Limits(body_timeout=PATIENCE * 2, graceful_shutdown=1)
    with running(db, TOKENS, limits=limits) as server:
        sock = stall(server.port)
    with sock:
        answer = parse(read_to_end(sock))
    assert answer.status == 503
    assert answer.problem()["detail"] == "the server is stopping"


# -- trailers -------------------------------------------------------------------------


def chunked_post(body: bytes, trailers: bytes = b"", size: int = 0) -> bytes:
    """A chunked POST of `body` to the sessions, in chunks of `size` bytes (0: one chunk), then `trailers`."""
    size = size or len(body)
    chunks = b"".join(
        b"%x\r\n%s\r\n" % (len(body[i : i + size]), body[i : i + size]) for i in range(0, len(body), size)
    )
    return f"{POST_HEAD}Transfer-Encoding: chunked\r\n\r\n".encode() + chunks + b"0\r\n" + trailers + b"\r\n"


def test_a_chunked_body_with_trailers_is_read_and_the_connection_goes_on(served: RunningServer, db: Path) -> None:
    # In one-byte chunks too: five bytes of framing for each byte of body are not mistaken for trailers.
    for size in (0, 1):
        sent = chunked_post(new_session("tr"), b"X-Checksum: 5eb63bbbe01eeed\r\nX-Other: 1\r\n", size)
        with connect(served.port) as sock:
            sock.sendall(sent + f"{GET_HEAD}{CLOSE}\r\n".encode())
            answers = parse_all(read_to_end(sock))
        assert [answer.status for answer in answers] == [201, 200]
    assert count_rows(db) == (2, 0)


@pytest.mark.parametrize("opening", [b"0\r\nX-Big: ", b"1;ext="], ids=["trailer-line", "chunk-extension"])
def test_an_endless_line_in_a_bodys_framing_is_refused_before_the_client_has_sent_it(
    served: RunningServer, db: Path, opening: bytes
) -> None:
    # uvicorn holds no more of a trailer or chunk line than of a head: 64 MB of one are not held.
    head = f"{POST_HEAD}Transfer-Encoding: chunked\r\n\r\n".encode()
    answer, all_sent = send_endlessly(served.port, head + b"1\r\n{\r\n" + opening)
    assert answer.status in (400, 408)  # uvicorn's refusal, or the app's, if its body's deadline comes first
    assert not all_sent
    assert count_rows(db) == (0, 0)
