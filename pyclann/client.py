"""ChatClient and AsyncChatClient: the five chat methods, sync and async.

The two are thin twins: `_BaseClient` holds the configuration, the request
building, the status-to-error mapping and the retry decisions; each twin only
sends the request and sleeps, in its own way.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Self

import attrs
import httpx

from . import _transport as ops
from ._retry import RetryPolicy
from ._version import __version__
from .errors import ClannConfigError, ClannConnectionError, ClannTimeoutError
from .models import ChatMessage, ChatSession

__all__ = ["DEFAULT_TIMEOUT", "AsyncChatClient", "ChatClient"]

log = logging.getLogger("pyclann")

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
"""30 s to read a response, 5 s to connect (the generated client has no timeout at all)."""

_TOKEN = re.compile(r"[!-~]+")


@attrs.define
class _Call:
    """One method call across its attempts."""

    operation: ops.Operation
    kwargs: dict[str, Any]
    retries: int = 0
    # Whether an earlier attempt may have reached the server (its answer lost).
    maybe_applied: bool = False


@attrs.frozen
class _Done:
    value: Any


class _BaseClient:
    """Configuration and every decision about a call; no I/O."""

    def __init__(
        self,
        base_url: str | None,
        token: str | None,
        *,
        timeout: float | httpx.Timeout,
        max_retries: int,
    ) -> None:
        base_url = base_url if base_url is not None else os.environ.get("CLANN_BASE_URL")
        token = token if token is not None else os.environ.get("CLANN_TOKEN")
        if not base_url:
            raise ClannConfigError("no base URL: pass base_url= or set CLANN_BASE_URL")
        try:
            url = httpx.URL(base_url)
        except httpx.InvalidURL:
            url = httpx.URL()
        if url.scheme not in ("http", "https") or not url.host:
            raise ClannConfigError(f"base_url must be an http:// or https:// URL, got {base_url!r}")
        if token and not _TOKEN.fullmatch(token):
            # Never echo the token: it is a secret even when it is malformed.
            raise ClannConfigError("token must be visible ASCII characters with no spaces")
        if max_retries < 0:
            raise ClannConfigError(f"max_retries must be 0 or more, got {max_retries}")
        self.base_url = str(base_url).rstrip("/")
        self._timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self._retry = RetryPolicy(max_retries=max_retries)
        self._headers = {"User-Agent": f"pyclann/{__version__}"}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    def _start(self, operation: ops.Operation) -> _Call:
        kwargs = dict(operation.kwargs)
        kwargs["url"] = self.base_url + kwargs["url"]
        kwargs["headers"] = {**self._headers, **kwargs.get("headers", {})}
        kwargs["timeout"] = self._timeout
        return _Call(operation, kwargs)

    def _after_response(self, call: _Call, response: httpx.Response) -> float | _Done:
        """Retry after this many seconds, or done: the result (or the error raised)."""
        operation, status = call.operation, response.status_code
        log.debug(
            "%s %s -> %d (request id %s)",
            operation.kwargs["method"].upper(),
            operation.kwargs["url"],
            status,
            response.headers.get("x-request-id"),
        )
        if operation.delete and status == 404 and call.maybe_applied:
            log.info("%s: 404 on a retry; an earlier attempt deleted the session", operation.name)
            return _Done(None)
        if status != operation.success:
            delay = self._retry.delay_after_response(response, call.retries, self._budget(call, status >= 500))
            if delay is not None:
                call.maybe_applied |= status >= 500
                return self._retrying(call, f"status {status}", delay)
        return _Done(ops.read_response(operation, response))

    def _after_error(self, call: _Call, error: httpx.RequestError) -> float:
        """Retry after this many seconds, or raise the ClannConnectionError it stands for."""
        reached = not isinstance(error, httpx.ConnectError | httpx.ConnectTimeout)
        delay = self._retry.delay_after_error(call.retries, self._budget(call, reached))
        if delay is None:
            kind = ClannTimeoutError if isinstance(error, httpx.TimeoutException) else ClannConnectionError
            what = "timed out" if kind is ClannTimeoutError else "failed"
            landed = call.operation.write and (call.maybe_applied or reached)
            unsure = " (an attempt may have reached the server)" if landed else ""
            raise kind(
                f"{call.operation.name} {what} after {call.retries + 1} attempt(s){unsure}: {error!r}"
            ) from error
        call.maybe_applied |= reached
        return self._retrying(call, type(error).__name__, delay)

    def _budget(self, call: _Call, reached: bool = False) -> int:
        return self._retry.budget(call.operation.write and (call.maybe_applied or reached))

    def _retrying(self, call: _Call, reason: str, delay: float) -> float:
        call.retries += 1
        log.info("%s: retry %d after %s, in %.2fs", call.operation.name, call.retries, reason, delay)
        return delay


class ChatClient(_BaseClient):
    """Methods for AI chat sessions (/api/chat/sessions)."""

    def __init__(
        self,
        base_url: str | None = None,
        token: str | None = None,
        *,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = 2,
        http_client: httpx.Client | None = None,
    ) -> None:
        """Make a client.

        Args:
            base_url: The API's root URL; defaults to `$CLANN_BASE_URL`.
            token: The bearer token; defaults to `$CLANN_TOKEN`.
            timeout: Seconds (or an `httpx.Timeout`) for each attempt.
            max_retries: Retries after a connection error, a timeout, a 408, 429 or 5xx; 0 disables.
            http_client: Your own `httpx.Client`; the token is still sent, and it is not closed by `close()`.

        Raises:
            ClannConfigError: If there is no base URL, or the token is not valid.
        """
        super().__init__(base_url, token, timeout=timeout, max_retries=max_retries)
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client()
        self._sleep: Callable[[float], None] = time.sleep

    def _send(self, operation: ops.Operation) -> Any:
        call = self._start(operation)
        while True:
            try:
                response = self._http.request(**call.kwargs)
            except httpx.RequestError as error:
                delay = self._after_error(call, error)
            else:
                outcome = self._after_response(call, response)
                if isinstance(outcome, _Done):
                    return outcome.value
                delay = outcome
            self._sleep(delay)

    def list_sessions(self, created_by: str, tree: str | None = None) -> list[ChatSession]:
        """Return chat sessions for a user, ordered by most-recently-updated.

        Args:
            created_by: Username of the session owner.
            tree: Filter by tree slug.

        Returns:
            List of :class:`ChatSession` objects.

        Raises:
            ClannAuthError: If not authenticated.
        """
        result: list[ChatSession] = self._send(ops.list_sessions(created_by, tree))
        return result

    def create_session(self, title: str, created_by: str, tree: str | None = None) -> ChatSession:
        """Create a new chat session.

        Args:
            title: Session title.
            created_by: Username of the session owner.
            tree: Tree slug to scope this session to.

        Returns:
            The newly created :class:`ChatSession`.

        Raises:
            ClannAuthError: If not authenticated.
        """
        result: ChatSession = self._send(ops.create_session(title, created_by, tree))
        return result

    def delete_session(self, session_id: str) -> None:
        """Delete a chat session and all its messages.

        Args:
            session_id: Full record ID (``chat_session:...``) or bare ULID.

        Raises:
            ClannNotFoundError: If the session does not exist.
            ClannAuthError: If not authenticated.
        """
        self._send(ops.delete_session(session_id))

    def list_messages(self, session_id: str) -> list[ChatMessage]:
        """Return all messages in a session, ordered by creation time.

        Args:
            session_id: Full record ID or bare ULID.

        Returns:
            List of :class:`ChatMessage` objects.

        Raises:
            ClannNotFoundError: If the session does not exist.
            ClannAuthError: If not authenticated.
        """
        result: list[ChatMessage] = self._send(ops.list_messages(session_id))
        return result

    def append_message(self, session_id: str, role: str, content: str) -> ChatMessage:
        """Append a message to a chat session.

        Also updates session.updated_at so the session sorts to the top of
        :meth:`list_sessions`.

        Args:
            session_id: Full record ID or bare ULID.
            role: ``user``, ``assistant`` or ``system``.
            content: Message text.

        Returns:
            The created :class:`ChatMessage`.

        Raises:
            ClannNotFoundError: If the session does not exist.
            ClannAuthError: If not authenticated.
        """
        result: ChatMessage = self._send(ops.append_message(session_id, role, content))
        return result

    def close(self) -> None:
        """Close the HTTP connections, unless the `httpx.Client` was yours."""
        if self._owns_http:
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
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = 2,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        """Make a client.

        Args:
            base_url: The API's root URL; defaults to `$CLANN_BASE_URL`.
            token: The bearer token; defaults to `$CLANN_TOKEN`.
            timeout: Seconds (or an `httpx.Timeout`) for each attempt.
            max_retries: Retries after a connection error, a timeout, a 408, 429 or 5xx; 0 disables.
            http_client: Your own `httpx.AsyncClient`; the token is still sent, and it is not closed by `aclose()`.

        Raises:
            ClannConfigError: If there is no base URL, or the token is not valid.
        """
        # Imported here, not at the top: asyncio costs ~45 ms to import, and a
        # program that makes an AsyncChatClient has imported it already.
        import asyncio

        super().__init__(base_url, token, timeout=timeout, max_retries=max_retries)
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient()
        self._sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    async def _send(self, operation: ops.Operation) -> Any:
        call = self._start(operation)
        while True:
            try:
                response = await self._http.request(**call.kwargs)
            except httpx.RequestError as error:
                delay = self._after_error(call, error)
            else:
                outcome = self._after_response(call, response)
                if isinstance(outcome, _Done):
                    return outcome.value
                delay = outcome
            await self._sleep(delay)

    async def list_sessions(self, created_by: str, tree: str | None = None) -> list[ChatSession]:
        """Return chat sessions for a user, ordered by most-recently-updated.

        Args:
            created_by: Username of the session owner.
            tree: Filter by tree slug.

        Returns:
            List of :class:`ChatSession` objects.

        Raises:
            ClannAuthError: If not authenticated.
        """
        result: list[ChatSession] = await self._send(ops.list_sessions(created_by, tree))
        return result

    async def create_session(self, title: str, created_by: str, tree: str | None = None) -> ChatSession:
        """Create a new chat session.

        Args:
            title: Session title.
            created_by: Username of the session owner.
            tree: Tree slug to scope this session to.

        Returns:
            The newly created :class:`ChatSession`.

        Raises:
            ClannAuthError: If not authenticated.
        """
        result: ChatSession = await self._send(ops.create_session(title, created_by, tree))
        return result

    async def delete_session(self, session_id: str) -> None:
        """Delete a chat session and all its messages.

        Args:
            session_id: Full record ID (``chat_session:...``) or bare ULID.

        Raises:
            ClannNotFoundError: If the session does not exist.
            ClannAuthError: If not authenticated.
        """
        await self._send(ops.delete_session(session_id))

    async def list_messages(self, session_id: str) -> list[ChatMessage]:
        """Return all messages in a session, ordered by creation time.

        Args:
            session_id: Full record ID or bare ULID.

        Returns:
            List of :class:`ChatMessage` objects.

        Raises:
            ClannNotFoundError: If the session does not exist.
            ClannAuthError: If not authenticated.
        """
        result: list[ChatMessage] = await self._send(ops.list_messages(session_id))
        return result

    async def append_message(self, session_id: str, role: str, content: str) -> ChatMessage:
        """Append a message to a chat session.

        Also updates session.updated_at so the session sorts to the top of
        :meth:`list_sessions`.

        Args:
            session_id: Full record ID or bare ULID.
            role: ``user``, ``assistant`` or ``system``.
            content: Message text.

        Returns:
            The created :class:`ChatMessage`.

        Raises:
            ClannNotFoundError: If the session does not exist.
            ClannAuthError: If not authenticated.
        """
        result: ChatMessage = await self._send(ops.append_message(session_id, role, content))
        return result

    async def aclose(self) -> None:
        """Close the HTTP connections, unless the `httpx.AsyncClient` was yours."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
