"""`make check-mock`: a Prism mock of openapi.yaml serves answers in which pyclann accepts every field.

Prism (scripts/prism/, installed there by `make check-mock`) is started on
127.0.0.1 and asked for every operation's success, both as its static mock
(the schemas' examples) and as its dynamic one (`Prefer: dynamic=true`: random
values from the schemas, many times over). Each answer is read by pyclann's one
decode path (`pyclann._parse`), as the client reads it:

* a static answer whole, as the client reads the answer to that request (the
  examples are one session and one of its messages, and writes send them);
* a dynamic answer field by field. Random records cannot keep the rules that
  span a request and its answer or several records, which JSON Schema cannot
  state (a page's records belong to the session asked for; `last_id` is the
  last record's ID; a write's answer holds what it sent), so the check reads
  records without those, and sets `last_id` from the page itself; every other
  field is read as generated.

Exits 1, naming the operation, the mode and pyclann's words, if any answer is refused.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2
import msgspec

from pyclann import _parse
from pyclann.models import ChatMessage, ChatSession

ROOT = Path(__file__).resolve().parent.parent
SESSION = "01JDXV3C5Z0K8Y8T6W3M2Q9R4N"  # the ULID of openapi.yaml's SessionId example
MESSAGE = "01JDXV4F7B1M9Z2X5C8V0N3K6H"  # and of its MessageId example
SESSIONS = "/api/chat/sessions"
STATIC = {"Authorization": "Bearer mock-token"}
DYNAMIC = {**STATIC, "Prefer": "dynamic=true"}
# Writes send the spec's examples, which the static mock answers with: the client checks that a
# write's answer holds what it sent, and a mock cannot echo a request.
NEW_SESSION: dict[str, str | None] = {"title": "Trip to Lisbon", "created_by": "alice", "tree": "travel"}
RENAME: dict[str, str | None] = {"title": "Trip to Lisbon"}
NEW_MESSAGE: dict[str, str | None] = {"role": "user", "content": "Which neighbourhood should we stay in?"}
Reader = Callable[[bytes], object]


def _dynamic_page(body: bytes) -> object:
    """A dynamic page of messages, its `last_id` set to its last record's ID first."""
    page = msgspec.json.decode(body)
    if isinstance(page, dict) and isinstance(page.get("data"), list) and page["data"]:
        last = page["data"][-1]
        page["last_id"] = last.get("id") if isinstance(last, dict) else None
    return _parse.message_page(msgspec.json.encode(page))


# (operation, method, path, JSON body, the static reader, the dynamic reader)
CALLS: list[tuple[str, str, str, Any, Reader, Reader]] = [
    (
        "list_sessions",
        "GET",
        f"{SESSIONS}?created_by=alice",
        None,
        _parse.SessionWalk("alice", None).page,
        _parse.session_page,
    ),
    (
        "create_session",
        "POST",
        SESSIONS,
        NEW_SESSION,
        _parse.NewSession(NEW_SESSION).read,
        lambda body: _parse.record(ChatSession, body),
    ),
    (
        "get_session",
        "GET",
        f"{SESSIONS}/{SESSION}",
        None,
        _parse.TheSession(SESSION).read,
        lambda body: _parse.record(ChatSession, body),
    ),
    (
        "update_session",
        "PATCH",
        f"{SESSIONS}/{SESSION}",
        RENAME,
        _parse.TheSession(SESSION, RENAME).read,
        lambda body: _parse.record(ChatSession, body),
    ),
    (
        "list_messages",
        "GET",
        f"{SESSIONS}/{SESSION}/messages",
        None,
        lambda body: _parse.MessageWalk(SESSION, None).read(body),
        _dynamic_page,
    ),
    (
        "append_message",
        "POST",
        f"{SESSIONS}/{SESSION}/messages",
        NEW_MESSAGE,
        _parse.TheMessage(SESSION, None, NEW_MESSAGE).read,
        lambda body: _parse.record(ChatMessage, body),
    ),
    (
        "get_message",
        "GET",
        f"{SESSIONS}/{SESSION}/messages/{MESSAGE}",
        None,
        _parse.TheMessage(SESSION, MESSAGE).read,
        lambda body: _parse.record(ChatMessage, body),
    ),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(process: subprocess.Popen[bytes], url: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise SystemExit(f"prism exited with status {process.returncode} before it listened")
        try:
            httpx2.get(f"{url}{SESSIONS}/{SESSION}", headers=STATIC, timeout=1)
            return
        except httpx2.TransportError:
            if time.monotonic() > deadline:
                raise SystemExit("prism did not listen within 60 s") from None
            time.sleep(0.2)


def check(url: str, samples: int) -> list[str]:
    """What pyclann refused of each operation's answers, static once and dynamic `samples` times."""
    refused: list[str] = []
    with httpx2.Client(base_url=url, timeout=30) as client:
        for operation, method, path, body, static, dynamic in CALLS:
            for mode, headers, reader, times in (("static", STATIC, static, 1), ("dynamic", DYNAMIC, dynamic, samples)):
                for _ in range(times):
                    response = client.request(method, path, json=body, headers=headers)
                    if not response.is_success:
                        refused.append(f"{operation} ({mode}): {response.status_code} {response.text[:200]}")
                        break
                    try:
                        reader(response.content)
                    except (_parse.FieldError, ValueError) as error:
                        refused.append(f"{operation} ({mode}): {error}")
                        break
    return refused


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--prism", required=True, help="the prism executable")
    parser.add_argument("--samples", type=int, default=50, help="dynamic answers read per operation")
    args = parser.parse_args()
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    command = [args.prism, "mock", "--host", "127.0.0.1", "--port", str(port), str(ROOT / "openapi.yaml")]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(process, url)
        listening = time.perf_counter() - started
        refused = check(url, args.samples)
    finally:
        process.terminate()
        process.wait(30)
    took = time.perf_counter() - started
    answers = len(CALLS) * (1 + args.samples)
    print(f"prism listened after {listening:.1f} s; {answers} answers of {len(CALLS)} operations read in {took:.1f} s")
    for line in refused:
        print(f"refused: {line}", file=sys.stderr)
    if refused:
        return 1
    print("pyclann accepts every field of every answer of the mock (static and dynamic)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
