"""The fault proxy by itself, between httpx2 (or a bare socket) and a small server that counts what reaches it."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx2
import pytest

from scripts.faults.proxy import DEFAULT_WEIGHTS, TAG_HEADER, Fault, FaultProxy, Kind, SeededFaults, Seen, scripted


class Upstream(ThreadingHTTPServer):
    """Answers every request with JSON naming it, and keeps the requests that reached it."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.seen: list[tuple[str, str, bytes, dict[str, str]]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Upstream

    def _answer(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = _read_chunked(self.rfile)
        self.server.seen.append((self.command, self.path, body, dict(self.headers)))
        if self.path == "/empty":
            self.send_response(204)
            self.end_headers()
            return
        payload = json.dumps({"n": len(self.server.seen), "path": self.path, "body": body.decode()}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if self.path == "/chunked":
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for start in range(0, len(payload), 7):
                piece = payload[start : start + 7]
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
            return
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_DELETE = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


def _read_chunked(stream: object) -> bytes:
    read_line = stream.readline  # type: ignore[attr-defined]
    read = stream.read  # type: ignore[attr-defined]
    parts = []
    while size := int(read_line().split(b";")[0], 16):
        parts.append(read(size))
        read(2)
    read_line()
    return b"".join(parts)


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    server = Upstream()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def tagged(tag: str) -> dict[str, str]:
    return {TAG_HEADER: tag}


def test_it_forwards_untouched_on_one_kept_alive_connection(upstream: Upstream) -> None:
    with FaultProxy(upstream.url, lambda seen: None) as proxy, httpx2.Client(base_url=proxy.url) as client:
        answers = [client.get(f"/r{i}", headers=tagged("a")) for i in range(3)]
        posted = client.post("/p", content=b'{"x": 1}', headers=tagged("a"))
        chunked = client.get("/chunked")
        streamed = client.post("/s", content=iter([b"ab", b"cd"]))  # sent chunked by httpx2
        assert proxy.connections == 1
    assert [a.json()["path"] for a in answers] == ["/r0", "/r1", "/r2"]
    assert posted.json()["body"] == '{"x": 1}'
    assert chunked.json() == {"n": 5, "path": "/chunked", "body": ""}
    assert streamed.json()["body"] == "abcd"
    assert all(TAG_HEADER not in headers for *_, headers in upstream.seen), "the tag is not forwarded"
    assert proxy.history() == {"a": ("", "", "", ""), "": ("", "")}
    assert proxy.injected.total() == 0


@pytest.mark.parametrize(("kind", "reached"), [(Kind.RESET_BEFORE, False), (Kind.RESET_AFTER, True)])
def test_a_reset_before_or_after_the_server_answers(upstream: Upstream, kind: Kind, reached: bool) -> None:
    with FaultProxy(upstream.url, scripted({("t", 0): Fault(kind)})) as proxy, httpx2.Client() as client:
        with pytest.raises(httpx2.TransportError):
            client.post(f"{proxy.url}/write", content=b"{}", headers=tagged("t"))
        assert len(upstream.seen) == (1 if reached else 0)
        again = client.post(f"{proxy.url}/write", content=b"{}", headers=tagged("t"))
        assert again.status_code == 200, "the client connects again, and the next request passes"
        assert proxy.injected == {kind: 1}


def test_a_reset_is_a_reset_not_an_orderly_close(upstream: Upstream) -> None:
    with (
        FaultProxy(upstream.url, scripted({("", 0): Fault(Kind.RESET_BEFORE)})) as proxy,
        socket.create_connection(("127.0.0.1", proxy.port)) as sock,
    ):
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        with pytest.raises(ConnectionResetError):
            sock.recv(100)


def test_a_framed_cut_says_its_length_and_keeps_the_connection(upstream: Upstream) -> None:
    with (
        FaultProxy(upstream.url, scripted({("t", 0): Fault(Kind.CUT_FRAMED, fraction=0.5)})) as proxy,
        httpx2.Client() as client,
    ):
        cut = client.get(f"{proxy.url}/x", headers=tagged("t"))
        whole = client.get(f"{proxy.url}/x", headers=tagged("t"))
        assert proxy.connections == 1
    assert cut.status_code == 200
    assert 0 < len(cut.content) < len(whole.content)
    assert int(cut.headers["content-length"]) == len(cut.content)
    with pytest.raises(ValueError, match=r"Unterminated|Expecting|Extra"):
        json.loads(cut.content)
    assert len(upstream.seen) == 2


def test_a_framed_cut_of_an_empty_body_loses_the_answer_instead(upstream: Upstream) -> None:
    with (
        FaultProxy(upstream.url, scripted({("t", 0): Fault(Kind.CUT_FRAMED)})) as proxy,
        httpx2.Client() as client,
    ):
        with pytest.raises(httpx2.TransportError):
            client.delete(f"{proxy.url}/empty", headers=tagged("t"))
        assert proxy.injected == {Kind.RESET_AFTER: 1}
    assert len(upstream.seen) == 1


@pytest.mark.parametrize(("path", "fraction"), [("/x", 0.0), ("/x", 0.7), ("/empty", 0.5)])
def test_an_unframed_cut_ends_the_connection_mid_message(upstream: Upstream, path: str, fraction: float) -> None:
    fault = Fault(Kind.CUT_UNFRAMED, fraction=fraction)
    with (
        FaultProxy(upstream.url, scripted({("t", 0): fault})) as proxy,
        httpx2.Client() as client,
        pytest.raises(httpx2.RemoteProtocolError),
    ):
        client.get(f"{proxy.url}{path}", headers=tagged("t"))
    assert len(upstream.seen) == 1


def test_a_drip_delivers_the_whole_response_in_many_small_pieces(upstream: Upstream) -> None:
    with (
        FaultProxy(upstream.url, scripted({("", 0): Fault(Kind.DRIP)}), drip_seconds=0.3) as proxy,
        socket.create_connection(("127.0.0.1", proxy.port)) as sock,
    ):
        sock.sendall(b"GET /dripped HTTP/1.1\r\nHost: x\r\n\r\n")
        pieces = []
        while piece := sock.recv(65536):
            pieces.append(piece)
    data = b"".join(pieces)
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.")
    assert json.loads(body)["path"] == "/dripped"
    assert len(pieces) > 10
    assert proxy.injected == {Kind.DRIP: 1}
    assert proxy.drips_abandoned == 0


def test_a_drip_stops_when_its_client_gives_up(upstream: Upstream) -> None:
    with FaultProxy(upstream.url, scripted({("", 0): Fault(Kind.DRIP)}), drip_seconds=20) as proxy:
        with socket.create_connection(("127.0.0.1", proxy.port)) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert sock.recv(65536)
        waited = 0
        while proxy.drips_abandoned == 0 and waited < 1000:
            time.sleep(0.01)
            waited += 1
        assert proxy.drips_abandoned == 1


@pytest.mark.parametrize(
    ("fault", "status", "retry_after"),
    [
        (Fault(Kind.RATE_LIMITED, retry_after=2), 429, "2"),
        (Fault(Kind.RATE_LIMITED_OVER_CAP, retry_after=90), 429, "90"),
        (Fault(Kind.UNAVAILABLE, retry_after=1), 503, "1"),
        (Fault(Kind.UNAVAILABLE), 503, None),
        (Fault(Kind.UNAUTHORIZED), 401, None),
    ],
)
def test_it_answers_itself_without_reaching_the_server(
    upstream: Upstream, fault: Fault, status: int, retry_after: str | None
) -> None:
    with FaultProxy(upstream.url, scripted({("t", 1): fault})) as proxy, httpx2.Client() as client:
        first = client.post(f"{proxy.url}/w", content=b"{}", headers=tagged("t"))
        second = client.post(f"{proxy.url}/w", content=b"{}", headers=tagged("t"))
        third = client.post(f"{proxy.url}/w", content=b"{}", headers=tagged("t"))
        assert proxy.connections == 1, "the connection is kept"
    assert (first.status_code, second.status_code, third.status_code) == (200, status, 200)
    assert second.headers.get("retry-after") == retry_after
    assert second.headers["content-type"] == "application/problem+json"
    assert second.json()["status"] == status
    assert len(upstream.seen) == 2


def test_seeded_faults_are_the_same_for_the_same_seed_tag_and_count() -> None:
    policy = SeededFaults(seed=11, rate=0.5)
    requests = [Seen(f"call-{i}", n, "POST", "/") for i in range(200) for n in range(3)]
    drawn = [policy(seen) for seen in requests]
    assert drawn == [SeededFaults(seed=11, rate=0.5)(seen) for seen in reversed(requests)][::-1]
    assert drawn != [SeededFaults(seed=12, rate=0.5)(seen) for seen in requests]
    kinds = {fault.kind for fault in drawn if fault is not None}
    assert kinds == set(DEFAULT_WEIGHTS), "every kind is drawn"


def test_seeded_faults_keep_401_for_the_middle_of_a_call_and_end_after_a_while() -> None:
    policy = SeededFaults(seed=3, rate=1.0, faulted_requests=4)
    firsts = [policy(Seen(f"c{i}", 0, "GET", "/")) for i in range(500)]
    assert all(fault is not None and fault.kind is not Kind.UNAUTHORIZED for fault in firsts)
    later = [policy(Seen(f"c{i}", 1, "GET", "/")) for i in range(500)]
    assert any(fault is not None and fault.kind is Kind.UNAUTHORIZED for fault in later)
    assert all(policy(Seen(f"c{i}", 4, "GET", "/")) is None for i in range(100))
    assert all(SeededFaults(seed=3, rate=0.0)(Seen(f"c{i}", 0, "GET", "/")) is None for i in range(100))


def test_seeded_429s_are_short_or_over_the_cap() -> None:
    policy = SeededFaults(seed=5, rate=1.0)
    faults = [policy(Seen(f"c{i}", 1, "GET", "/")) for i in range(2000)]
    short = {f.retry_after for f in faults if f is not None and f.kind is Kind.RATE_LIMITED}
    long = {f.retry_after for f in faults if f is not None and f.kind is Kind.RATE_LIMITED_OVER_CAP}
    assert short <= {1, 2, 3}
    assert long
    assert all(r is not None and r > 60 for r in long)
