"""A successful call's answer inside the client, and how it reaches the raw view that asked for it.

`client.with_raw_response.get_session(...)` runs the same method and returns a
`RawResponse` around its result. The method's answer is caught on its way out
of the client (a context variable, so that threads and tasks never see each
other's), which keeps the raw view free of a second copy of every method. The
views themselves, `RawChatClient` and `AsyncRawChatClient`, stand beside their
clients, in `_sync_client` and `_async_client`; `RawResponse` is in `_raw`, imported
only by a raw view (it is an attrs class: attrs is not imported with pyclann).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Generic, ParamSpec, TypeVar

import httpx2

from ._failures import request_id

if TYPE_CHECKING:
    from ._raw import RawResponse

T = TypeVar("T")
P = ParamSpec("P")

_SINK: ContextVar[list[httpx2.Response] | None] = ContextVar("pyclann_raw_sink", default=None)


class Answer(Generic[T]):
    """A successful call, inside the client: its result and its response (a plain class: one per call).

    The public `RawResponse` is made from it only for a raw view, which most calls are not. Not a typed
    named tuple: generic, one costs `import pyclann` a fifth of a millisecond, and is slower to make.
    """

    __slots__ = ("parsed", "response")

    def __init__(self, parsed: T, response: httpx2.Response) -> None:
        self.parsed = parsed
        self.response = response

    def raw(self) -> RawResponse[T]:
        from ._raw import RawResponse

        response = self.response
        return RawResponse(self.parsed, response.status_code, response.headers, request_id(response))


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
