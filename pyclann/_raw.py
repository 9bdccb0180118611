"""Responses as users see them: a success's with its result (`RawResponse`), an error's (`ErrorResponse`).

`client.with_raw_response.get_session(...)` runs the same method and returns a
`RawResponse` around its result. The method's answer is caught on its way out
of the client (a context variable, so that threads and tasks never see each
other's), which keeps the raw view free of a second copy of every method. The
views themselves, `RawChatClient` and `AsyncRawChatClient`, stand beside their
clients, in `_sync_client` and `_async_client`.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any, Generic, NamedTuple, ParamSpec, TypeVar

import attrs
import httpx2

T = TypeVar("T")
U = TypeVar("U")
P = ParamSpec("P")

_SINK: ContextVar[list[httpx2.Response] | None] = ContextVar("pyclann_raw_sink", default=None)


class Answer(NamedTuple, Generic[T]):
    """A successful call, inside the client: its result and its response (a named tuple: one per call).

    The public `RawResponse` is made from it only for a raw view, which most calls are not.
    """

    parsed: T
    response: httpx2.Response

    def raw(self) -> RawResponse[T]:
        headers = self.response.headers
        return RawResponse(self.parsed, self.response.status_code, headers, headers.get("x-request-id"))


@attrs.frozen
class RawResponse(Generic[T]):
    """A successful call's result, with the HTTP response that carried it.

    For a method that walks several pages (`list_sessions`, `list_messages`), the
    status, headers and request ID are those of the last page.

    Attributes:
        parsed: What the method returns.
        status_code: The HTTP status code.
        headers: The response's headers.
        request_id: The server's `X-Request-Id`, if it sent one.
    """

    parsed: T
    status_code: int
    headers: httpx2.Headers = attrs.field(repr=False)
    request_id: str | None

    @property
    def idempotent_replayed(self) -> bool:
        """Whether the server replayed the first answer to this write's idempotency key."""
        replayed: str | None = self.headers.get("idempotent-replayed")
        return replayed == "true"

    def with_parsed(self, parsed: U) -> RawResponse[U]:
        return RawResponse(parsed, self.status_code, self.headers, self.request_id)


@attrs.frozen
class ErrorResponse:
    """The answer an error came from, as `error.response`: its status, headers and body, without credentials.

    pyclann's own small record rather than the `httpx2.Response`: it pickles, and it holds
    neither the request (whose headers carry the token) nor the connection. Header values
    that are credentials (`Authorization`, `Proxy-Authorization`, `Cookie`, `Set-Cookie`),
    and the request's own token wherever the server echoed it, read `[redacted]`.

    Attributes:
        status_code: The HTTP status code.
        headers: The response's headers (case-insensitive, as on a `RawResponse`).
        content: The body, as far as it was read: at most 64 KiB of it.
    """

    status_code: int
    headers: httpx2.Headers = attrs.field(repr=False)
    content: bytes = attrs.field(repr=False)

    @property
    def text(self) -> str:
        """The body as text (UTF-8, an undecodable byte replaced)."""
        return self.content.decode("utf-8", "replace")

    @property
    def request_id(self) -> str | None:
        """The server's `X-Request-Id`, if it sent one."""
        found: str | None = self.headers.get("x-request-id")
        return found

    def json(self) -> Any:
        """The body decoded as JSON.

        Raises:
            ValueError: If the body is not JSON (or was cut at the limit).
        """
        return json.loads(self.content)


def record(response: httpx2.Response) -> None:
    """Hand a successful response to the raw view that asked for it, if one did."""
    sink = _SINK.get()
    if sink is not None:
        sink.append(response)


def raw(method: Callable[P, T]) -> Callable[P, RawResponse[T]]:
    """`method`, returning a `RawResponse` around its result."""

    @functools.wraps(method)
    def call(*args: P.args, **kwargs: P.kwargs) -> RawResponse[T]:
        sink: list[httpx2.Response] = []
        token = _SINK.set(sink)
        try:
            result = method(*args, **kwargs)
        finally:
            _SINK.reset(token)
        return Answer(result, sink[-1]).raw()

    return call


def araw(method: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[RawResponse[T]]]:
    """The async `method`, returning a `RawResponse` around its result."""

    @functools.wraps(method)
    async def call(*args: P.args, **kwargs: P.kwargs) -> RawResponse[T]:
        sink: list[httpx2.Response] = []
        token = _SINK.set(sink)
        try:
            result = await method(*args, **kwargs)
        finally:
            _SINK.reset(token)
        return Answer(result, sink[-1]).raw()

    return call
