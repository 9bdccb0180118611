"""Every failure, mapped to a ClannError in one place: statuses, broken bodies, transport errors.

In the manner of httpx2's `map_httpcore_exceptions`: the clients hand over what
went wrong, and get back the `ClannError` it stands for, with what the retry
rules need to know about it (`Failure`). The class of an error response is
decided by its status code alone; its body only supplies the detail.

Whether an attempt that got no response may have been carried out is told by
what httpcore2 reports of the exchange (its public `trace` extension, watched
by `Watch`): a request that failed before its first byte was sent (a refused
connection, or one a test's network guard blocked) cannot have landed, whatever
the exception. An exception group (anyio's, from connecting) is reported as the
errors inside it.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Final

import httpx2

from . import _parse, _redact
from ._printable import DETAIL, SHORT, printable
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

if TYPE_CHECKING:
    from ._raw import ErrorResponse

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
# RFC 9110's delay-seconds is ASCII digits; float() would also take "1_000", "1e3" or other scripts' digits.
_DELTA_SECONDS = r"[0-9]+(?:\.[0-9]+)?"  # compiled when first used (by re's cache), not with pyclann
_MAX_BODY = 64 * 1024
# Headers whose values are credentials: an error's `response` never shows them.
_CREDENTIAL_HEADERS = frozenset({b"authorization", b"proxy-authorization", b"cookie", b"set-cookie"})
# The longest message an error carries: a detail, a request ID, and what pyclann says about the call.
_MESSAGE = 4 * DETAIL


class BodyError(Exception):
    """A 2xx body that cannot be read: over the size limit, or not decodable; raised while reading it."""

    def __init__(self, response: httpx2.Response, detail: str) -> None:
        super().__init__(detail)
        self.response = response


class Late(Exception):
    """An attempt that ran past its time while its body was being read."""


# httpcore2's event for a request's first bytes, over HTTP/1.1 or HTTP/2 ("http11.send_request_headers.started").
_SENDING: Final = "send_request_headers.started"


class Watch:
    """Whether an attempt's request began to be sent, as httpcore2 reports it (a sync `trace` extension).

    One per attempt, attached to the request's extensions. A transport that is not
    httpcore2's (a mock, a user's own) reports nothing, and nothing is concluded then.
    """

    __slots__ = ("_extensions", "sent", "traced")

    def __init__(self) -> None:
        self.traced = False
        self.sent = False
        self._extensions: dict[str, Any] = {}

    def attach(self, extensions: dict[str, Any]) -> None:
        """Be the `trace` callback of the request whose `extensions` these are, until it begins to be sent."""
        extensions["trace"] = self
        self._extensions = extensions

    def __call__(self, event: str, info: Mapping[str, Any]) -> None:
        self._saw(event)

    def _saw(self, event: str) -> None:
        self.traced = True
        if event.endswith(_SENDING):
            self.sent = True
            # No later event changes the answer: httpcore2 reads the extension at each step of the
            # exchange, and steps that no longer find it are not reported (which saves an async call each).
            self._extensions.pop("trace", None)

    @property
    def unsent(self) -> bool:
        """Whether the exchange was reported, and failed before any byte of the request was sent."""
        return self.traced and not self.sent


class AsyncWatch(Watch):
    """`Watch`, for an async client (httpcore2 awaits its async pools' trace callbacks)."""

    __slots__ = ()

    async def __call__(self, event: str, info: Mapping[str, Any]) -> None:  # type: ignore[override]
        self._saw(event)


def status_error(
    status: int, headers: Mapping[str, str], body: bytes, *, base_url: str | None = None, path: str | None = None
) -> tuple[ClannError, Failure]:
    """The error a non-2xx response stands for; given the base URL and the path, a 404 says if the path doubled."""
    cls = _STATUS_ERRORS.get(status) or (ClannServerError if 500 <= status < 600 else ClannAPIError)
    problem = _parse.problem(body)  # the decoder every body goes through
    detail = problem.get("detail") if problem else None
    if not isinstance(detail, str) or not detail:
        detail = _describe(body)
    # The message clips the detail itself, saying how long it was; the attribute keeps its first characters.
    error = cls(status, detail, request_id=headers.get("x-request-id"), body=_text(body), problem=problem)
    error.detail = _clip(detail)
    if isinstance(error, ClannUnprocessableError) and error.errors:
        named = "; ".join(f"{e['field']}: {e['message']}" for e in error.errors)
        if named not in error.detail:
            error.args = (f"{error.args[0]} [{printable(named)}]",)
    if status == 404 and base_url is not None and path is not None and (twice := _doubled(base_url, path)):
        fixed = base_url[: -len(twice)]
        error.args = (
            f"{error.args[0]} (the base URL ends in {printable(twice, SHORT)!r}, which every path of the API starts"
            f" with, so it was sent twice: {printable(twice + path, SHORT)!r}; use base_url={printable(fixed)!r})",
        )
    retry_after = parse_retry_after(headers.get("retry-after"))
    if isinstance(error, ClannRateLimitError):
        error.retry_after = retry_after
    should = headers.get("x-should-retry")
    # A 5xx may come from a proxy after the server did the work, and a 409 says a request with this
    # key is being carried out right now; a 408 or another 4xx is the server refusing this request.
    in_doubt = status >= 500 or status == 409
    return error, Failure(status, retry_after, {"true": True, "false": False}.get(should or ""), in_doubt=in_doubt)


def answer_error(
    response: httpx2.Response, body: bytes, *, base_url: str | None = None, path: str | None = None
) -> tuple[ClannError, Failure]:
    """The error a non-2xx response stands for, carrying it as `.response`, with no credential in it."""
    answer = kept(response, body, _redact.secrets(response))
    # Its headers and body, with any credential the server echoed redacted: the message shows its request ID.
    found = status_error(response.status_code, answer.headers, answer.content, base_url=base_url, path=path)
    found[0].response = answer
    return found


def _doubled(base_url: str, path: str) -> str | None:
    """The end of the base URL's path that the operation's path starts with too (`/api`), if one does."""
    base = httpx2.URL(base_url).path.rstrip("/")
    parts = base.split("/")
    for start in range(1, len(parts)):  # the longest end first: "/v1/api" before "/api"
        tail = "/" + "/".join(parts[start:])
        if path.startswith(tail + "/"):
            return tail
    return None


def broken_body(response: httpx2.Response, body: bytes, detail: str, *, cut: bool) -> tuple[ClannError, Failure]:
    """The error for a 2xx whose body cannot be read: cut short (worth a retry) or wrong (not)."""
    secrets = _redact.secrets(response)
    answer = kept(response, body, secrets)
    detail = _text(_redact.body(detail.encode(), secrets))  # it may quote the body
    # The message clips the detail itself, saying how long it was; the attribute keeps its first characters.
    error = ClannResponseError(
        answer.status_code, detail, request_id=request_id(response, secrets), body=_text(answer.content)
    )
    error.detail = _clip(detail)
    error.response = answer
    # A 2xx means the server did the work, whatever happened to the body on the way.
    return error, Failure(answer.status_code, retryable=cut, in_doubt=True)


def stuck_cursor(page: httpx2.Response) -> ClannError:
    """A listing whose next page would be the same page again: a server bug, and a walk that would never end."""
    secrets = _redact.secrets(page)
    error = ClannResponseError(
        page.status_code,
        "the listing's cursor did not advance; the walk was stopped",
        request_id=request_id(page, secrets),
    )
    error.response = kept(page, b"", secrets)
    return error


def kept(response: httpx2.Response, body: bytes, secrets: list[bytes]) -> ErrorResponse:
    """What an error keeps of the answer it came from: status, headers and `body` (at most 64 KiB).

    `secrets` are the exchange's credentials (`_redact.secrets(response)`): redacted from all of it.
    """
    from ._raw import ErrorResponse  # here: an attrs class, which `import pyclann` need not import

    headers = [
        (name, _redact.REDACTED if name.lower() in _CREDENTIAL_HEADERS else _redact.raw(value, secrets))
        for name, value in response.headers.raw  # as sent, bytes: a value need not be ASCII
    ]
    return ErrorResponse(response.status_code, httpx2.Headers(headers), _redact.body(body[:_MAX_BODY], secrets))


def request_id(response: httpx2.Response, secrets: list[bytes] | None = None) -> str | None:
    """The response's `X-Request-Id`, with any credential of its exchange that the server echoed in it redacted.

    `secrets`: the exchange's credentials, when the caller has found them already.
    """
    found = response.headers.get("x-request-id")
    if found is None:
        return None
    return _redact.text(found, _redact.secrets(response) if secrets is None else secrets)


def attempt_error(
    name: str,
    url: str,
    error: Exception,
    timeout: float | None,
    *,
    closed: bool,
    sent: httpx2.Request | None,
    watched: Watch | None = None,
) -> tuple[ClannError, Failure]:
    """The error for an attempt to `url` that got no whole, readable response.

    `closed` says whether the HTTP client was closed before the attempt (by its owner);
    `watched`, what httpcore2 reported of the exchange, if it was watched. Any exception
    at all is mapped: one this module does not know comes from below pyclann (httpx2, a
    user's event hook) and is not retried; the request may have been sent, unless
    httpcore2 reported that it was not.
    """
    inner = _unwrapped(error)
    error = inner if isinstance(inner, Exception) else error
    # httpx2's parser quotes a malformed answer's bytes, which may echo the request's token.
    _redact.chain(error, _redact.secrets_of_error(error, sent))
    found, failure = _attempt_error(name, url, error, timeout, closed=closed)
    if failure.in_doubt and watched is not None and watched.unsent:
        failure.in_doubt = False  # made for this attempt just above: no one else holds it
    return found, failure


def _attempt_error(
    name: str, url: str, error: Exception, timeout: float | None, *, closed: bool
) -> tuple[ClannError, Failure]:
    if isinstance(error, BodyError):
        return broken_body(error.response, b"", str(error), cut=False)
    if isinstance(error, httpx2.HTTPStatusError):  # a user's event hook called raise_for_status()
        return answer_error(error.response, b"")
    if isinstance(error, RuntimeError) and closed:
        # httpx2's own "the client has been closed", for an http_client its owner closed: nothing was sent.
        return ClannUsageError(f"{name}: {printable(str(error))}"), Failure(None, retryable=False)
    tls = _tls_failure(error)
    if tls is not None:
        # A handshake the server's certificate, its protocol or its refusal failed: the same again on every
        # attempt, and no request reached the server's application (TLS carried none of it).
        refused = ClannConnectionError(f"{name} ({url}) failed: {tls} (not retried: it would fail the same way)")
        return refused, Failure(None, retryable=False, in_doubt=False)
    if not isinstance(error, httpx2.RequestError | TimeoutError | Late):
        unexpected = ClannConnectionError(f"{name} ({url}) failed unexpectedly: {_reason(error)}")
        return unexpected, Failure(None, retryable=False, in_doubt=True)
    # A refused connection (httpx2.ConnectError), no connection in time, or a URL no transport takes: nothing was sent.
    unsent = httpx2.ConnectError | httpx2.ConnectTimeout | httpx2.PoolTimeout | httpx2.UnsupportedProtocol
    reached = not isinstance(error, unsent)
    if isinstance(error, httpx2.TimeoutException | TimeoutError | Late):
        # A bare TimeoutError is the async client's cancel scope; Late, the sync client's check
        # between body chunks: either way the attempt as a whole ran past its timeout.
        whole = type(error) is TimeoutError or isinstance(error, Late)
        if whole and timeout:
            reason = f"no whole response within the attempt's {timeout:g} s"
        else:  # one of httpx2's per-operation timeouts, or the deadline on the socket of pyclann's own client
            reason = _reason(error) + (f" (an attempt may take {timeout:g} s)" if timeout else "")
        found: ClannError = ClannTimeoutError(f"{name} ({url}) timed out: {reason}")
    else:
        found = ClannConnectionError(f"{name} ({url}) failed: {_reason(error)}")
    # A wrong URL or request is sent wrong again; so is a redirect loop (httpx2.TooManyRedirects), which,
    # like httpx2's other request errors that are not transport errors, comes from a user's httpx2 client.
    mendable = isinstance(error, httpx2.TransportError | TimeoutError | Late)
    retryable = mendable and not isinstance(error, httpx2.UnsupportedProtocol | httpx2.LocalProtocolError)
    timed_out = isinstance(found, ClannTimeoutError)
    return found, Failure(None, retryable=retryable, in_doubt=reached, timed_out=timed_out)


# What a TLS failure that is the same on every attempt says, by the reason OpenSSL gives, and what to check.
_WRONG_PROTOCOL = (
    "the server did not answer in TLS: is it an HTTP-only server, or the wrong port? check the base URL's"
    " scheme (https:// or http://) and port"
)
_TLS_HINTS = {
    "WRONG_VERSION_NUMBER": _WRONG_PROTOCOL,
    "HTTP_REQUEST": _WRONG_PROTOCOL,
    "RECORD_LAYER_FAILURE": _WRONG_PROTOCOL,
    "PACKET_LENGTH_TOO_LONG": _WRONG_PROTOCOL,
    "UNSUPPORTED_PROTOCOL": "the server and the client share no TLS version: check the server's TLS settings",
    "NO_PROTOCOLS_AVAILABLE": "the server and the client share no TLS version: check the server's TLS settings",
}
# Failures that may pass: the connection was cut during the handshake, as a busy server or a network may.
_TLS_PASSING = (ssl.SSLEOFError, ssl.SSLZeroReturnError, ssl.SSLSyscallError, ssl.SSLWantReadError)


def _tls_failure(error: BaseException) -> str | None:
    """What a TLS failure that will not mend itself says, with what to check; None for any other error."""
    found = _in_chain(error, ssl.SSLError)
    if not isinstance(found, ssl.SSLError) or isinstance(found, _TLS_PASSING):
        return None
    reason = str(found.reason or "")
    if isinstance(found, ssl.SSLCertVerificationError):
        said = found.verify_message or reason
        return printable(
            f"TLS certificate verification failed ({said}): check the server's certificate (its host name,"
            " its dates, its issuer), or pass an http_client whose verify= trusts the CA that signed it"
        )
    if reason in _TLS_HINTS:
        return printable(f"TLS failed ({reason}): {_TLS_HINTS[reason]}")
    if "ALERT" in reason or "CERTIFICATE" in reason:
        return printable(
            f"the server refused the TLS handshake ({reason}): check the client certificate it requires"
            " (an http_client with cert=), or the TLS versions and ciphers it accepts"
        )
    return printable(f"TLS failed ({reason or found}): check the base URL and the server's TLS settings")


def _in_chain(error: BaseException, kind: type[BaseException]) -> BaseException | None:
    """The first exception of `kind` among `error` and its causes (each once: a chain may loop)."""
    seen: set[int] = set()
    link: BaseException | None = error
    while link is not None and id(link) not in seen:
        if isinstance(link, kind):
            return link
        seen.add(id(link))
        link = link.__cause__ or link.__context__
    return None


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
        elif attempts.may_have_landed:
            message += (
                f"; {name} may have been carried out: call it again with idempotency_key={key!r} to learn its"
                " outcome without writing twice"
            )
        elif attempts.earlier_seen:
            # This client itself saw an earlier call with the key stop (fail, or be cancelled) once sent.
            message += (
                f"; {name} was not carried out by this call, but an earlier call with idempotency_key={key!r},"
                " through this client, ended after it may have been sent, and may have been carried out: call"
                " it again with the key to learn its outcome without writing twice"
            )
        elif error.may_have_landed:
            # This call's attempts were refused or never sent; that proves nothing of an earlier call with
            # the key (yours, which may have come from anywhere).
            message += (
                f"; {name} was not carried out by this call, but an earlier call with idempotency_key={key!r} may"
                " have been carried out, which this error cannot rule out: call it again with the key to learn its"
                " outcome without writing twice"
            )
        else:
            message += f"; {name} was not carried out"
    # Every part is printable already (the server's words were escaped where they entered); this is the guard.
    error.args = (printable(message, _MESSAGE),)
    if cause is not None:
        # The cause stays, without its frames: httpcore2's locals hold the request's headers,
        # and a traceback rendered with locals (pytest -l, rich, Sentry) would show the token.
        error.__cause__ = _without_frames(_unwrapped(cause))
        error.__suppress_context__ = True
    return error


def parse_retry_after(value: str | None) -> float | None:
    """`Retry-After` as seconds from now: delta-seconds or an HTTP date; None if absent or unreadable."""
    if not value:
        return None
    if re.fullmatch(_DELTA_SECONDS, value.strip(), re.ASCII):
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


def _unwrapped(error: BaseException) -> BaseException:
    """The one error inside an exception group (anyio's TaskGroup wraps what failed in one), else `error`."""
    while isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
        error = error.exceptions[0]
    return error


def _reason(error: BaseException) -> str:
    if isinstance(error, BaseExceptionGroup):  # several errors at once: each is named, not the group
        return printable("; ".join(_reason(_unwrapped(inner)) for inner in error.exceptions))
    # An exception's words may quote the wire (h11 quotes a bad header line): escaped, as any server text.
    # anyio's errors say nothing (a reset is a bare ReadError): its cause's words, as the sync transports give.
    text = str(error) or _said_below(error) or type(error).__name__
    return printable(f"{type(error).__name__}: {text}" if not text.startswith(type(error).__name__) else text)


def _said_below(error: BaseException) -> str:
    """The words of the OS error below `error`, if it has any: `[Errno 104] Connection reset by peer`."""
    seen = {id(error)}
    link = error.__cause__ or error.__context__
    while link is not None and id(link) not in seen:
        if isinstance(link, TimeoutError) or not isinstance(link, Exception):
            return ""  # a cancel scope's deadline: what lies below it (a read it interrupted) is not the reason
        if isinstance(link, OSError) and str(link):
            return str(link)
        seen.add(id(link))
        link = link.__cause__ or link.__context__
    return ""


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
    """The first characters of a detail, as the server wrote them (kept in `error.detail`; its message escapes them)."""
    return text if len(text) <= DETAIL else text[: DETAIL - 3] + "..."
