"""Responses as the app builds, checks and sends them: a status, headers and a body of bytes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from .problems import PROBLEM_JSON, Problem

JSON = "application/json"
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


@dataclass
class Reply:
    """One response.

    Attributes:
        status: The HTTP status.
        body: The body, as sent.
        headers: The headers by lower-case name, `content-type` included.
        checked: Whether it was already checked against the contract (a new write's
            answer is, inside the write's transaction).
    """

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    checked: bool = False


def reply(status: int, body: bytes, request_id: str, *, location: str | None = None, replayed: bool = False) -> Reply:
    """A JSON answer (or an empty one, for no body) to request `request_id`."""
    headers = {"x-request-id": request_id}
    if body:
        headers["content-type"] = JSON
    if location is not None:
        headers["location"] = location
    if replayed:
        headers["idempotent-replayed"] = "true"
    return Reply(status, body, headers)


def problem_reply(problem: Problem, request_id: str) -> Reply:
    headers = {name.lower(): value for name, value in problem.headers.items()}
    headers |= {"x-request-id": request_id, "content-type": PROBLEM_JSON}
    return Reply(problem.status, problem.body(request_id), headers)


async def send_reply(answer: Reply, send: Send) -> None:
    headers = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in answer.headers.items()]
    # RFC 9110 (8.6): a server MUST NOT send Content-Length in a 204, which has no content to measure.
    if answer.status != 204:
        headers.append((b"content-length", str(len(answer.body)).encode()))
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body})
