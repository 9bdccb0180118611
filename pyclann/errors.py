"""Every error pyclann raises, and the one table that maps status codes to them.

    ClannError
    ├── ClannConfigError             bad base URL or token (a ValueError)
    ├── ClannInvalidIdError          bad record ID, no request sent (a ValueError)
    ├── ClannConnectionError         no response
    │   └── ClannTimeoutError        no response in time
    └── ClannAPIError                a response, with any status:
        ├── ClannBadRequestError     400
        ├── ClannAuthError           401
        ├── ClannPermissionError     403
        ├── ClannNotFoundError       404
        ├── ClannConflictError       409
        ├── ClannUnprocessableError  422, with the fields
        ├── ClannRateLimitError      429, with Retry-After
        ├── ClannServerError         5xx
        └── ClannResponseError       2xx, body not readable

A `ClannAPIError` of no subclass stands for a status the contract does not
document (a 405 or a 418 from a proxy, say). The class is always chosen by the
status code alone; the body only supplies the detail.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

__all__ = [
    "ClannAPIError",
    "ClannAuthError",
    "ClannBadRequestError",
    "ClannConfigError",
    "ClannConflictError",
    "ClannConnectionError",
    "ClannError",
    "ClannInvalidIdError",
    "ClannNotFoundError",
    "ClannPermissionError",
    "ClannRateLimitError",
    "ClannResponseError",
    "ClannServerError",
    "ClannTimeoutError",
    "ClannUnprocessableError",
]

_MAX_DETAIL = 300


class ClannError(Exception):
    """The root of every error pyclann raises."""


class ClannConfigError(ClannError, ValueError):
    """The client's configuration (base URL, token) is missing or not valid."""


class ClannInvalidIdError(ClannError, ValueError):
    """A value that is not a record ID of the expected table; no request was sent."""


class ClannConnectionError(ClannError):
    """The request did not get a response: the connection failed or was cut."""


class ClannTimeoutError(ClannConnectionError):
    """The server did not answer within the client's timeout."""


class ClannAPIError(ClannError):
    """The server answered with an error, or with a body the client cannot read.

    Attributes:
        status_code (int): The HTTP status code.
        detail (str): The problem's `detail`, or a description of what was wrong.
        request_id (str | None): The server's `X-Request-Id`, if it sent one.
        body (str): The raw response body, as text.
        problem (dict[str, Any] | None): The parsed RFC 9457 problem document, if there was one.
    """

    def __init__(
        self,
        status_code: int,
        detail: str,
        *,
        request_id: str | None = None,
        body: str = "",
        problem: dict[str, Any] | None = None,
    ) -> None:
        self.status_code = status_code
        self.detail = detail
        self.request_id = request_id
        self.body = body
        self.problem = problem
        super().__init__(str(self))

    def __str__(self) -> str:
        try:
            phrase = HTTPStatus(self.status_code).phrase
        except ValueError:
            phrase = "Unknown Status"
        request = f" (request id {self.request_id})" if self.request_id else ""
        return f"{self.status_code} {phrase}: {self.detail}{request}"

    def __reduce__(self) -> tuple[Any, ...]:
        kwargs = {"request_id": self.request_id, "body": self.body, "problem": self.problem}
        return (_rebuild, (type(self), self.status_code, self.detail, kwargs))


def _rebuild(cls: type[ClannAPIError], status: int, detail: str, kwargs: dict[str, Any]) -> ClannAPIError:
    return cls(status, detail, **kwargs)


class ClannBadRequestError(ClannAPIError):
    """400: the request was not well formed."""


class ClannAuthError(ClannAPIError):
    """401: the bearer token is missing or not valid."""


class ClannPermissionError(ClannAPIError):
    """403: the token may not act for that user."""


class ClannNotFoundError(ClannAPIError):
    """404: no such session, or not one of yours."""


class ClannConflictError(ClannAPIError):
    """409: the idempotency key was already used with another request."""


class ClannUnprocessableError(ClannAPIError):
    """422: the request was well formed, but some fields were not valid.

    Attributes:
        errors (list[dict[str, str]]): One `{"field": ..., "message": ...}` per offending field.
    """

    @property
    def errors(self) -> list[dict[str, str]]:
        found = (self.problem or {}).get("errors")
        if not isinstance(found, list):
            return []
        return [e for e in found if isinstance(e, dict) and {"field", "message"} <= e.keys()]


class ClannRateLimitError(ClannAPIError):
    """429: too many requests.

    Attributes:
        retry_after (float | None): The seconds the server asked to wait, if it said.
    """

    retry_after: float | None = None


class ClannServerError(ClannAPIError):
    """5xx: the server, or a proxy in front of it, failed."""


class ClannResponseError(ClannAPIError):
    """A successful status whose body does not match the contract."""


STATUS_ERRORS: dict[int, type[ClannAPIError]] = {
    400: ClannBadRequestError,
    401: ClannAuthError,
    403: ClannPermissionError,
    404: ClannNotFoundError,
    409: ClannConflictError,
    422: ClannUnprocessableError,
    429: ClannRateLimitError,
}


def error_for_status(
    status_code: int, content: bytes, request_id: str | None, retry_after: float | None = None
) -> ClannAPIError:
    """The error for a non-2xx response, its class decided by the status code alone."""
    cls = STATUS_ERRORS.get(status_code) or (ClannServerError if status_code >= 500 else ClannAPIError)
    body = content.decode("utf-8", "replace")
    problem = _problem(content)
    detail = problem.get("detail") if problem else None
    if not isinstance(detail, str) or not detail:
        detail = _describe(body)
    error = cls(status_code, _clip(detail), request_id=request_id, body=body, problem=problem)
    if isinstance(error, ClannRateLimitError):
        error.retry_after = retry_after
    return error


def _problem(content: bytes) -> dict[str, Any] | None:
    try:
        document = json.loads(content)
    except (ValueError, RecursionError):  # RecursionError: a body nested thousands deep
        return None
    return document if isinstance(document, dict) else None


def _describe(body: str) -> str:
    text = " ".join(body.split())
    if not text:
        return "the response had no body"
    if text.startswith("<"):
        return "the response was an HTML page, not a problem document"
    return f"unexpected response body: {text}"


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 3] + "..."
