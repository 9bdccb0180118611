"""Per-call cost over httpx.MockTransport, and parsing a 10,000-message listing."""

from __future__ import annotations

import gc
import json
import tracemalloc
from typing import Any

import httpx

from bench.measure import Figure, interleaved
from pyclann import ChatClient
from pyclann import _transport as ops

BASE = "http://clann.bench"
TOKEN = "bench-token"
ULID = "01JDXV3C5Z0K8Y8T6W3M2Q9R4N"
SESSION = {
    "id": f"chat_session:{ULID}",
    "title": "Planning",
    "created_by": "alice",
    "tree": "oak",
    "created_at": "2026-11-26T09:00:00.000001Z",
    "updated_at": "2026-11-26T09:05:00.000001Z",
}


def message(i: int) -> dict[str, Any]:
    return {
        "id": f"chat_message:01JDXV3C5Z0K8Y8T6W3M{i:06d}",
        "session": f"chat_session:{ULID}",
        "role": "user" if i % 2 else "assistant",
        "content": f"message number {i}: " + "lorem ipsum dolor sit amet " * 3,
        "created_at": f"2026-11-26T09:{i // 6000 % 60:02d}:{i // 100 % 60:02d}.{i:06d}Z",
    }


def _client(body: bytes, status: int) -> httpx.Client:
    headers = {"Content-Type": "application/json", "X-Request-Id": "r"}
    return httpx.Client(
        transport=httpx.MockTransport(lambda request: httpx.Response(status, headers=headers, content=body))
    )


def per_call(repeats: int, inner: int) -> list[Figure]:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    path = f"{BASE}/api/chat/sessions"
    cases: list[tuple[str, int, Any, Any, Any]] = [
        # name, status, body, pyclann call, the raw httpx request of the same call
        (
            "list_sessions",
            200,
            [SESSION] * 3,
            lambda c: c.list_sessions("alice", tree="oak"),
            lambda h: h.get(path, params={"created_by": "alice", "tree": "oak"}, headers=auth),
        ),
        (
            "create_session",
            201,
            SESSION,
            lambda c: c.create_session("Planning", "alice", tree="oak"),
            lambda h: h.post(path, json={"title": "Planning", "created_by": "alice", "tree": "oak"}, headers=auth),
        ),
        (
            "delete_session",
            204,
            None,
            lambda c: c.delete_session(f"chat_session:{ULID}"),
            lambda h: h.delete(f"{path}/{ULID}", headers=auth),
        ),
        (
            "list_messages",
            200,
            [message(i) for i in range(3)],
            lambda c: c.list_messages(f"chat_session:{ULID}"),
            lambda h: h.get(f"{path}/{ULID}/messages", headers=auth),
        ),
        (
            "append_message",
            201,
            message(1),
            lambda c: c.append_message(f"chat_session:{ULID}", "user", "Hello there"),
            lambda h: h.post(f"{path}/{ULID}/messages", json={"role": "user", "content": "Hello there"}, headers=auth),
        ),
    ]
    figures = []
    for name, status, body, ours, raw in cases:
        content = b"" if body is None else json.dumps(body).encode()
        client = ChatClient(BASE, token=TOKEN, http_client=_client(content, status))
        http = _client(content, status)

        def baseline(http: httpx.Client = http, raw: Any = raw) -> None:
            response = raw(http)
            if response.content:
                json.loads(response.content)

        target, base = interleaved(lambda client=client, ours=ours: ours(client), baseline, repeats, inner)
        figures.append(
            Figure(f"{name} (MockTransport)", "us", 1e6, target, base, "raw httpx + json.loads", "<= 1.3x", 1.3)
        )
    return figures


def big_listing(repeats: int) -> list[Figure]:
    body = json.dumps([message(i) for i in range(10_000)]).encode()
    client = ChatClient(BASE, token=TOKEN, http_client=_client(body, 200))
    response = _client(body, 200).get(f"{BASE}/x")
    operation = ops.list_messages(ULID)

    def ours() -> object:
        return ops.read_response(operation, response)

    def theirs() -> object:
        return json.loads(response.content)

    assert len(client.list_messages(ULID)) == 10_000
    target, base = interleaved(ours, theirs, repeats, 1)
    parse = Figure("list_messages of 10,000 messages: parsing", "ms", 1e3, target, base, "json.loads", "<= 3x", 3.0)
    peak = Figure(
        "  peak memory while parsing it", "MB", 1e-6, [_peak(ours)], [_peak(theirs)], "json.loads", "report", None
    )
    kept = Figure("  memory its result keeps", "MB", 1e-6, [_kept(ours)], [_kept(theirs)], "json.loads", "report", None)
    return [parse, peak, kept]


def _peak(function: Any) -> float:
    return _traced(function)[1]


def _kept(function: Any) -> float:
    return _traced(function)[0]


def _traced(function: Any) -> tuple[float, float]:
    """Bytes still held by the result, and the peak while making it."""
    gc.collect()
    tracemalloc.start()
    result = function()
    kept, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del result
    return float(kept), float(peak)
