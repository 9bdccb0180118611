"""Helpers for the dev server's tests: its users, and ways to drive the app and read its database."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

ALICE = {"Authorization": "Bearer token-a"}
BOB = {"Authorization": "Bearer token-b"}
TOKENS = {"token-a": "alice", "token-b": "bob"}
SESSIONS = "/api/chat/sessions"


def new_session(http: TestClient, title: str = "T", tree: str | None = None, headers: dict[str, str] = ALICE) -> str:
    """Create a session of the headers' user; its bare ULID."""
    owner = "alice" if headers is ALICE else "bob"
    response = http.post(SESSIONS, json={"title": title, "created_by": owner, "tree": tree}, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"]).split(":")[1]


def append(http: TestClient, session: str, content: str = "x", role: str = "user") -> dict[str, Any]:
    # Encoded here, as pyclann encodes it (non-ASCII unescaped): httpx before 0.28 escapes it, 12 bytes an emoji.
    body = json.dumps({"role": role, "content": content}, ensure_ascii=False).encode()
    headers = {**ALICE, "Content-Type": "application/json"}
    response = http.post(f"{SESSIONS}/{session}/messages", content=body, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def rows(db: Path, query: str) -> list[tuple[Any, ...]]:
    """Rows of a query against the database, read on a connection of its own."""
    connection = sqlite3.connect(db)
    try:
        return connection.execute(query).fetchall()
    finally:
        connection.close()


def count_rows(db: Path) -> tuple[int, int]:
    """How many sessions and messages the database holds."""
    return rows(db, "SELECT (SELECT count(*) FROM chat_session), (SELECT count(*) FROM chat_message)")[0]


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def call_asgi(
    app: Any, method: str, raw_path: str, query: bytes = b"", headers: dict[str, str] | None = None
) -> Answer:
    """One request straight into the ASGI app, for what an HTTP client would refuse to send (a 100 KB URL)."""
    scope = {
        "type": "http",
        "method": method,
        "path": raw_path,
        "raw_path": raw_path.encode(),
        "query_string": query,
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or ALICE).items()],
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start, body = sent
    headers_out = {k.decode(): v.decode() for k, v in start["headers"]}
    return Answer(start["status"], headers_out, body["body"])
