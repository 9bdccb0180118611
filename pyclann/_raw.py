"""Raw responses: a successful call's status, headers and request ID, with its result.

`client.with_raw_response.get_session(...)` runs the same method and returns a
`RawResponse` around its result. The method's answer is caught on its way out
of the client (a context variable, so that threads and tasks never see each
other's), which keeps the raw view free of a second copy of every method.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from contextvars import ContextVar
from typing import TYPE_CHECKING, Generic, NamedTuple, ParamSpec, TypeVar

import attrs
import httpx2

from . import _operations as ops
from .models import ChatMessage, ChatSession

if TYPE_CHECKING:
    from .client import AsyncChatClient, ChatClient

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


class RawChatClient:
    """`ChatClient.with_raw_response`: each method returns a `RawResponse` around its result.

    `iter_sessions` and `iter_messages` yield one `RawResponse` per page, its `parsed`
    being the page's records.
    """

    def __init__(self, client: ChatClient) -> None:
        self._client = client
        self.list_sessions = raw(client.list_sessions)
        self.create_session = raw(client.create_session)
        self.get_session = raw(client.get_session)
        self.update_session = raw(client.update_session)
        self.delete_session = raw(client.delete_session)
        self.list_messages = raw(client.list_messages)
        self.append_message = raw(client.append_message)
        self.get_message = raw(client.get_message)

    def iter_sessions(
        self, created_by: str, tree: str | None = None, *, page_size: int | None = None
    ) -> Generator[RawResponse[list[ChatSession]], None, None]:
        """Yield each page of `ChatClient.iter_sessions`, with its response."""
        return (page.raw() for page in self._client._pages(ops.list_sessions(created_by, tree, page_size)))

    def iter_messages(
        self, session_id: str | ChatSession, *, after: str | ChatMessage | None = None, page_size: int | None = None
    ) -> Generator[RawResponse[list[ChatMessage]], None, None]:
        """Yield each page of `ChatClient.iter_messages`, with its response."""
        return (page.raw() for page in self._client._pages(ops.list_messages(session_id, after, page_size)))


class AsyncRawChatClient:
    """`AsyncChatClient.with_raw_response`: each method returns a `RawResponse` around its result.

    `iter_sessions` and `iter_messages` yield one `RawResponse` per page, its `parsed`
    being the page's records.
    """

    def __init__(self, client: AsyncChatClient) -> None:
        self._client = client
        self.list_sessions = araw(client.list_sessions)
        self.create_session = araw(client.create_session)
        self.get_session = araw(client.get_session)
        self.update_session = araw(client.update_session)
        self.delete_session = araw(client.delete_session)
        self.list_messages = araw(client.list_messages)
        self.append_message = araw(client.append_message)
        self.get_message = araw(client.get_message)

    def iter_sessions(
        self, created_by: str, tree: str | None = None, *, page_size: int | None = None
    ) -> AsyncGenerator[RawResponse[list[ChatSession]], None]:
        """Yield each page of `AsyncChatClient.iter_sessions`, with its response."""
        return (page.raw() async for page in self._client._pages(ops.list_sessions(created_by, tree, page_size)))

    def iter_messages(
        self, session_id: str | ChatSession, *, after: str | ChatMessage | None = None, page_size: int | None = None
    ) -> AsyncGenerator[RawResponse[list[ChatMessage]], None]:
        """Yield each page of `AsyncChatClient.iter_messages`, with its response."""
        pages = self._client._pages(ops.list_messages(session_id, after, page_size))
        return (page.raw() async for page in pages)
