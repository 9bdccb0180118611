"""Every error pyclann raises, drawn as a tree.

    ClannError
    ├── ClannConfigError            bad settings (a ValueError)
    ├── ClannInvalidArgumentError   an argument that cannot be sent
    │   │                           (a ValueError); nothing sent
    │   └── ClannInvalidIdError     a bad record ID
    ├── ClannUsageError             a closed client, or another
    │                               event loop (a RuntimeError)
    ├── ClannConnectionError        no response
    │   └── ClannTimeoutError       no response in time
    └── ClannAPIError               a response, with any status:
        ├── ClannBadRequestError    400
        ├── ClannAuthError          401
        ├── ClannPermissionError    403
        ├── ClannNotFoundError      404; 410, a replayed write
        │                           whose session is deleted
        ├── ClannConflictError      409
        ├── ClannUnprocessableError 422, with the fields
        ├── ClannRateLimitError     429, with Retry-After
        ├── ClannServerError        5xx
        └── ClannResponseError      2xx, its body unreadable,
                                    wrong or too large

Besides these, a wrong Python type for an argument (an int for a title, say)
raises `TypeError`, as Python does. Which class a response becomes is decided
by its status code alone, in one place; the body only supplies the
detail. A `ClannAPIError` of no subclass stands for any other status: a 405 (a
method the path does not take), a 413 (a body over 1 MiB, which pyclann's own
requests never reach), or a status the contract does not name (a proxy's 418).

Every error raised by a write (`create_session`, `append_message`,
`update_session`, `delete_session`) carries `idempotency_key`, the key all its
attempts sent, and `may_have_landed`, whether any attempt may have been carried
out: this call's, or an earlier call's with the same key whose error said so (as
the client that raised it knows), until the server answers the key itself.
Calling the method again with `idempotency_key=error.idempotency_key` can never
write twice.

Every error that comes from an answer (each `ClannAPIError`) carries it as
`response`, a `pyclann.ErrorResponse`: its status, its headers and its body, as far as
it was read; an error that never got one (a refused connection, a timeout, a bad
argument) has `response = None`. It pickles, and holds no credential: the values
of `Authorization`, `Proxy-Authorization`, `Cookie` and `Set-Cookie` are replaced,
and so is the request's own token wherever the server echoed it.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._raw import ErrorResponse

__all__ = [
    "ClannAPIError",
    "ClannAuthError",
    "ClannBadRequestError",
    "ClannConfigError",
    "ClannConflictError",
    "ClannConnectionError",
    "ClannError",
    "ClannInvalidArgumentError",
    "ClannInvalidIdError",
    "ClannNotFoundError",
    "ClannPermissionError",
    "ClannRateLimitError",
    "ClannResponseError",
    "ClannServerError",
    "ClannTimeoutError",
    "ClannUnprocessableError",
    "ClannUsageError",
]


class ClannError(Exception):
    """The root of every error pyclann raises.

    Attributes:
        idempotency_key (str | None): On an error from a write, the `Idempotency-Key` every attempt sent.
        may_have_landed (bool): On an error from a write, whether it may have been carried out: by an
            attempt of this call, or by an earlier call with the same key whose error said so.
        response (ErrorResponse | None): The answer the error came from (the last attempt's), with its
            status, headers and body; None if no answer came (a connection error, a timeout, a bad argument).
    """

    idempotency_key: str | None = None
    may_have_landed: bool = False
    response: ErrorResponse | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        # Every attribute survives pickle and copy, whatever the subclass's __init__ takes.
        return (_rebuild, (type(self), self.args), self.__dict__)


def _rebuild(cls: type[ClannError], args: tuple[Any, ...]) -> ClannError:
    error = cls.__new__(cls)
    error.args = args
    return error


class ClannConfigError(ClannError, ValueError):
    """The client's settings (base URL, token, timeouts, retries) are missing or not valid."""


class ClannInvalidArgumentError(ClannError, ValueError):
    """An argument's value cannot be sent (a lone surrogate, a page size out of range); no request was sent."""


class ClannInvalidIdError(ClannInvalidArgumentError):
    """A value that is not a record ID of the expected table; no request was sent."""


class ClannUsageError(ClannError, RuntimeError):
    """The client cannot be used this way: it is closed, or it belongs to another event loop."""


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
        body (str): The response body as text (at most 64 KiB of it for an error status).
        problem (dict[str, Any] | None): The parsed RFC 9457 problem document, if there was one.
        problem_type (str | None): The problem's `type` URI, such as
            `tag:clann.dev,2026:problem/not-found`, if it had one.
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
        kind = (problem or {}).get("type")
        self.problem_type: str | None = kind if isinstance(kind, str) else None
        super().__init__(_describe(status_code, detail, request_id))


def _describe(status_code: int, detail: str, request_id: str | None) -> str:
    try:
        phrase = HTTPStatus(status_code).phrase
    except ValueError:
        phrase = "Unknown Status"
    request = f" (request id {request_id})" if request_id else ""
    return f"{status_code} {phrase}: {detail}{request}"


class ClannBadRequestError(ClannAPIError):
    """400: the request was not well formed."""


class ClannAuthError(ClannAPIError):
    """401: the bearer token is missing or not valid."""


class ClannPermissionError(ClannAPIError):
    """403: the token may not act for that user."""


class ClannNotFoundError(ClannAPIError):
    """404: no such session or message, or not one of yours; 410: a replayed write whose session is deleted."""


class ClannConflictError(ClannAPIError):
    """409: a request with the same idempotency key is still being carried out."""


class ClannUnprocessableError(ClannAPIError):
    """422: the request was well formed, but some fields were not valid (or the idempotency key was reused).

    Attributes:
        errors (list[dict[str, str]]): One `{"field": ..., "message": ...}` per offending field.
    """

    @property
    def errors(self) -> list[dict[str, str]]:
        found = (self.problem or {}).get("errors")
        if not isinstance(found, list):
            return []
        return [
            {"field": e["field"], "message": e["message"]}
            for e in found
            if isinstance(e, dict) and isinstance(e.get("field"), str) and isinstance(e.get("message"), str)
        ]


class ClannRateLimitError(ClannAPIError):
    """429: too many requests.

    Attributes:
        retry_after (float | None): The seconds the server asked to wait, if it said.
    """

    retry_after: float | None = None


class ClannServerError(ClannAPIError):
    """5xx: the server, or a proxy in front of it, failed."""


class ClannResponseError(ClannAPIError):
    """A successful status whose body is unreadable, breaks the contract, or is over the size limit."""
