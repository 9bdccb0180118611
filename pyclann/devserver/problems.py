"""Problems: the errors a request can meet, as RFC 9457 problem+json documents.

Each kind of problem has its own `type` URI and status, from the table in
openapi.yaml's description. Code anywhere in the server raises a `Problem`;
the app renders it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "tag:clann.dev,2026:problem/"
_MAX_ECHO = 60

# The kinds of openapi.yaml's problem table, with the status each is answered with.
KINDS: dict[str, int] = {
    "malformed-request": 400,
    "invalid-parameter": 400,
    "unauthenticated": 401,
    "forbidden": 403,
    "not-found": 404,
    "method-not-allowed": 405,
    "request-timeout": 408,
    "idempotency-in-flight": 409,
    "replay-purged": 410,
    "body-too-large": 413,
    "uri-too-long": 414,
    "validation-failed": 422,
    "idempotency-key-reused": 422,
    "rate-limited": 429,
    "headers-too-large": 431,
    "internal": 500,
    "unavailable": 503,
}


@dataclass
class Problem(Exception):
    """An error response: raised anywhere while a request is handled, rendered as problem+json.

    Attributes:
        kind: A key of `KINDS`; it sets the `type` and the status.
        detail: What was wrong with this request, in words.
        errors: For `validation-failed`, the offending fields as `{field, message}`.
        headers: Extra response headers, such as `Allow` or `WWW-Authenticate`.
    """

    kind: str
    detail: str
    errors: list[dict[str, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown problem kind {self.kind!r}")

    @property
    def status(self) -> int:
        return KINDS[self.kind]

    def document(self, request_id: str) -> dict[str, Any]:
        """The problem+json document for this problem, as answered to request `request_id`."""
        document: dict[str, Any] = {
            "type": TYPE_PREFIX + self.kind,
            "title": HTTPStatus(self.status).phrase,
            "status": self.status,
            "detail": self.detail,
            "request_id": request_id,
        }
        if self.errors:
            document["errors"] = self.errors
        return document

    def body(self, request_id: str) -> bytes:
        return json.dumps(self.document(request_id), ensure_ascii=False).encode()


def invalid_fields(errors: list[dict[str, str]], more: int = 0) -> Problem:
    """A 422 `validation-failed` whose detail names each field and what was wrong with it.

    Args:
        errors: The offending fields as `{field, message}`, as many as the answer should name.
        more: How many more fields were wrong, counted in the detail but not named.
    """
    detail = "; ".join(f"{_printable(e['field'])}: {e['message']}" for e in errors)
    if more:
        detail += f"; and {more} more field{'s' if more != 1 else ''}"
    return Problem("validation-failed", detail, errors)


def _printable(name: str) -> str:
    # A field's name is the client's: echoed if it holds a line break or another control character.
    return name if name.isprintable() else echo(name)


def echo(value: object) -> str:
    """A bounded, printable rendering of a client's value for an error message.

    `repr` escapes newlines and control characters, so an echoed value cannot
    forge a line in a log or break a message apart.
    """
    text = repr(value)
    return text if len(text) <= _MAX_ECHO else text[: _MAX_ECHO - 3] + "..."


def some(values: list[str], most: int = 10) -> str:
    """The first `most` of `values`, each echoed, and how many more there are: a bounded list for a message."""
    shown = ", ".join(map(echo, values[:most]))
    return shown + (f" and {len(values) - most} more" if len(values) > most else "")
