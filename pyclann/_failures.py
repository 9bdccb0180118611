"""Every failure, mapped to a ClannError in one place: statuses, broken bodies, transport errors.

In the manner of httpx's `map_httpcore_exceptions`: the clients hand over what
went wrong, and get back the `ClannError` it stands for, with what the retry
rules need to know about it (`Failure`). The class of an error response is
decided by its status code alone; its body only supplies the detail.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from . import _parse
from ._retry import Attempts, Failure
from .errors import (
    ClannAPIError,
    ClannAuthError,
    ClannBadRequestError,
    ClannConflictError,
    ClannConnectionError,
    ClannError,
    ClannNotFoundError,
    ClannPermissionError,
    ClannRateLimitError,
    ClannResponseError,
    ClannServerError,
    ClannTimeoutError,
    ClannUnprocessableError,
    ClannUsageError,
)

_STATUS_ERRORS: dict[int, type[ClannAPIError]] = {
    400: ClannBadRequestError,
    401: ClannAuthError,
    403: ClannPermissionError,
    404: ClannNotFoundError,
    409: ClannConflictError,
    # A replayed write whose session has since been deleted: not there any more.
    410: ClannNotFoundError,
    422: ClannUnprocessableError,
    429: ClannRateLimitError,
}
_MAX_DETAIL = 500
# RFC 9110's delay-seconds is ASCII digits; float() would also take "1_000", "1e3" or other scripts' digits.
_DELTA_SECONDS = re.compile(r"[0-9]+(?:\.[0-9]+)?", re.ASCII)
_MAX_BODY = 64 * 1024


class BodyError(Exception):
    """A 2xx body that cannot be read: over the size limit, or not decodable; raised while reading it."""

    def __init__(self, response: httpx.Response, detail: str) -> None:
        super().__init__(detail)
        self.response = response


class Late(Exception):
    """An attempt that ran past its time while its body was being read."""


def status_error(status: int, headers: Mapping[str, str], body: bytes) -> tuple[ClannError, Failure]:
    """The error a non-2xx response stands for."""
    cls = _STATUS_ERRORS.get(status) or (ClannServerError if status >= 500 else ClannAPIError)
    problem = _parse.problem(body)  # the decoder every body goes through
    detail = problem.get("detail") if problem else None
    if not isinstance(detail, str) or not detail:
        detail = _describe(body)
    error = cls(status, _clip(detail), request_id=headers.get("x-request-id"), body=_text(body), problem=problem)
    if isinstance(error, ClannUnprocessableError) and error.errors:
        named = "; ".join(f"{e['field']}: {e['message']}" for e in error.errors)
        if named not in error.detail:
            error.args = (f"{error.args[0]} [{_clip(named)}]",)
    retry_after = parse_retry_after(headers.get("retry-after"))
    if isinstance(error, ClannRateLimitError):
        error.retry_after = retry_after
    should = headers.get("x-should-retry")
    # A 5xx may come from a proxy after the server did the work, and a 409 says a request with this
    # key is being carried out right now; a 408 or another 4xx is the server refusing this request.
    in_doubt = status >= 500 or status == 409
    return error, Failure(status, retry_after, {"true": True, "false": False}.get(should or ""), in_doubt=in_doubt)


def broken_body(response: httpx.Response, body: bytes, detail: str, *, cut: bool) -> tuple[ClannError, Failure]:
    """The error for a 2xx whose body cannot be read: cut short (worth a retry) or wrong (not)."""
    status = response.status_code
    error = ClannResponseError(
        status, _clip(detail), request_id=response.headers.get("x-request-id"), body=_text(body[:_MAX_BODY])
    )
    # A 2xx means the server did the work, whatever happened to the body on the way.
    return error, Failure(status, retryable=cut, in_doubt=True)


def stuck_cursor(page: httpx.Response) -> ClannError:
    """A listing whose next page would be the same page again: a server bug, and a walk that would never end."""
    return ClannResponseError(
        page.status_code,
        "the listing's cursor did not advance; the walk was stopped",
        request_id=page.headers.get("x-request-id"),
    )


def attempt_error(
    name: str, url: str, error: Exception, timeout: float | None, *, closed: bool
) -> tuple[ClannError, Failure]:
    """The error for an attempt to `url` that got no whole, readable response.

    `closed` says whether the HTTP client was closed before the attempt (by its owner).
    Any exception at all is mapped: one this module does not know comes from below
    pyclann (httpx, a user's event hook), the request may have been sent, and it is not
    retried.
    """
    if isinstance(error, BodyError):
        return broken_body(error.response, b"", str(error), cut=False)
    if isinstance(error, httpx.HTTPStatusError):  # a user's event hook called raise_for_status()
        response = error.response
        return status_error(response.status_code, response.headers, b"")
    if isinstance(error, RuntimeError) and closed:
        # httpx's own "the client has been closed", for an http_client its owner closed: nothing was sent.
        return ClannUsageError(f"{name}: {_clip(str(error))}"), Failure(None, retryable=False)
    if not isinstance(error, httpx.RequestError | TimeoutError | Late):
        unexpected = ClannConnectionError(f"{name} ({url}) failed unexpectedly: {_reason(error)}")
        return unexpected, Failure(None, retryable=False, in_doubt=True)
    reached = not _before_connecting(error)
    if _mislabelled(error):
        # httpx-aiohttp calls a lost connection a ConnectTimeout: say what it was, and that it may have landed.
        return ClannConnectionError(f"{name} ({url}) failed: {_reason(error.__cause__ or error)}"), Failure(
            None, in_doubt=True
        )
    if isinstance(error, httpx.TimeoutException | TimeoutError | Late):
        # A bare TimeoutError is the async client's cancel scope; Late, the sync client's check
        # between body chunks: either way the attempt as a whole ran past its timeout.
        whole = type(error) is TimeoutError or isinstance(error, Late)
        if whole and timeout:
            reason = f"no whole response within the attempt's {timeout:g} s"
        else:  # one of httpx's per-operation timeouts, or the deadline on the socket of pyclann's own client
            reason = _reason(error) + (f" (an attempt may take {timeout:g} s)" if timeout else "")
        found: ClannError = ClannTimeoutError(f"{name} ({url}) timed out: {reason}")
    else:
        found = ClannConnectionError(f"{name} ({url}) failed: {_reason(error)}")
    # A wrong URL or request is sent wrong again; so is a redirect loop (httpx.TooManyRedirects), which,
    # like httpx's other request errors that are not transport errors, comes from a user's httpx client.
    mendable = isinstance(error, httpx.TransportError | TimeoutError | Late)
    retryable = mendable and not isinstance(error, httpx.UnsupportedProtocol | httpx.LocalProtocolError)
    return found, Failure(None, retryable=retryable, in_doubt=reached)


def _before_connecting(error: Exception) -> bool:
    """Whether the attempt failed before a connection was made: then the request cannot have reached the server."""
    if isinstance(error, httpx.PoolTimeout):
        return True
    if not isinstance(error, httpx.ConnectError | httpx.ConnectTimeout):
        return False
    return not _mislabelled(error)


def _mislabelled(error: Exception) -> bool:
    """An aiohttp error after connecting that httpx-aiohttp raised as a ConnectError or ConnectTimeout.

    httpx-aiohttp maps every `aiohttp.ClientConnectionError` to `httpx.ConnectTimeout`,
    a connection dropped after the request was sent (ServerDisconnectedError) or reset
    (ClientOSError) included; only aiohttp's ClientConnectorError means no connection was
    made, and its timeouts are timeouts. Told by the class names in the cause, so that
    pyclann need not import aiohttp.
    """
    if not isinstance(error, httpx.ConnectError | httpx.ConnectTimeout):
        return False
    cause = error.__cause__
    if cause is None or not type(cause).__module__.startswith("aiohttp"):
        return False
    names = {cls.__name__ for cls in type(cause).__mro__}
    return not names & {"ClientConnectorError", "ServerTimeoutError", "ConnectionTimeoutError", "TimeoutError"}


def give_up(
    error: ClannError, cause: BaseException | None, name: str, attempts: Attempts, key: str | None
) -> ClannError:
    """The error to raise for the call, saying what a caller needs to call again safely."""
    tried = attempts.retries + 1
    message = str(error) if tried == 1 else f"{error} (after {tried} attempts)"
    if attempts.why_not:
        message += f" (not retried: {attempts.why_not})"
    if key is not None:
        error.idempotency_key = key
        # A 410 replays a write that was carried out, its session deleted since: it landed, and is gone.
        purged = isinstance(error, ClannAPIError) and error.status_code == 410
        error.may_have_landed = attempts.write_in_doubt or purged
        if purged:
            message += f"; {name} was carried out, but its session has since been deleted, and with it what it wrote"
        elif error.may_have_landed:
            message += (
                f"; {name} may have been carried out: call it again with idempotency_key={key!r} to learn its"
                " outcome without writing twice"
            )
        else:
            message += f"; {name} was not carried out"
    error.args = (message,)
    if cause is not None:
        # The cause stays, without its frames: httpcore's locals hold the request's headers,
        # and a traceback rendered with locals (pytest -l, rich, Sentry) would show the token.
        error.__cause__ = _without_frames(cause)
        error.__suppress_context__ = True
    return error


def parse_retry_after(value: str | None) -> float | None:
    """`Retry-After` as seconds from now: delta-seconds or an HTTP date; None if absent or unreadable."""
    if not value:
        return None
    if _DELTA_SECONDS.fullmatch(value.strip()):
        seconds = float(value)  # inf for a number too large for a float: longer than any cap, as it says
    else:
        try:
            when = parsedate_to_datetime(value)
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            seconds = (when - datetime.now(UTC)).total_seconds()
        except (TypeError, ValueError, IndexError, OverflowError):  # an absurd hour overflows
            return None
    if seconds != seconds or seconds == float("-inf"):
        return None
    return max(seconds, 0.0)


def _without_frames(error: BaseException) -> BaseException:
    seen: set[int] = set()
    link: BaseException | None = error
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        link.__traceback__ = None
        link = link.__cause__ or link.__context__
    return error


def _reason(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return _clip(f"{type(error).__name__}: {text}" if not text.startswith(type(error).__name__) else text)


def _describe(body: bytes) -> str:
    text = " ".join(_text(body).split())
    if not text:
        return "the response had no body"
    if text.startswith("<"):
        return "the response was an HTML page, not a problem document"
    return f"unexpected response body: {text}"


def _text(body: bytes) -> str:
    return body.decode("utf-8", "replace")


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 3] + "..."
