# Generated from pyclann/_async_client.py by scripts/unasync.py (make generate): do not edit.
"""ChatClient and RawChatClient: each method of a client and of its raw view, written once.

`_sync_client.py` (ChatClient, RawChatClient) is generated from `_async_client.py` by
`scripts/unasync.py` (`make generate`; `make check-generated` fails when it is stale): edit
the async module only. A call's I/O is all that differs, and its primitives (opening and
closing the connections, an attempt's deadline, sleeping between attempts, the event-loop
check) stand in `_io`, each beside its twin; the rest is in `_base_client`.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeVar

import httpx2

from . import _failures, _follow, _io, _operations
from . import _operations as ops
from ._answer import Answer, raw
from ._base_client import _BaseClient, kept
from ._body import Body
from ._config import DEFAULT_MAX_RESPONSE_SIZE, DEFAULT_MAX_RETRIES, Secret
from ._retry import sleep_for
from ._types import NOT_GIVEN, NotGiven
from .models import ChatMessage, ChatSession, MessageRole
from .pages import MessagePage, SessionPage

if TYPE_CHECKING:
    from ._raw import RawResponse

__all__ = ["ChatClient", "RawChatClient"]

T = TypeVar("T")


def _joined(pages: Iterable[Answer[SessionPage]] | Iterable[Answer[MessagePage]]) -> list[Any]:
    """Every page's records in one list, each page added at once (not record by record)."""
    records: list[Any] = []
    for page in pages:
        records += page.parsed.data
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

        One client serves every thread: share it rather than make one per thread.

        Args:
            base_url: The API's root URL, such as `https://clann.example`; defaults to `$CLANN_BASE_URL`.
            token: The bearer token; defaults to `$CLANN_TOKEN`. An empty string sends none.
            timeout: Seconds an attempt may take as a whole (connect, send, wait, read), an
                `httpx2.Timeout`, or None for no limit. Defaults to 30 s (5 s to connect), or to
                `http_client`'s own timeout when you pass one.
            max_retries: Retries after a connection error, a timeout, a 408, 409, 429, 500, 502, 503 or 504;
                0 disables them.
            total_timeout: Seconds a call may take across all its attempts and waits; None for no limit.
            max_response_size: The largest response body read, in bytes; a larger one raises
                `ClannResponseError`. Defaults to 8 MiB.
            headers: Headers sent with every request, besides pyclann's own.
            http_client: Your own `httpx2.Client`. Its timeout, headers, proxies and event hooks
                are kept (pyclann's arguments win only when you pass them); it is not closed by `close()`.

        Raises:
            ClannConfigError: If there is no base URL, or a setting is not valid.
            TypeError: If a setting has the wrong type.
        """
        # From here on, only masked Secrets are in this frame: tracebacks show locals, and a base URL may
        # hold a password (refused, but not to be shown while refusing it).
        secret = None if token is None else Secret(token)
        url = None if base_url is None else Secret(base_url)
        del token, base_url
        self._setup(
            url,
            secret,
            http_client,
            httpx2.Client,
            timeout,
            max_retries,
            total_timeout,
            max_response_size,
            headers,
        )
        if http_client is None:
            http_client, self._conn.shaped = _io.http_client()
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

    def _call(self, op: _operations.Operation[T], deadline: float | None = None) -> Answer[T]:
        """Send `op`, retrying as the rules say, by `deadline` (a walk's; else the call's own total_timeout)."""
        if self._conn.closed:
            raise self._closed(op)
        self._check_loop(op, _io.running_loop())
        attempts = self._attempts(op, deadline)
        if attempts.out_of_time:  # a walk's next page, its time spent on the pages before
            raise self._out_of_time(op, attempts)
        while True:
            left = attempts.time_left()
            cause: BaseException | None = None
            scope, ends = _io.attempt(left, self._conn.shaped)
            watched = _failures.Watch()
            request: httpx2.Request | None = None
            try:
                with scope:
                    request = self._request(op, left, watched)
                    response = self._http.send(request, stream=True)
                    try:
                        body = self._read(response, ends)
                    finally:
                        response.close()
            except Exception as error:  # every failure below pyclann, mapped in _failures; BaseException passes
                cause = error
                failed, failure = _failures.attempt_error(
                    op.name,
                    self._settings.base_url,
                    error,
                    left,
                    closed=self._http.is_closed,
                    sent=request,
                    watched=watched,
                )
            except BaseException:  # cancelled, interrupted: a write's key stays in doubt once it may have been sent
                self._stopped(op, attempts, watched)
                raise
            else:
                outcome = self._outcome(op, response, body.content())
                if isinstance(outcome, Answer):
                    return outcome
                failed, failure = outcome
            if self._conn.closed:  # closed under the call (a follow's held request, say): not a network failure
                attempts.may_have_landed |= failure.in_doubt
                raise self._closed(op, attempts)
            wait = attempts.wait_after(failure)
            if wait is None:
                raise self._give_up(op, failed, cause, attempts)
            self._retrying(op, attempts, failed, wait)
            if (seconds := sleep_for(wait)) > 0:
                try:
                    _io.sleep(seconds)
                except BaseException:  # stopped between attempts: in doubt if an attempt so far may have landed
                    self._stopped(op, attempts, None)
                    raise

    def _read(self, response: httpx2.Response, ends: float | None) -> Body:
        """The response's body, as far as it is kept.

        A frame of its own, gone once it returns: a chunk as it came off the wire (a server may
        echo the request's token in it) is never among the locals of a frame an error is raised in.
        """
        body = self._body(response, ends)
        if response.is_stream_consumed:  # a mock transport's, read and decoded already
            body.feed(response.content)
        else:
            for chunk in response.iter_raw():
                body.feed(chunk)
                if body.full:  # an error's body, read as far as it is kept
                    break
        return body

    def _pages(
        self, page: ops.Pages[ops.P], most: int | None = None, *, whole: bool = False
    ) -> Generator[Answer[ops.P], None, None]:
        """A listing's pages, to its end or its `most` records; `whole`: under one deadline (a `list_*` call's)."""
        deadline = self._walk_deadline() if whole else None
        cursor: str | None = None
        seen: set[str] = set()
        while most != 0:
            answer = self._call(page(cursor, most), deadline)
            if most is not None:
                answer, most = kept(answer, most)
            yield answer
            cursor = ops.following(answer.parsed)
            if cursor is None or most == 0:
                return
            if cursor in seen:  # a server going round in circles: the walk would never end
                raise self._stuck(answer)
            seen.add(cursor)

    def list_sessions(
        self, created_by: str, tree: str | None = None, *, max_items: int | None = None
    ) -> list[ChatSession]:
        """Return chat sessions for a user, ordered by most-recently-updated.

        Walks every page (see `iter_sessions` for what a walk sees when sessions change during it).
        The client's `total_timeout` bounds the whole walk: every page, retry and wait.

        Args:
            created_by: Username of the session owner.
            tree: Filter by tree slug.
            max_items: Return at most this many, the first in the listing's order, and ask for no
                more; None (the default) for every one.

        Returns:
            List of :class:`ChatSession` objects.

        Raises:
            ClannInvalidArgumentError: If `max_items` is negative (no request is sent).
            ClannAuthError: If not authenticated.
            ClannPermissionError: If the token may not act for `created_by`.
            ClannConnectionError: If the server could not be reached (`ClannTimeoutError`: in time).
            ClannAPIError: For any other error response.
        """
        pages = ops.list_sessions(created_by, tree, None)
        sessions: list[ChatSession] = _joined(self._pages(pages, ops.max_items(max_items), whole=True))
        return sessions

    def list_sessions_page(
        self, created_by: str, tree: str | None = None, *, cursor: str | None = None, page_size: int | None = None
    ) -> SessionPage:
        """Return one page of a user's chat sessions, most recently updated first, and the cursor of the next.

        For a "load more" that keeps no state: hand `page.next_cursor` to whoever asks for
        more, and call again with it as `cursor`. What a walk sees when sessions change
        during it is said in `iter_sessions`.

        Args:
            created_by: Username of the session owner.
            tree: Only the sessions of this tree.
            cursor: A page's `next_cursor`, to return the page after it; None for the first page.
            page_size: Sessions per page, 1 to 100; defaults to 100.

        Returns:
            The :class:`SessionPage`: its sessions, `has_more`, and `next_cursor`.

        Raises:
            ClannInvalidArgumentError: If `cursor` is not a cursor or `page_size` is out of range (no request is sent).
            ClannBadRequestError: If the server does not take `cursor` (not one of its cursors).
            ClannAuthError: If not authenticated.
            ClannPermissionError: If the token may not act for `created_by`.
            ClannConnectionError: If the server could not be reached (`ClannTimeoutError`: in time).
            ClannAPIError: For any other error response.
        """
        pages = ops.list_sessions(created_by, tree, page_size, cursor, "list_sessions_page")
        return self._call(pages(None, None)).parsed

    def iter_sessions(
        self,
        created_by: str,
        tree: str | None = None,
        *,
        page_size: int | None = None,
        cursor: str | None = None,
        max_items: int | None = None,
    ) -> Generator[ChatSession, None, None]:
        """Yield a user's chat sessions, most recently updated first, fetching pages as they are needed.

        The walk lists the sessions as they were when it began (its first page): it yields
        every session that exists throughout it exactly once, and never yields a session
        twice. A session renamed or given a message during the walk keeps its place and is
        yielded as it was then; one created during the walk is not yielded, one deleted is
        not yielded after its deletion. Start a new walk to see such changes. Each page is a
        call of its own: the client's `total_timeout` bounds each page's request, retries and
        waits, so no step of the walk takes longer; the time between steps is yours.

        Args:
            created_by: Username of the session owner.
            tree: Only the sessions of this tree.
            page_size: Sessions per request, 1 to 100; defaults to 100.
            cursor: A page's `next_cursor` (from `list_sessions_page`, say), to resume the walk after that
                page; None to start from the first.
            max_items: Yield at most this many, and ask for no more; None (the default) for every one.

        Yields:
            ChatSession: Each one in turn; the first request is sent when the generator is first advanced.

        Raises:
            ClannInvalidArgumentError: If `cursor` is not a cursor, or `page_size` or `max_items` is out of
                range (raised at once, before any request).
            ClannBadRequestError: If the server does not take `cursor` (not one of its cursors).
            ClannAuthError: If not authenticated.
            ClannPermissionError: If the token may not act for `created_by`.
            ClannConnectionError: If the server could not be reached (`ClannTimeoutError`: in time).
            ClannAPIError: For any other error response.
        """
        pages = self._pages(ops.list_sessions(created_by, tree, page_size, cursor), ops.max_items(max_items))
        return (session for page in pages for session in page.parsed.data)

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

    def list_messages(self, session_id: str | ChatSession, *, max_items: int | None = None) -> list[ChatMessage]:
        """Return all messages in a session, ordered by creation time.

        Walks every page; the client's `total_timeout` bounds the whole walk: every page, retry and wait.

        Args:
            session_id: Full record ID or bare ULID, or the `ChatSession` itself.
            max_items: Return at most this many, the oldest, and ask for no more; None (the default)
                for every one.

        Returns:
            List of :class:`ChatMessage` objects.

        Raises:
            ClannInvalidArgumentError: If `max_items` is negative (no request is sent).
            ClannNotFoundError: If the session does not exist.
            ClannAuthError: If not authenticated.
            ClannInvalidIdError: If `session_id` is not a session ID (no request is sent).
            ClannConnectionError: If the server could not be reached (`ClannTimeoutError`: in time).
            ClannAPIError: For any other error response.
        """
        pages = ops.list_messages(session_id, None, None)
        messages: list[ChatMessage] = _joined(self._pages(pages, ops.max_items(max_items), whole=True))
        return messages

    def list_messages_page(
        self, session_id: str | ChatSession, *, after: str | ChatMessage | None = None, page_size: int | None = None
    ) -> MessagePage:
        """Return one page of a session's messages, oldest first, and what resumes after it.

        For a "load more" that keeps no state: hand `page.next_after` to whoever asks for
        more, and call again with it as `after`. An empty page means nothing new yet; its
        `next_after` is the `after` it was asked with, so polling with it never starts over.

        Args:
            session_id: Full record ID, bare ULID, or the `ChatSession` itself.
            after: A message of this session (its ID, bare ULID, or the `ChatMessage`), to return
                the messages after it; None for the first page.
            page_size: Messages per page, 1 to 100; defaults to 100.

        Returns:
            The :class:`MessagePage`: its messages, `has_more`, and `next_after` (the last message's ID).

        Raises:
            ClannInvalidIdError: If `session_id` or `after` is not an ID of its kind (no request is sent).
            ClannInvalidArgumentError: If `page_size` is out of range (no request is sent).
            ClannNotFoundError: If the session does not exist.
            ClannBadRequestError: If `after` is not a message of this session.
            ClannAuthError: If not authenticated.
            ClannConnectionError: If the server could not be reached (`ClannTimeoutError`: in time).
            ClannAPIError: For any other error response.
        """
        pages = ops.list_messages(session_id, after, page_size, "list_messages_page")
        return self._call(pages(None, None)).parsed

    def iter_messages(
        self,
        session_id: str | ChatSession,
        *,
        after: str | ChatMessage | None = None,
        page_size: int | None = None,
        max_items: int | None = None,
    ) -> Generator[ChatMessage, None, None]:
        """Yield a session's messages, oldest first, fetching pages as they are needed.

        With `after`, only the messages after that one: call again with the last message you
        have to poll for new ones. Messages appended during the walk are yielded too. Each
        page is a call of its own: the client's `total_timeout` bounds each page's request,
        retries and waits, so no step of the walk takes longer; the time between steps is yours.

        Args:
            session_id: Full record ID, bare ULID, or the `ChatSession` itself.
            after: A message of this session (its ID, bare ULID, or the `ChatMessage`).
            page_size: Messages per request, 1 to 100; defaults to 100.
            max_items: Yield at most this many, and ask for no more; None (the default) for every one.

        Yields:
            ChatMessage: Each one in turn; the first request is sent when the generator is first advanced.

        Raises:
            ClannInvalidIdError: If `session_id` or `after` is not an ID of its kind (raised at once).
            ClannInvalidArgumentError: If `page_size` or `max_items` is out of range (raised at once).
            ClannNotFoundError: If the session does not exist.
            ClannBadRequestError: If `after` is not a message of this session.
            ClannAuthError: If not authenticated.
            ClannConnectionError: If the server could not be reached (`ClannTimeoutError`: in time).
            ClannAPIError: For any other error response.
        """
        pages = self._pages(ops.list_messages(session_id, after, page_size), ops.max_items(max_items))
        return (message for page in pages for message in page.parsed.data)

    def append_message(
        self, session_id: str | ChatSession, role: MessageRole, content: str, *, idempotency_key: str | None = None
    ) -> ChatMessage:
        """Append a message to a chat session.

        Also updates session.updated_at so the session sorts to the top of
        :meth:`list_sessions`.

        Args:
            session_id: Full record ID or bare ULID, or the `ChatSession` itself.
            role: A `Role` or its value (``user``, ``assistant``, ``system``), or a role your server
                knows that this client does not, as `CustomRole("tool")`.
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

    def follow_messages(
        self,
        session_id: str | ChatSession,
        *,
        after: str | ChatMessage | None = None,
        wait: int = _follow.DEFAULT_WAIT,
        page_size: int | None = None,
    ) -> Generator[ChatMessage, None, None]:
        """Yield a session's messages as they are appended, oldest first, until you stop.

        Each request asks the server to hold it until a message comes after the last one
        yielded, or `wait` seconds pass (long polling): a new message arrives within
        milliseconds, and an idle follow sends at most one request per `wait`. A lost
        connection, a timeout, a 429 or a 5xx (a server restarting) is retried with capped
        exponential backoff for as long as the follow runs, resuming after the last message
        yielded: every message is yielded once, in order. Stop it by leaving the loop,
        or closing the generator; closing the client ends it with
        a `ClannUsageError`. The client's `timeout` bounds each request beyond the wait; `max_retries` and
        `total_timeout` do not apply.

        Args:
            session_id: Full record ID, bare ULID, or the `ChatSession` itself.
            after: A message of this session (its ID, bare ULID, or the `ChatMessage`): yield only those
                after it. None, the default, yields every message from the first, then each new one.
            wait: Seconds the server may hold each request while no message comes, 1 to 30.
            page_size: Messages per request, 1 to 100; defaults to 100.

        Yields:
            ChatMessage: Each message in turn; the first request is sent when the generator is first advanced.

        Raises:
            ClannInvalidIdError: If `session_id` or `after` is not an ID of its kind (raised at once).
            ClannInvalidArgumentError: If `wait` or `page_size` is out of range (raised at once).
            ClannNotFoundError: If the session does not exist, or is deleted while followed.
            ClannBadRequestError: If `after` is not a message of this session.
            ClannAuthError: If not authenticated.
            ClannPermissionError: If the token may not read the session.
            ClannRateLimitError: If the server asks to wait longer than 60 s (`.retry_after`).
            ClannResponseError: If an answer breaks the contract.
            ClannUsageError: If the client is closed while following.
        """
        pages = self._follow_pages(ops.follow_messages(session_id, after, page_size, wait), wait)
        return (message for page in pages for message in page.parsed)

    def _follow_pages(self, poll: ops.Polls, wait: int) -> Generator[Answer[MessagePage], None, None]:
        polls, pace = _follow.poller(self, wait), _follow.Pace(wait)
        last: str | None = None  # the last message yielded: each poll resumes after it
        while True:
            pace.sending()
            answer = polls._call(poll(last))
            last = answer.parsed.next_after
            yield answer
            if (rest := pace.rest(not answer.parsed.data)) > 0:
                _io.sleep(rest)

    def close(self) -> None:
        """Close the HTTP connections, unless the `httpx2.Client` was yours or this is a `with_options` copy."""
        if self._owns_http and not self._conn.closed:
            self._conn.closed = True
            _io.close(self._http)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class RawChatClient:
    """`ChatClient.with_raw_response`: each method returns a `RawResponse` around its result.

    `iter_sessions` and `iter_messages` yield one `RawResponse` per page, its `parsed`
    being the page: a `SessionPage` or `MessagePage`, a sequence of its records, with
    what resumes after it.
    """

    def __init__(self, client: ChatClient) -> None:
        self._client = client
        self.list_sessions = raw(client.list_sessions)
        self.create_session = raw(client.create_session)
        self.get_session = raw(client.get_session)
        self.update_session = raw(client.update_session)
        self.delete_session = raw(client.delete_session)
        self.list_sessions_page = raw(client.list_sessions_page)
        self.list_messages = raw(client.list_messages)
        self.list_messages_page = raw(client.list_messages_page)
        self.append_message = raw(client.append_message)
        self.get_message = raw(client.get_message)

    def iter_sessions(
        self,
        created_by: str,
        tree: str | None = None,
        *,
        page_size: int | None = None,
        cursor: str | None = None,
        max_items: int | None = None,
    ) -> Generator[RawResponse[SessionPage], None, None]:
        """Yield each page of `ChatClient.iter_sessions`, with its response."""
        most = ops.max_items(max_items)
        pages = self._client._pages(ops.list_sessions(created_by, tree, page_size, cursor), most)
        return (page.raw() for page in pages)

    def iter_messages(
        self,
        session_id: str | ChatSession,
        *,
        after: str | ChatMessage | None = None,
        page_size: int | None = None,
        max_items: int | None = None,
    ) -> Generator[RawResponse[MessagePage], None, None]:
        """Yield each page of `ChatClient.iter_messages`, with its response."""
        most = ops.max_items(max_items)
        pages = self._client._pages(ops.list_messages(session_id, after, page_size), most)
        return (page.raw() for page in pages)

    def follow_messages(
        self,
        session_id: str | ChatSession,
        *,
        after: str | ChatMessage | None = None,
        wait: int = _follow.DEFAULT_WAIT,
        page_size: int | None = None,
    ) -> Generator[RawResponse[MessagePage], None, None]:
        """Yield each answer of `ChatClient.follow_messages`, with its response.

        One `RawResponse` per answer: its `parsed` is the page of new messages it brought,
        empty when the wait ran out with none; its `next_after` is where the follow resumes.
        """
        pages = self._client._follow_pages(ops.follow_messages(session_id, after, page_size, wait), wait)
        return (page.raw() for page in pages)
