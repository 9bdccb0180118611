"""ChatClient and AsyncChatClient: the settings they share, then the two thin twins that do the I/O.

Requests are built in `_operations`, answers read in `_parse`, failures mapped
in `_failures` and retries decided in `_retry`; a twin only sends, reads the
body, sleeps, and walks pages, each in its own way.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import AsyncGenerator, AsyncIterable, Callable, Generator, Iterable, Mapping
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import urlencode

import attrs
import httpx2

from . import _config, _deadline, _failures, _operations, _parse
from . import _operations as ops
from ._body import ERROR_BODY_LIMIT, Body
from ._config import DEFAULT_MAX_RESPONSE_SIZE, DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT, Secret, Settings
from ._logs import configure_from_env, logger
from ._raw import Answer, AsyncRawChatClient, RawChatClient, record
from ._retry import Attempts, Failure, sleep_for
from ._types import NOT_GIVEN, NotGiven
from .errors import ClannError, ClannUsageError
from .models import ChatMessage, ChatSession

__all__ = ["DEFAULT_MAX_RESPONSE_SIZE", "DEFAULT_MAX_RETRIES", "DEFAULT_TIMEOUT", "AsyncChatClient", "ChatClient"]

T = TypeVar("T")
_UNSHAPED = contextlib.nullcontext()
# The most writes in doubt a client remembers (a few MB at most); past it, the oldest are forgotten.
_IN_DOUBT_LIMIT = 10_000


@attrs.define
class _Connection:
    """The state of the HTTP client, shared by a client and the copies `with_options` makes of it."""

    closed: bool = False
    # Whether the HTTP client's sockets end their operations by an attempt's deadline (pyclann's own client).
    shaped: bool = False
    # The event loop an AsyncChatClient was first used in; its connections belong to it.
    loop: object | None = None
    # The writes whose last call raised saying they may have been carried out, by method, path and
    # key: a call made again with the key starts in doubt (see `Attempts.earlier_in_doubt`).
    _in_doubt: dict[tuple[str, str, str], None] = attrs.field(factory=dict)
    _lock: threading.Lock = attrs.field(factory=threading.Lock)

    def in_doubt(self, op: _operations.Operation[Any]) -> bool:
        return op.idempotency_key is not None and (op.method, op.path, op.idempotency_key) in self._in_doubt

    def note(self, op: _operations.Operation[Any], in_doubt: bool) -> None:
        """Remember how a write's call ended; the oldest are forgotten first, past a limit."""
        if op.idempotency_key is None:
            return
        write = (op.method, op.path, op.idempotency_key)
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
            http_type=httpx2.AsyncClient if isinstance(self, AsyncChatClient) else httpx2.Client,
        )
        self._conn = _Connection()
        self._owns_http = http_client is None

    def __repr__(self) -> str:
        # A client whose construction failed is shown too: tracebacks rendered with locals repr it.
        settings: Settings | None = getattr(self, "_settings", None)
        if settings is None:
            return f"{type(self).__name__}(<not constructed>)"
        return f"{type(self).__name__}(base_url={settings.base_url!r})"

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

    def _attempts(self, op: _operations.Operation[Any]) -> Attempts:
        settings = self._settings
        earlier = self._conn.in_doubt(op)
        return Attempts(
            settings.max_retries, settings.attempt_timeout, settings.total_timeout, earlier_in_doubt=earlier
        )

    def _give_up(
        self, op: _operations.Operation[Any], failed: ClannError, cause: BaseException | None, attempts: Attempts
    ) -> ClannError:
        error = _failures.give_up(failed, cause, op.name, attempts, op.idempotency_key)
        self._conn.note(op, error.may_have_landed)
        return error

    def _closed(self, op: _operations.Operation[Any]) -> ClannError:
        what = f"this {type(self).__name__}, or the client it was copied from, is closed"
        # Nothing is sent; but a write left in doubt by an earlier call stays in doubt.
        return self._give_up(op, ClannUsageError(f"{op.name}: {what}"), None, self._attempts(op))

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
        request = self._http.build_request(
            op.method, url, params=params, content=op.body, headers=settings.headers, extensions=extensions
        )
        # Set last, over any of the same name (as Headers.update would, without copying the client's headers).
        for name, value in op.headers.items():
            request.headers[name] = value
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
        status, headers = response.status_code, response.headers
        request_id = headers.get("x-request-id")
        if logger.isEnabledFor(logging.DEBUG):
            target = response.request.url.raw_path.decode("ascii", "replace")  # the path and the query: which page
            logger.debug("%s %s -> %d (request id %s)", op.method, target, status, request_id)
        if status != op.success:
            if 200 <= status < 300:
                return _failures.broken_body(response, body, f"expected status {op.success}", cut=False)
            return _failures.status_error(status, headers, body)
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

    def _stuck(self, page: Answer[Any]) -> ClannError:
        return _failures.give_up(_failures.stuck_cursor(page.response), None, "a listing", Attempts(0), None)


def _shorter(part: float | None, left: float) -> float:
    return left if part is None else min(part, left)


def _joined(pages: Iterable[Answer[list[T]]]) -> list[T]:
    """Every page's records in one list, each page added at once (not record by record)."""
    records: list[T] = []
    for page in pages:
        records += page.parsed
    return records


async def _ajoined(pages: AsyncIterable[Answer[list[T]]]) -> list[T]:
    """Every page's records in one list, each page added at once (not record by record)."""
    records: list[T] = []
    async for page in pages:
        records += page.parsed
    return records


class ChatClient(_BaseClient):
    """Methods for AI chat sessions (/api/chat/sessions)."""

    def __init__(
        self,
        base_url: str | None = None,
        token: str | None = None,
        *,
        timeout: float | httpx2.Timeout | NotGiven | None = NOT_GIVEN,
        max_retries: int = DEFAULT_MAX_RETRIES,
        total_timeout: float | None = None,
        max_response_size: int = DEFAULT_MAX_RESPONSE_SIZE,
        headers: Mapping[str, str] | None = None,
        http_client: httpx2.Client | None = None,
    ) -> None:
        """Make a client; use it as a context manager, or call `close()`.

        Args:
            base_url: The API's root URL, such as `https://clann.example`; defaults to `$CLANN_BASE_URL`.
            token: The bearer token; defaults to `$CLANN_TOKEN`. An empty string sends none.
            timeout: Seconds an attempt may take as a whole (connect, send, wait, read), an
                `httpx2.Timeout`, or None for no limit. Defaults to 30 s (5 s to connect), or to
                `http_client`'s own timeout when you pass one.
            max_retries: Retries after a connection error, a timeout, a 408, 429, 500, 502, 503 or 504;
                0 disables them.
            total_timeout: Seconds a call may take across all its attempts and waits; None for no limit.
            max_response_size: The largest response body read, in bytes; a larger one raises
                `ClannResponseError`. Defaults to 8 MiB.
            headers: Headers sent with every request, besides pyclann's own.
            http_client: Your own `httpx2.Client`. Its timeout, headers, proxies and event hooks are
                kept (pyclann's arguments win only when you pass them); it is not closed by `close()`.

        Raises:
            ClannConfigError: If there is no base URL, or a setting is not valid.
            TypeError: If a setting has the wrong type.
        """
        # From here on, only masked Secrets are in this frame: tracebacks show locals, and a base URL may
        # hold a password (refused, but not to be shown while refusing it).
        secret = None if token is None else Secret(token)
        url = None if base_url is None else Secret(base_url)
        del token, base_url
        self._setup(url, secret, http_client, timeout, max_retries, total_timeout, max_response_size, headers)
        if http_client is None:
            from ._http import client  # here: it imports httpcore2, which `import pyclann` need not

            # Ours: every socket operation of an attempt ends by its deadline.
            http_client, self._conn.shaped = client(), True
        self._http: httpx2.Client = http_client

    def with_options(
        self,
        *,
        timeout: float | httpx2.Timeout | NotGiven | None = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
        total_timeout: float | NotGiven | None = NOT_GIVEN,
        max_response_size: int | NotGiven = NOT_GIVEN,
        headers: Mapping[str, str] | None = None,
    ) -> Self:
        """A copy of this client with some settings changed, sharing its connections.

        `chat.with_options(timeout=5).get_session(session_id)` changes one call. Closing
        the copy leaves the shared connections open; closing this client closes them.

        Args:
            timeout: As in the constructor.
            max_retries: As in the constructor.
            total_timeout: As in the constructor.
            max_response_size: As in the constructor.
            headers: Headers to add to (or replace among) this client's.

        Returns:
            The new client.

        Raises:
            ClannConfigError: If a setting is not valid.
            TypeError: If a setting has the wrong type.
        """
        return self._copy(timeout, max_retries, total_timeout, max_response_size, headers)

    @property
    def with_raw_response(self) -> RawChatClient:
        """The same methods, each returning a `RawResponse`: the result, with its status, headers and request ID."""
        return RawChatClient(self)

    def _call(self, op: _operations.Operation[T]) -> Answer[T]:
        if self._conn.closed:
            raise self._closed(op)
        attempts = self._attempts(op)
        while True:
            left = attempts.time_left()
            # The attempt's time runs from its start: connecting, sending and the headers count.
            deadline = None if left is None else time.monotonic() + left
            cause: BaseException | None = None
            watched = _failures.Watch()
            try:
                # Only sockets shaped by pyclann read the deadline; a user's client is spared the context variable.
                with _deadline.attempt(deadline) if self._conn.shaped else _UNSHAPED:
                    response = self._http.send(self._request(op, left, watched), stream=True)
                    try:
                        body = self._body(response, deadline)
                        if response.is_stream_consumed:  # a mock transport's, read and decoded already
                            body.feed(response.content)
                        else:
                            for chunk in response.iter_raw():
                                body.feed(chunk)
                                if body.full:  # an error's body, read as far as it is kept
                                    break
                    finally:
                        response.close()
            except Exception as error:  # every failure below pyclann, mapped in _failures; BaseException passes
                cause = error
                failed, failure = _failures.attempt_error(
                    op.name, self._settings.base_url, error, left, closed=self._http.is_closed, watched=watched
                )
            else:
                outcome = self._outcome(op, response, body.content())
                if isinstance(outcome, Answer):
                    return outcome
                failed, failure = outcome
            wait = attempts.wait_after(failure)
            if wait is None:
                raise self._give_up(op, failed, cause, attempts)
            self._retrying(op, attempts, failed, wait)
            if (seconds := sleep_for(wait)) > 0:
                time.sleep(seconds)

    def _pages(
        self, page: Callable[[str | None], _operations.Operation[ops.Page[T]]]
    ) -> Generator[Answer[list[T]], None, None]:
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            answer = self._call(page(cursor))
            items, cursor = answer.parsed
            yield Answer(items, answer.response)
            if cursor is None:
                return
            if cursor in seen:  # a server going round in circles: the walk would never end
                raise self._stuck(answer)
            seen.add(cursor)

    def list_sessions(self, created_by: str, tree: str | None = None) -> list[ChatSession]:
        """Return chat sessions for a user, ordered by most-recently-updated.

        Walks every page (see `iter_sessions` for what a walk sees when sessions change during it).

        Args:
            created_by: Username of the session owner.
            tree: Filter by tree slug.

        Returns:
            List of :class:`ChatSession` objects.

        Raises:
            ClannAuthError: If not authenticated.
            ClannPermissionError: If the token may not act for `created_by`.
            ClannConnectionError: If the server could not be reached (`ClannTimeoutError`: in time).
            ClannAPIError: For any other error response.
        """
        return _joined(self._pages(ops.list_sessions(created_by, tree, None)))

    def iter_sessions(
        self, created_by: str, tree: str | None = None, *, page_size: int | None = None
    ) -> Generator[ChatSession, None, None]:
        """Yield a user's chat sessions, most recently updated first, fetching pages as they are needed.

        The walk is a keyset walk: it yields every session that exists throughout it and is
        not changed during it exactly once, and never yields a session twice. A session
        created, renamed or given a message during the walk moves ahead of it, and is not
        yielded (again); start a new walk to see it.

        Args:
            created_by: Username of the session owner.
            tree: Only the sessions of this tree.
            page_size: Sessions per request, 1 to 100; defaults to 100.

        Yields:
            ChatSession: Each one in turn; the first request is sent when the generator is first advanced.

        Raises:
            ClannInvalidArgumentError: If `page_size` is out of range (raised at once, before any request).
            ClannAuthError: If not authenticated.
            ClannPermissionError: If the token may not act for `created_by`.
            ClannConnectionError: If the server could not be reached (`ClannTimeoutError`: in time).
            ClannAPIError: For any other error response.
        """
        pages = self._pages(ops.list_sessions(created_by, tree, page_size))
        return (session for page in pages for session in page.parsed)

    def create_session(
        self, title: str, created_by: str, tree: str | None = None, *, idempotency_key: str | None = None
    ) -> ChatSession:
        """Create a new chat session.

        Args:
            title: Session title.
            created_by: Username of the session owner.
            tree: Tree slug to scope this session to.
            idempotency_key: The key that makes retries safe; one is made when absent. Pass
                `error.idempotency_key` to call again after an error without creating twice.

        Returns:
            The newly created :class:`ChatSession`.

        Raises:
            ClannAuthError: If not authenticated.
            ClannPermissionError: If the token may not act for `created_by`.
            ClannUnprocessableError: If a field is not valid (`.errors` names each).
            ClannConnectionError: If the server could not be reached (`ClannTimeoutError`: in time).
            ClannAPIError: For any other error response; every error says whether the session may have been created.
        """
        return self._call(ops.create_session(title, created_by, tree, idempotency_key)).parsed

    def get_session(self, session_id: str | ChatSession) -> ChatSession:
        """Return one chat session.

        Args:
            session_id: Full record ID, bare ULID, or the `ChatSession` itself.

        Returns:
            The :class:`ChatSession`, as it is now.

        Raises:
            ClannInvalidIdError: If `session_id` is not a session ID (no request is sent).
            ClannNotFoundError: If the session does not exist.
            ClannAuthError: If not authenticated.
            ClannConnectionError: If the server could not be reached (`ClannTimeoutError`: in time).
            ClannAPIError: For any other error response.
        """
        return self._call(ops.get_session(session_id)).parsed

    def update_session(
        self,
        session_id: str | ChatSession,
        *,
        title: str | NotGiven = NOT_GIVEN,
        tree: str | NotGiven | None = NOT_GIVEN,
        idempotency_key: str | None = None,
    ) -> ChatSession:
        """Rename a chat session, or change or clear its tree.

        Fields not passed are left as they are; `tree=None` clears the tree. A change sets the
        session's `updated_at`, so it moves to the top of `list_sessions`; values it already
        has change nothing.

        Args:
            session_id: Full record ID, bare ULID, or the `ChatSession` itself.
            title: The new title.
            tree: The new tree slug, or None to clear it.
            idempotency_key: The key that makes retries safe; one is made when absent.

        Returns:
            The :class:`ChatSession`, as changed.

        Raises:
            ClannInvalidArgumentError: If neither `title` nor `tree` is given (no request is sent).
            ClannInvalidIdError: If `session_id` is not a session ID (no request is sent).
            ClannNotFoundError: If the session does not exist.
            ClannUnprocessableError: If a field is not valid (`.errors` names each).
            ClannAuthError: If not authenticated.
            ClannConnectionError: If the server could not be reached (`ClannTimeoutError`: in time).
            ClannAPIError: For any other error response; every error says whether the change may have been made.
        """
        return self._call(ops.update_session(session_id, title, tree, idempotency_key)).parsed

    def delete_session(self, session_id: str | ChatSession, *, idempotency_key: str | None = None) -> None:
        """Delete a chat session and all its messages.

        A retry learns from the server's replay that an earlier attempt deleted the session;
        a 404 is never taken for success.

        Args:
            session_id: Full record ID (``chat_session:...``) or bare ULID, or the `ChatSession` itself.
            idempotency_key: The key that makes retries safe; one is made when absent.

        Raises:
            ClannNotFoundError: If the session does not exist.
            ClannAuthError: If not authenticated.
            ClannInvalidIdError: If `session_id` is not a session ID (no request is sent).
            ClannConnectionError: If the server could not be reached (`ClannTimeoutError`: in time).
            ClannAPIError: For any other error response; every error says whether the session may have been deleted.
        """
        self._call(ops.delete_session(session_id, idempotency_key))

    def list_messages(self, session_id: str | ChatSession) -> list[ChatMessage]:
        """Return all messages in a session, ordered by creation time.

        Args:
            session_id: Full record ID or bare ULID, or the `ChatSession` itself.

        Returns:
            List of :class:`ChatMessage` objects.

        Raises:
            ClannNotFoundError: If the session does not exist.
            ClannAuthError: If not authenticated.
            ClannInvalidIdError: If `session_id` is not a session ID (no request is sent).
            ClannConnectionError: If the server could not be reached (`ClannTimeoutError`: in time).
            ClannAPIError: For any other error response.
        """
        return _joined(self._pages(ops.list_messages(session_id, None, None)))

    def iter_messages(
        self, session_id: str | ChatSession, *, after: str | ChatMessage | None = None, page_size: int | None = None
    ) -> Generator[ChatMessage, None, None]:
        """Yield a session's messages, oldest first, fetching pages as they are needed.

        With `after`, only the messages after that one: call again with the last message you
        have to poll for new ones. Messages appended during the walk are yielded too.

        Args:
            session_id: Full record ID, bare ULID, or the `ChatSession` itself.
            after: A message of this session (its ID, bare ULID, or the `ChatMessage`).
            page_size: Messages per request, 1 to 100; defaults to 100.

        Yields:
            ChatMessage: Each one in turn; the first request is sent when the generator is first advanced.

        Raises:
            ClannInvalidIdError: If `session_id` or `after` is not an ID of its kind (raised at once).
            ClannInvalidArgumentError: If `page_size` is out of range (raised at once).
            ClannNotFoundError: If the session does not exist.
            ClannBadRequestError: If `after` is not a message of this session.
            ClannAuthError: If not authenticated.
            ClannConnectionError: If the server could not be reached (`ClannTimeoutError`: in time).
            ClannAPIError: For any other error response.
        """
        pages = self._pages(ops.list_messages(session_id, after, page_size))
        return (message for page in pages for message in page.parsed)

    def append_message(
        self, session_id: str | ChatSession, role: str, content: str, *, idempotency_key: str | None = None
    ) -> ChatMessage:
        """Append a message to a chat session.

        Also updates session.updated_at so the session sorts to the top of
        :meth:`list_sessions`.

        Args:
            session_id: Full record ID or bare ULID, or the `ChatSession` itself.
            role: ``user``, ``assistant`` or ``system`` (a `Role`), or a role your server knows.
            content: Message text.
            idempotency_key: The key that makes retries safe; one is made when absent. Pass
                `error.idempotency_key` to call again after an error without appending twice.

        Returns:
            The created :class:`ChatMessage`.

        Raises:
            ClannNotFoundError: If the session does not exist.
            ClannAuthError: If not authenticated.
            ClannInvalidIdError: If `session_id` is not a session ID (no request is sent).
            ClannInvalidArgumentError: If `content` cannot be sent, such as a lone surrogate (no request is sent).
            ClannUnprocessableError: If a field is not valid, such as an unknown role (`.errors` names each).
            ClannConnectionError: If the server could not be reached (`ClannTimeoutError`: in time).
            ClannAPIError: For any other error response; every error says whether the message may have been stored.
        """
        return self._call(ops.append_message(session_id, role, content, idempotency_key)).parsed

    def get_message(self, session_id: str | ChatSession, message_id: str | ChatMessage) -> ChatMessage:
        """Return one message of a chat session.

        Args:
            session_id: Full record ID, bare ULID, or the `ChatSession` itself.
            message_id: The message's full record ID, bare ULID, or the `ChatMessage` itself.

        Returns:
            The :class:`ChatMessage`.

        Raises:
            ClannInvalidIdError: If an ID is not of its kind (no request is sent).
            ClannNotFoundError: If the session or the message does not exist.
            ClannAuthError: If not authenticated.
            ClannConnectionError: If the server could not be reached (`ClannTimeoutError`: in time).
            ClannAPIError: For any other error response.
        """
        return self._call(ops.get_message(session_id, message_id)).parsed

    def close(self) -> None:
        """Close the HTTP connections, unless the `httpx2.Client` was yours or this is a `with_options` copy."""
        if self._owns_http and not self._conn.closed:
            self._conn.closed = True
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class AsyncChatClient(_BaseClient):
    """Methods for AI chat sessions (/api/chat/sessions), with `async def`."""

    def __init__(
        self,
        base_url: str | None = None,
        token: str | None = None,
        *,
        timeout: float | httpx2.Timeout | NotGiven | None = NOT_GIVEN,
        max_retries: int = DEFAULT_MAX_RETRIES,
        total_timeout: float | None = None,
        max_response_size: int = DEFAULT_MAX_RESPONSE_SIZE,
        headers: Mapping[str, str] | None = None,
        http_client: httpx2.AsyncClient | None = None,
    ) -> None:
        """Make a client; use it as an async context manager, or call `aclose()`.

        One client serves one event loop: its connections belong to the loop it is first used in.

        Args:
            base_url: The API's root URL, such as `https://clann.example`; defaults to `$CLANN_BASE_URL`.
            token: The bearer token; defaults to `$CLANN_TOKEN`. An empty string sends none.
            timeout: Seconds an attempt may take as a whole (connect, send, wait, read), an
                `httpx2.Timeout`, or None for no limit. Defaults to 30 s (5 s to connect), or to
                `http_client`'s own timeout when you pass one.
            max_retries: Retries after a connection error, a timeout, a 408, 429, 500, 502, 503 or 504;
                0 disables them.
            total_timeout: Seconds a call may take across all its attempts and waits; None for no limit.
            max_response_size: The largest response body read, in bytes; a larger one raises
                `ClannResponseError`. Defaults to 8 MiB.
            headers: Headers sent with every request, besides pyclann's own.
            http_client: Your own `httpx2.AsyncClient`. Its timeout, headers, proxies and event hooks
                are kept (pyclann's arguments win only when you pass them); it is not closed by `aclose()`.

        Raises:
            ClannConfigError: If there is no base URL, or a setting is not valid.
            TypeError: If a setting has the wrong type.
        """
        # From here on, only masked Secrets are in this frame: tracebacks show locals, and a base URL may
        # hold a password (refused, but not to be shown while refusing it).
        secret = None if token is None else Secret(token)
        url = None if base_url is None else Secret(base_url)
        del token, base_url
        self._setup(url, secret, http_client, timeout, max_retries, total_timeout, max_response_size, headers)
        self._http: httpx2.AsyncClient = httpx2.AsyncClient() if http_client is None else http_client

    def with_options(
        self,
        *,
        timeout: float | httpx2.Timeout | NotGiven | None = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
        total_timeout: float | NotGiven | None = NOT_GIVEN,
        max_response_size: int | NotGiven = NOT_GIVEN,
        headers: Mapping[str, str] | None = None,
    ) -> Self:
        """A copy of this client with some settings changed, sharing its connections.

        `chat.with_options(timeout=5).get_session(session_id)` changes one call. Closing
        the copy leaves the shared connections open; closing this client closes them.

        Args:
            timeout: As in the constructor.
            max_retries: As in the constructor.
            total_timeout: As in the constructor.
            max_response_size: As in the constructor.
            headers: Headers to add to (or replace among) this client's.

        Returns:
            The new client.

        Raises:
            ClannConfigError: If a setting is not valid.
            TypeError: If a setting has the wrong type.
        """
        return self._copy(timeout, max_retries, total_timeout, max_response_size, headers)

    @property
    def with_raw_response(self) -> AsyncRawChatClient:
        """The same methods, each returning a `RawResponse`: the result, with its status, headers and request ID."""
        return AsyncRawChatClient(self)

    async def _call(self, op: _operations.Operation[T]) -> Answer[T]:
        import anyio  # here, not at the top: it costs an import that sync programs never need

        if self._conn.closed:
            raise self._closed(op)
        self._check_loop(op)
        attempts = self._attempts(op)
        while True:
            left = attempts.time_left()
            cause: BaseException | None = None
            watched = _failures.AsyncWatch()
            try:
                with anyio.fail_after(left):
                    response = await self._http.send(self._request(op, left, watched), stream=True)
                    try:
                        body = self._body(response, None)
                        if response.is_stream_consumed:  # a mock transport's, read and decoded already
                            body.feed(response.content)
                        else:
                            async for chunk in response.aiter_raw():
                                body.feed(chunk)
                                if body.full:  # an error's body, read as far as it is kept
                                    break
                    finally:
                        await response.aclose()
            except Exception as error:  # every failure below pyclann, mapped in _failures; BaseException passes
                cause = error
                failed, failure = _failures.attempt_error(
                    op.name, self._settings.base_url, error, left, closed=self._http.is_closed, watched=watched
                )
            else:
                outcome = self._outcome(op, response, body.content())
                if isinstance(outcome, Answer):
                    return outcome
                failed, failure = outcome
            wait = attempts.wait_after(failure)
            if wait is None:
                raise self._give_up(op, failed, cause, attempts)
            self._retrying(op, attempts, failed, wait)
            if (seconds := sleep_for(wait)) > 0:
                await anyio.sleep(seconds)

    def _check_loop(self, op: _operations.Operation[Any]) -> None:
        import asyncio

        try:
            loop: object | None = asyncio.get_running_loop()
        except RuntimeError:  # not asyncio (trio, say): httpx2's own checks apply
            return
        if self._conn.loop is None:
            self._conn.loop = loop
        elif self._conn.loop is not loop:
            error = ClannUsageError(
                f"{op.name}: this AsyncChatClient was first used in another event loop, which its connections"
                " belong to; make one client per event loop"
            )
            raise self._give_up(op, error, None, self._attempts(op))

    async def _pages(
        self, page: Callable[[str | None], _operations.Operation[ops.Page[T]]]
    ) -> AsyncGenerator[Answer[list[T]], None]:
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            answer = await self._call(page(cursor))
            items, cursor = answer.parsed
            yield Answer(items, answer.response)
            if cursor is None:
                return
            if cursor in seen:  # a server going round in circles: the walk would never end
                raise self._stuck(answer)
            seen.add(cursor)

    async def list_sessions(self, created_by: str, tree: str | None = None) -> list[ChatSession]:
        """Return chat sessions for a user, ordered by most-recently-updated.

        Walks every page (see `iter_sessions` for what a walk sees when sessions change during it).

        Args:
            created_by: Username of the session owner.
            tree: Filter by tree slug.

        Returns:
            List of :class:`ChatSession` objects.

        Raises:
            ClannAuthError: If not authenticated.
            ClannPermissionError: If the token may not act for `created_by`.
            ClannConnectionError: If the server could not be reached (`ClannTimeoutError`: in time).
            ClannAPIError: For any other error response.
        """
        return await _ajoined(self._pages(ops.list_sessions(created_by, tree, None)))

    def iter_sessions(
        self, created_by: str, tree: str | None = None, *, page_size: int | None = None
    ) -> AsyncGenerator[ChatSession, None]:
        """Yield a user's chat sessions, most recently updated first, fetching pages as they are needed.

        Use it with `async for`. The walk is a keyset walk: it yields every session that exists
        throughout it and is not changed during it exactly once, and never yields a session
        twice. A session created, renamed or given a message during the walk moves ahead of
        it, and is not yielded (again); start a new walk to see it.

        Args:
            created_by: Username of the session owner.
            tree: Only the sessions of this tree.
            page_size: Sessions per request, 1 to 100; defaults to 100.

        Yields:
            ChatSession: Each one in turn; the first request is sent when the generator is first advanced.

        Raises:
            ClannInvalidArgumentError: If `page_size` is out of range (raised at once, before any request).
            ClannAuthError: If not authenticated.
            ClannPermissionError: If the token may not act for `created_by`.
            ClannConnectionError: If the server could not be reached (`ClannTimeoutError`: in time).
            ClannAPIError: For any other error response.
        """
        pages = self._pages(ops.list_sessions(created_by, tree, page_size))
        return (session async for page in pages for session in page.parsed)

    async def create_session(
        self, title: str, created_by: str, tree: str | None = None, *, idempotency_key: str | None = None
    ) -> ChatSession:
        """Create a new chat session.

        Args:
            title: Session title.
            created_by: Username of the session owner.
            tree: Tree slug to scope this session to.
            idempotency_key: The key that makes retries safe; one is made when absent. Pass
                `error.idempotency_key` to call again after an error without creating twice.

        Returns:
            The newly created :class:`ChatSession`.

        Raises:
            ClannAuthError: If not authenticated.
            ClannPermissionError: If the token may not act for `created_by`.
            ClannUnprocessableError: If a field is not valid (`.errors` names each).
            ClannConnectionError: If the server could not be reached (`ClannTimeoutError`: in time).
            ClannAPIError: For any other error response; every error says whether the session may have been created.
        """
        return (await self._call(ops.create_session(title, created_by, tree, idempotency_key))).parsed

    async def get_session(self, session_id: str | ChatSession) -> ChatSession:
        """Return one chat session.

        Args:
            session_id: Full record ID, bare ULID, or the `ChatSession` itself.

        Returns:
            The :class:`ChatSession`, as it is now.

        Raises:
            ClannInvalidIdError: If `session_id` is not a session ID (no request is sent).
            ClannNotFoundError: If the session does not exist.
            ClannAuthError: If not authenticated.
            ClannConnectionError: If the server could not be reached (`ClannTimeoutError`: in time).
            ClannAPIError: For any other error response.
        """
        return (await self._call(ops.get_session(session_id))).parsed

    async def update_session(
        self,
        session_id: str | ChatSession,
        *,
        title: str | NotGiven = NOT_GIVEN,
        tree: str | NotGiven | None = NOT_GIVEN,
        idempotency_key: str | None = None,
    ) -> ChatSession:
        """Rename a chat session, or change or clear its tree.

        Fields not passed are left as they are; `tree=None` clears the tree. A change sets the
        session's `updated_at`, so it moves to the top of `list_sessions`; values it already
        has change nothing.

        Args:
            session_id: Full record ID, bare ULID, or the `ChatSession` itself.
            title: The new title.
            tree: The new tree slug, or None to clear it.
            idempotency_key: The key that makes retries safe; one is made when absent.

        Returns:
            The :class:`ChatSession`, as changed.

        Raises:
            ClannInvalidArgumentError: If neither `title` nor `tree` is given (no request is sent).
            ClannInvalidIdError: If `session_id` is not a session ID (no request is sent).
            ClannNotFoundError: If the session does not exist.
            ClannUnprocessableError: If a field is not valid (`.errors` names each).
            ClannAuthError: If not authenticated.
            ClannConnectionError: If the server could not be reached (`ClannTimeoutError`: in time).
            ClannAPIError: For any other error response; every error says whether the change may have been made.
        """
        return (await self._call(ops.update_session(session_id, title, tree, idempotency_key))).parsed

    async def delete_session(self, session_id: str | ChatSession, *, idempotency_key: str | None = None) -> None:
        """Delete a chat session and all its messages.

        A retry learns from the server's replay that an earlier attempt deleted the session;
        a 404 is never taken for success.

        Args:
            session_id: Full record ID (``chat_session:...``) or bare ULID, or the `ChatSession` itself.
            idempotency_key: The key that makes retries safe; one is made when absent.

        Raises:
            ClannNotFoundError: If the session does not exist.
            ClannAuthError: If not authenticated.
            ClannInvalidIdError: If `session_id` is not a session ID (no request is sent).
            ClannConnectionError: If the server could not be reached (`ClannTimeoutError`: in time).
            ClannAPIError: For any other error response; every error says whether the session may have been deleted.
        """
        await self._call(ops.delete_session(session_id, idempotency_key))

    async def list_messages(self, session_id: str | ChatSession) -> list[ChatMessage]:
        """Return all messages in a session, ordered by creation time.

        Args:
            session_id: Full record ID or bare ULID, or the `ChatSession` itself.

        Returns:
            List of :class:`ChatMessage` objects.

        Raises:
            ClannNotFoundError: If the session does not exist.
            ClannAuthError: If not authenticated.
            ClannInvalidIdError: If `session_id` is not a session ID (no request is sent).
            ClannConnectionError: If the server could not be reached (`ClannTimeoutError`: in time).
            ClannAPIError: For any other error response.
        """
        return await _ajoined(self._pages(ops.list_messages(session_id, None, None)))

    def iter_messages(
        self, session_id: str | ChatSession, *, after: str | ChatMessage | None = None, page_size: int | None = None
    ) -> AsyncGenerator[ChatMessage, None]:
        """Yield a session's messages, oldest first, fetching pages as they are needed.

        Use it with `async for`. With `after`, only the messages after that one: call again
        with the last message you have to poll for new ones. Messages appended during the
        walk are yielded too.

        Args:
            session_id: Full record ID, bare ULID, or the `ChatSession` itself.
            after: A message of this session (its ID, bare ULID, or the `ChatMessage`).
            page_size: Messages per request, 1 to 100; defaults to 100.

        Yields:
            ChatMessage: Each one in turn; the first request is sent when the generator is first advanced.

        Raises:
            ClannInvalidIdError: If `session_id` or `after` is not an ID of its kind (raised at once).
            ClannInvalidArgumentError: If `page_size` is out of range (raised at once).
            ClannNotFoundError: If the session does not exist.
            ClannBadRequestError: If `after` is not a message of this session.
            ClannAuthError: If not authenticated.
            ClannConnectionError: If the server could not be reached (`ClannTimeoutError`: in time).
            ClannAPIError: For any other error response.
        """
        pages = self._pages(ops.list_messages(session_id, after, page_size))
        return (message async for page in pages for message in page.parsed)

    async def append_message(
        self, session_id: str | ChatSession, role: str, content: str, *, idempotency_key: str | None = None
    ) -> ChatMessage:
        """Append a message to a chat session.

        Also updates session.updated_at so the session sorts to the top of
        :meth:`list_sessions`.

        Args:
            session_id: Full record ID or bare ULID, or the `ChatSession` itself.
            role: ``user``, ``assistant`` or ``system`` (a `Role`), or a role your server knows.
            content: Message text.
            idempotency_key: The key that makes retries safe; one is made when absent. Pass
                `error.idempotency_key` to call again after an error without appending twice.

        Returns:
            The created :class:`ChatMessage`.

        Raises:
            ClannNotFoundError: If the session does not exist.
            ClannAuthError: If not authenticated.
            ClannInvalidIdError: If `session_id` is not a session ID (no request is sent).
            ClannInvalidArgumentError: If `content` cannot be sent, such as a lone surrogate (no request is sent).
            ClannUnprocessableError: If a field is not valid, such as an unknown role (`.errors` names each).
            ClannConnectionError: If the server could not be reached (`ClannTimeoutError`: in time).
            ClannAPIError: For any other error response; every error says whether the message may have been stored.
        """
        return (await self._call(ops.append_message(session_id, role, content, idempotency_key))).parsed

    async def get_message(self, session_id: str | ChatSession, message_id: str | ChatMessage) -> ChatMessage:
        """Return one message of a chat session.

        Args:
            session_id: Full record ID, bare ULID, or the `ChatSession` itself.
            message_id: The message's full record ID, bare ULID, or the `ChatMessage` itself.

        Returns:
            The :class:`ChatMessage`.

        Raises:
            ClannInvalidIdError: If an ID is not of its kind (no request is sent).
            ClannNotFoundError: If the session or the message does not exist.
            ClannAuthError: If not authenticated.
            ClannConnectionError: If the server could not be reached (`ClannTimeoutError`: in time).
            ClannAPIError: For any other error response.
        """
        return (await self._call(ops.get_message(session_id, message_id))).parsed

    async def aclose(self) -> None:
        """Close the HTTP connections, unless the `httpx2.AsyncClient` was yours or this is a `with_options` copy."""
        if self._owns_http and not self._conn.closed:
            self._conn.closed = True
            try:
                await self._http.aclose()
            except RuntimeError as error:  # "Event loop is closed": its connections belong to another loop
                raise ClannUsageError(
                    f"aclose: {error}; an AsyncChatClient's connections belong to the event loop it was first"
                    " used in: close it there"
                ) from None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
