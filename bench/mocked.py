"""Per-call cost over httpx2.MockTransport, a paged walk, and parsing a 10,000-message listing.

The baseline of each method is raw httpx2 sending the same request through the
same MockTransport, and `json.loads` of the answer: the floor of a call. The
same request means the same bytes on the wire: method, URL, query, body and
headers (pyclann's User-Agent, Accept and Accept-Encoding, the token, and on
writes a new Idempotency-Key, a UUID as pyclann makes), which `per_call`
checks before it measures.
"""

from __future__ import annotations

import gc
import json
import tracemalloc
import uuid
from collections.abc import Callable
from typing import Any

import httpx2

import pyclann
from bench.measure import Figure, interleaved
from pyclann import ChatClient, _parse

BASE = "http://clann.bench"
TOKEN = "bench-token"
ULID = "01JDXV3C5Z0K8Y8T6W3M2Q9R4N"
SESSION_ID = f"chat_session:{ULID}"
MESSAGE_ULID = "01JDXV3C5Z0K8Y8T6W3M000001"  # message(1)'s
SESSIONS = f"{BASE}/api/chat/sessions"
MESSAGES = f"{SESSIONS}/{ULID}/messages"
# The headers pyclann sends with every request, for a user's httpx2.Client (its User-Agent, then pyclann's).
AUTH = {
    "User-Agent": f"python-httpx2/{httpx2.__version__} pyclann/{pyclann.__version__}",
    "Accept": "application/json",
    "Accept-Encoding": "gzip, deflate",
    "Authorization": f"Bearer {TOKEN}",
}


def key() -> dict[str, str]:
    """The headers of a write: each write has a key of its own, or the server would replay the first."""
    return {**AUTH, "Idempotency-Key": str(uuid.uuid4())}


PER_CALL_GOAL = 1.2  # issue 19
WALK_GOAL = 1.0  # issue 20
PARSE_GOAL = 1.0  # issue 20

SESSION = {
    "id": SESSION_ID,
    "title": "Planning",
    "created_by": "alice",
    "tree": "oak",
    "created_at": "2026-11-26T09:00:00.000001Z",
    "updated_at": "2026-11-26T09:05:00.000001Z",
}


def session(i: int) -> dict[str, Any]:
    """The i-th session of a listing: most recently updated first, as a server lists them."""
    return {
        **SESSION,
        "id": f"chat_session:01JDXV3C5Z0K8Y8T6W3M{i:06d}",
        "updated_at": f"2026-11-26T09:05:{59 - i:02d}Z",
    }


def message(i: int) -> dict[str, Any]:
    return {
        "id": f"chat_message:01JDXV3C5Z0K8Y8T6W3M{i:06d}",
        "session": SESSION_ID,
        "role": "user" if i % 2 else "assistant",
        "content": f"message number {i}: " + "lorem ipsum dolor sit amet " * 3,
        "created_at": f"2026-11-26T09:{i // 6000 % 60:02d}:{i // 100 % 60:02d}.{i:06d}Z",
    }


def session_page(sessions: list[dict[str, Any]]) -> dict[str, Any]:
    return {"data": sessions, "has_more": False, "next_cursor": None}


def message_page(messages: list[dict[str, Any]], has_more: bool = False) -> dict[str, Any]:
    return {
        "data": messages,
        "has_more": has_more,
        "first_id": messages[0]["id"] if messages else None,
        "last_id": messages[-1]["id"] if messages else None,
    }


def _http(answer: Callable[[httpx2.Request], tuple[int, bytes]]) -> httpx2.Client:
    """An httpx2 client over a MockTransport answering with `answer`'s status and JSON bytes."""
    json_headers = {"Content-Type": "application/json", "X-Request-Id": "r"}

    def handle(request: httpx2.Request) -> httpx2.Response:
        status, body = answer(request)
        return httpx2.Response(status, headers=json_headers if body else {"X-Request-Id": "r"}, content=body)

    return httpx2.Client(transport=httpx2.MockTransport(handle))


def _always(
    status: int, body: bytes, sent: list[httpx2.Request] | None = None
) -> Callable[[httpx2.Request], tuple[int, bytes]]:
    """Answer every request with `status` and `body`; while `sent` is not full, keep the requests in it."""

    def answer(request: httpx2.Request) -> tuple[int, bytes]:
        if sent is not None and len(sent) < 2:
            sent.append(request)
        return status, body

    return answer


def _same_request(name: str, ours: httpx2.Request, theirs: httpx2.Request) -> None:
    def wire(request: httpx2.Request) -> tuple[object, ...]:
        headers = sorted((k, "<key>" if k == "idempotency-key" else v) for k, v in request.headers.items())
        return request.method, str(request.url), request.content, headers

    if wire(ours) != wire(theirs):
        raise AssertionError(f"{name}: the baseline sends another request:\n{wire(ours)}\n{wire(theirs)}")


# name: the success status, its body, the pyclann call, the raw httpx2 request of the same call.
CASES: list[tuple[str, int, Any, Callable[[ChatClient], object], Callable[[httpx2.Client], httpx2.Response]]] = [
    (
        "list_sessions",
        200,
        session_page([session(i) for i in range(3)]),
        lambda c: c.list_sessions("alice", tree="oak"),
        lambda h: h.get(SESSIONS, params={"created_by": "alice", "tree": "oak", "limit": 100}, headers=AUTH),
    ),
    (
        "iter_sessions",
        200,
        session_page([session(i) for i in range(3)]),
        lambda c: list(c.iter_sessions("alice", tree="oak")),
        lambda h: h.get(SESSIONS, params={"created_by": "alice", "tree": "oak", "limit": 100}, headers=AUTH),
    ),
    (
        "create_session",
        201,
        SESSION,
        lambda c: c.create_session("Planning", "alice", tree="oak"),
        lambda h: h.post(SESSIONS, json={"title": "Planning", "created_by": "alice", "tree": "oak"}, headers=key()),
    ),
    (
        "get_session",
        200,
        SESSION,
        lambda c: c.get_session(SESSION_ID),
        lambda h: h.get(f"{SESSIONS}/{ULID}", headers=AUTH),
    ),
    (
        "update_session",
        200,
        SESSION,
        lambda c: c.update_session(SESSION_ID, title="Planning"),
        lambda h: h.patch(f"{SESSIONS}/{ULID}", json={"title": "Planning"}, headers=key()),
    ),
    (
        "delete_session",
        204,
        None,
        lambda c: c.delete_session(SESSION_ID),
        lambda h: h.delete(f"{SESSIONS}/{ULID}", headers=key()),
    ),
    (
        "list_messages",
        200,
        message_page([message(i) for i in range(3)]),
        lambda c: c.list_messages(SESSION_ID),
        lambda h: h.get(MESSAGES, params={"limit": 100}, headers=AUTH),
    ),
    (
        "iter_messages",
        200,
        message_page([message(i) for i in range(3)]),
        lambda c: list(c.iter_messages(SESSION_ID)),
        lambda h: h.get(MESSAGES, params={"limit": 100}, headers=AUTH),
    ),
    (
        "append_message",
        201,
        {**message(1), "content": "Hello there"},  # the answer holds what was sent, as pyclann checks
        lambda c: c.append_message(SESSION_ID, "user", "Hello there"),
        lambda h: h.post(MESSAGES, json={"role": "user", "content": "Hello there"}, headers=key()),
    ),
    (
        "get_message",
        200,
        message(1),
        lambda c: c.get_message(SESSION_ID, f"chat_message:{MESSAGE_ULID}"),
        lambda h: h.get(f"{MESSAGES}/{MESSAGE_ULID}", headers=AUTH),
    ),
]


def per_call(repeats: int, inner: int) -> list[Figure]:
    """Each of the ten methods against raw httpx2 + json.loads, one figure each."""
    figures = []
    for name, status, body, ours, raw in CASES:
        content = b"" if body is None else json.dumps(body).encode()
        sent: list[httpx2.Request] = []
        client = ChatClient(BASE, token=TOKEN, http_client=_http(_always(status, content, sent)))
        http = _http(_always(status, content, sent))

        def target(client: ChatClient = client, ours: Callable[[ChatClient], object] = ours) -> object:
            return ours(client)

        def baseline(http: httpx2.Client = http, raw: Callable[[httpx2.Client], httpx2.Response] = raw) -> object:
            response = raw(http)
            response.raise_for_status()
            return json.loads(response.content) if response.content else None

        target()  # a warm-up call each, which also proves that both send the same request
        baseline()
        _same_request(name, *sent)
        sent.clear()
        mine, theirs = interleaved(target, baseline, repeats, inner)
        figures.append(
            Figure(
                f"{name} (MockTransport)",
                "us",
                1e6,
                mine,
                theirs,
                "raw httpx2 + json.loads",
                f"<= {PER_CALL_GOAL}x",
                PER_CALL_GOAL,
            )
        )
    return figures


def paged_walk(repeats: int) -> Figure:
    """list_messages walking 10,000 messages in 100 pages, against a raw httpx2 loop over the same pages."""
    messages = [message(i) for i in range(10_000)]
    pages: dict[str | None, bytes] = {}
    for start in range(0, len(messages), 100):
        chunk = messages[start : start + 100]
        after = None if start == 0 else messages[start - 1]["id"].split(":")[1]
        pages[after] = json.dumps(message_page(chunk, has_more=start + 100 < len(messages))).encode()

    def answer(request: httpx2.Request) -> tuple[int, bytes]:
        return 200, pages[request.url.params.get("after")]

    client = ChatClient(BASE, token=TOKEN, http_client=_http(answer))
    http = _http(answer)

    def ours() -> object:
        return client.list_messages(SESSION_ID)

    def theirs() -> object:
        found: list[Any] = []
        params: dict[str, str | int] = {"limit": 100}
        while True:
            response = http.get(MESSAGES, params=params, headers=AUTH)
            response.raise_for_status()
            page = json.loads(response.content)
            found += page["data"]
            if not page["has_more"]:
                return found
            params = {"limit": 100, "after": page["last_id"].split(":")[1]}

    assert len(ours()) == len(theirs()) == 10_000  # type: ignore[arg-type]
    mine, base = interleaved(ours, theirs, repeats, 1)
    return Figure(
        "list_messages: 10,000 messages in 100 pages (MockTransport)",
        "ms",
        1e3,
        mine,
        base,
        "a raw httpx2 loop + json.loads",
        f"<= {WALK_GOAL}x",
        WALK_GOAL,
    )


def big_listing(repeats: int) -> list[Figure]:
    """Reading one page of 10,000 messages against json.loads of the same bytes; the memory either keeps."""
    body = json.dumps(message_page([message(i) for i in range(10_000)])).encode()

    def ours() -> object:  # as a walk reads a page: from its bytes, decoded by msgspec, every check on
        return _parse.message_page(body, SESSION_ID)

    def theirs() -> object:
        return json.loads(body)

    mine, base = interleaved(ours, theirs, repeats, 1)
    parse = Figure(
        "a page of 10,000 messages: its bytes to records",
        "ms",
        1e3,
        mine,
        base,
        "json.loads",
        f"<= {PARSE_GOAL}x",
        PARSE_GOAL,
    )
    peak = Figure(
        "  peak memory while parsing it", "MB", 1e-6, [_peak(ours)], [_peak(theirs)], "json.loads", "report", None
    )
    kept = Figure("  memory its result keeps", "MB", 1e-6, [_kept(ours)], [_kept(theirs)], "json.loads", "<= 1x", 1.0)
    return [parse, peak, kept]


def _peak(function: Callable[[], object]) -> float:
    return _traced(function)[1]


def _kept(function: Callable[[], object]) -> float:
    return _traced(function)[0]


def _traced(function: Callable[[], object]) -> tuple[float, float]:
    """Bytes still held by the result, and the peak while making it."""
    gc.collect()
    tracemalloc.start()
    result = function()
    kept, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del result
    return float(kept), float(peak)
