"""What ChatClient and AsyncChatClient share: settings, building a request, reading an answer; no I/O.

The clients themselves (`_async_client`, and `_sync_client` generated from it) only send,
read the body, sleep and walk pages. Requests are built in `_operations`, answers read in
`_parse`, failures mapped in `_failures` and retries decided in `_retry`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from typing import Any, Self, TypeVar
from urllib.parse import urlencode

import httpx2
import msgspec

from . import _config, _failures, _operations, _parse, _redact
from ._answer import Answer, record
from ._body import ERROR_BODY_LIMIT, Body
from ._config import Secret, Settings
from ._logs import configure_from_env, logger
from ._printable import SHORT, escaped, printable
from ._retry import Attempts, Failure
from ._types import NotGiven
from .errors import ClannError, ClannTimeoutError, ClannUsageError

T = TypeVar("T")
# The most writes in doubt a client remembers (a few MB at most); past it, the oldest are forgotten.
_IN_DOUBT_LIMIT = 10_000


class _Connection:
    """The state of the HTTP client, shared by a client and the copies `with_options` makes of it.

    Attributes:
        closed: Whether the HTTP client is closed (by this client).
        shaped: Whether the HTTP client's sockets end their operations by an attempt's deadline
            (pyclann's own client).
        loop: The event loop an AsyncChatClient was first used in; its connections belong to it.
    """

    __slots__ = ("_in_doubt", "_lock", "closed", "loop", "shaped")

    def __init__(self) -> None:
        self.closed = False
        self.shaped = False
        self.loop: object | None = None
        # The writes whose last call raised saying they may have been carried out, or was cancelled once
        # its request may have been sent, by method, path and key: a call made again with the key starts in
        # doubt (see `Attempts.earlier_in_doubt`).
        self._in_doubt: dict[tuple[str, str, str], None] = {}
        self._lock = threading.Lock()

    def in_doubt(self, op: _operations.Operation[Any]) -> bool:
        return op.idempotency_key is not None and (op.method, op.path, op.idempotency_key) in self._in_doubt

    def note(self, op: _operations.Operation[Any], in_doubt: bool) -> None:
        """Remember how a write's call ended; the oldest are forgotten first, past a limit."""
        if op.idempotency_key is None:
            return
        write = (op.method, op.path, op.idempotency_key)
        if not in_doubt and write not in self._in_doubt:  # nothing to forget: most writes, spared the lock
            return
        with self._lock:
            self._in_doubt.pop(write, None)
            if in_doubt:
                self._in_doubt[write] = None
                if len(self._in_doubt) > _IN_DOUBT_LIMIT:
                    del self._in_doubt[next(iter(self._in_doubt))]


class _BaseClient:
    """What the twins share: settings, building a request, reading an answer; no I/O."""

    _settings: Settings
    _conn: _Connection
    _http: httpx2.Client | httpx2.AsyncClient

    def _setup(
        self,
        base_url: Secret | None,
        secret: Secret | None,
        http_client: httpx2.Client | httpx2.AsyncClient | None,
        http_type: type[httpx2.Client | httpx2.AsyncClient],
        timeout: float | httpx2.Timeout | NotGiven | None,
        max_retries: int,
        total_timeout: float | None,
        max_response_size: int,
        headers: Mapping[str, str] | None,
    ) -> None:
        configure_from_env()
        self._settings = _config.settings(
            base_url,
            secret,
            timeout=timeout,
            max_retries=max_retries,
            total_timeout=total_timeout,
            max_response_size=max_response_size,
            headers=headers,
            http_client=http_client,
            http_type=http_type,
        )
        self._conn = _Connection()
        self._owns_http = http_client is None

    def __repr__(self) -> str:
        # A client whose construction failed is shown too: tracebacks rendered with locals repr it.
        settings: Settings | None = getattr(self, "_settings", None)
        if settings is None:
            return f"{type(self).__name__}(<not constructed>)"
        return f"{type(self).__name__}(base_url={escaped(repr(settings.base_url))})"

    def _copy(
        self,
        timeout: float | httpx2.Timeout | NotGiven | None,
        max_retries: int | NotGiven,
        total_timeout: float | NotGiven | None,
        max_response_size: int | NotGiven,
        headers: Mapping[str, str] | None,
    ) -> Self:
        copy = object.__new__(type(self))
        copy.__dict__.update(self.__dict__)
        copy._settings = _config.evolve(
            self._settings,
            timeout=timeout,
            max_retries=max_retries,
            total_timeout=total_timeout,
            max_response_size=max_response_size,
            headers=headers,
        )
        # The copy shares the connections (and whether they are closed), but never closes them.
        copy._owns_http = False
        return copy

    def _attempts(self, op: _operations.Operation[Any], deadline: float | None = None) -> Attempts:
        settings = self._settings
        # A key of the caller's may have been sent before by any client: in doubt until the server answers it.
        seen = self._conn.in_doubt(op)
        return Attempts(
            settings.max_retries,
            settings.attempt_timeout,
            settings.total_timeout,
            earlier_in_doubt=op.callers_key or seen,
            earlier_seen=seen,
            deadline=deadline,
        )

    def _walk_deadline(self) -> float | None:
        """The deadline that every page of a `list_*` walk shares, from now, if the client has a total_timeout."""
        total = self._settings.total_timeout
        return None if total is None else time.monotonic() + total

    def _out_of_time(self, op: _operations.Operation[Any], attempts: Attempts) -> ClannError:
        """The error for a page of a walk that could not start: the walk's total_timeout had run out."""
        error = ClannTimeoutError(
            f"{op.name} ({self._settings.base_url}) timed out: the call's total_timeout"
            f" ({self._settings.total_timeout:g} s) ran out before its next page was asked for"
        )
        return self._give_up(op, error, None, attempts)

    def _stopped(self, op: _operations.Operation[Any], attempts: Attempts, watched: _failures.Watch | None) -> None:
        """Note a write's key in doubt if its call was stopped (cancelled, interrupted) once it may have been sent.

        `watched` is the attempt under way when the call was stopped, None if it was stopped between
        attempts: then only what the attempts so far (and the calls before) left in doubt counts.
        """
        sent = watched is not None and not watched.unsent
        self._conn.note(op, attempts.seen_in_doubt or sent)

    def _give_up(
        self, op: _operations.Operation[Any], failed: ClannError, cause: BaseException | None, attempts: Attempts
    ) -> ClannError:
        error = _failures.give_up(failed, cause, op.name, attempts, op.idempotency_key)
        # What this client saw, not what a caller's key is presumed (in doubt until the server answers it).
        self._conn.note(op, attempts.seen_in_doubt or (error.may_have_landed and not op.callers_key))
        return error

    def _closed(self, op: _operations.Operation[Any], attempts: Attempts | None = None) -> ClannError:
        """The error for a call on a closed client; `attempts`: the call's so far, when it was closed under it."""
        what = f"this {type(self).__name__}, or the client it was copied from, is closed"
        # Nothing more is sent; but a write left in doubt, by this call or an earlier one, stays in doubt.
        return self._give_up(op, ClannUsageError(f"{op.name}: {what}"), None, attempts or self._attempts(op))

    def _request(self, op: _operations.Operation[Any], left: float | None, watched: _failures.Watch) -> httpx2.Request:
        settings = self._settings
        timeout = settings.timeout
        if left is not None and left != settings.attempt_timeout:
            # Every socket operation of the attempt ends by the attempt's deadline.
            timeout = httpx2.Timeout(
                connect=_shorter(timeout.connect, left),
                read=_shorter(timeout.read, left),
                write=_shorter(timeout.write, left),
                pool=_shorter(timeout.pool, left),
            )
        url, params = settings.base_url + op.path, op.params
        if params and not self._http.params:
            # Encoded as httpx2 encodes params (urllib's urlencode), into the URL httpx2 parses anyway: else it
            # parses the URL a second time to add them. A client with params of its own merges them as before.
            url, params = f"{url}?{urlencode(params)}", None
        # The timeout as build_request would put it, without its making a copy of the Timeout first.
        extensions: dict[str, Any] = {"timeout": timeout.as_dict()}
        # And httpcore2's report of the exchange: whether the request began to be sent, should it fail.
        watched.attach(extensions)
        request = self._http.build_request(op.method, url, params=params, content=op.body, extensions=extensions)
        # pyclann's headers, then the operation's, each set over any of the same name the HTTP client has, as
        # build_request(headers=) would merge them: one by one, they cost a third of its merge, which copies
        # and re-encodes every header of both twice over.
        headers = request.headers
        for name, value in settings.header_items:
            headers[name] = value
        for name, value in op.headers.items():
            headers[name] = value
        return request

    def _body(self, response: httpx2.Response, deadline: float | None) -> Body:
        success = response.is_success
        limit = self._settings.max_response_size if success else ERROR_BODY_LIMIT
        # A mock transport's response was decoded by httpx2 when it was made.
        decoded = response.is_stream_consumed
        return Body(response, limit, strict=success, deadline=deadline, decoded=decoded)

    def _outcome(
        self, op: _operations.Operation[T], response: httpx2.Response, body: bytes
    ) -> Answer[T] | tuple[ClannError, Failure]:
        status = response.status_code
        if logger.isEnabledFor(logging.DEBUG):
            # The path and the query: which page. A cursor is the server's, and may echo what it was sent.
            secrets = _redact.secrets(response)
            target = _redact.text(response.request.url.raw_path.decode("ascii", "replace"), secrets)
            request_id = _failures.request_id(response, secrets)
            shown = None if request_id is None else printable(request_id, SHORT)  # the server's: escaped, clipped
            logger.debug("%s %s -> %d (request id %s)", op.method, target, status, shown)
        if status != op.success:
            if 200 <= status < 300:
                return _failures.broken_body(response, body, f"expected status {op.success}", cut=False)
            return _failures.answer_error(response, body, base_url=self._settings.base_url, path=op.path)
        try:
            # Only a 204 has no body: an empty one where a record is due was cut short, at its first byte.
            value = op.read(body)
        except (ValueError, RecursionError) as error:  # cut short, or not JSON at all
            return _failures.broken_body(response, body, f"the body is not JSON: {error}", cut=True)
        except _parse.FieldError as error:
            return _failures.broken_body(response, body, f"the body breaks the contract: {error}", cut=False)
        record(response)
        self._conn.note(op, False)
        return Answer(value, response)

    def _retrying(self, op: _operations.Operation[Any], attempts: Attempts, error: ClannError, wait: float) -> None:
        message = str(error)
        # "append_message (url) failed: ConnectError: ..." says the method and the URL once too often here.
        reason = message.split(": ", 1)[1] if message.startswith(op.name) and ": " in message else message
        logger.info("%s: retry %d in %.2fs, after %s", op.name, attempts.retries, wait, reason)

    def _check_loop(self, op: _operations.Operation[Any], loop: object | None) -> None:
        """Refuse a call from another event loop than the first (`loop`: the running one, None if unknown)."""
        if loop is None:
            return
        if self._conn.loop is None:
            self._conn.loop = loop
        elif self._conn.loop is not loop:
            error = ClannUsageError(
                f"{op.name}: this {type(self).__name__} was first used in another event loop, which its"
                " connections belong to; make one client per event loop"
            )
            raise self._give_up(op, error, None, self._attempts(op))

    def _stuck(self, page: Answer[Any]) -> ClannError:
        return _failures.give_up(_failures.stuck_cursor(page.response), None, "a listing", Attempts(0), None)


def kept(answer: Answer[_operations.P], most: int) -> tuple[Answer[_operations.P], int]:
    """A walk's page cut to the `most` records the walk still wants, and how many it wants after it.

    The page was asked for no more: a longer one breaks the contract, but `max_items` is a promise.
    """
    page = answer.parsed
    if len(page.data) > most:
        answer = Answer(msgspec.structs.replace(page, data=page.data[:most]), answer.response)
    return answer, most - len(answer.parsed.data)


def _shorter(part: float | None, left: float) -> float:
    return left if part is None else min(part, left)
