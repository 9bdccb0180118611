"""The transport of the httpx2 client a pyclann client makes for itself: httpcore2's pool over pyclann's sockets.

`_async_transport` is written by hand; `scripts/unasync.py` writes `_transport`
from it. The two differ only in their network backend, which `_io` gives each:
the sockets of a sync client keep the attempt's deadline (`_deadline`), an
async client's are asyncio's own transports (`_asyncio_backend`). httpx2's own transports
build their pools themselves and take no other backend; these are built on
httpcore2's public pools (`network_backend=`) and do what httpx2's do that
pyclann relies on (`_http`): httpx2's exceptions for httpcore2's, TLS verified
with httpx2's default context, httpx2's default limits, and the environment's
proxies. Imported only when a client makes its HTTP client.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from types import TracebackType
from typing import Self

import httpcore2
import httpx2

from . import _http, _io


def new_client() -> httpx2.AsyncClient:
    """A new `httpx2.AsyncClient` as `httpx2.AsyncClient()` would make it, over pyclann's sockets."""
    mounts = {pattern: None if url is None else AsyncTransport(url) for pattern, url in _http.proxies().items()}
    return httpx2.AsyncClient(transport=AsyncTransport(None), mounts=mounts)


class AsyncTransport(httpx2.AsyncBaseTransport):
    """httpcore2's connection pool (through a proxy, if given one) over the sockets `_io` gives this client."""

    def __init__(self, proxy: str | None) -> None:
        self._proxy = proxy
        self._stand_in: httpx2.AsyncHTTPTransport | None = None
        kinds = (httpcore2.AsyncConnectionPool, httpcore2.AsyncHTTPProxy, httpcore2.AsyncSOCKSProxy)
        self._connections: httpcore2.AsyncConnectionPool = _http.pool(proxy, _io.async_network_backend(), kinds)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if _http.intercepted(httpx2.AsyncHTTPTransport.handle_async_request):
            return await self._stock().handle_async_request(request)
        with _http.mapped():
            answer = await self._connections.handle_async_request(_http.sent(request))
        stream = answer.stream
        assert isinstance(stream, AsyncIterable)  # what this kind of pool answers with
        return httpx2.Response(
            answer.status, headers=answer.headers, stream=AsyncBody(stream), extensions=answer.extensions
        )

    def _stock(self) -> httpx2.AsyncHTTPTransport:
        # Made on first use, when a tool intercepts httpx2's transport; it takes this transport's place.
        if self._stand_in is None:
            self._stand_in = httpx2.AsyncHTTPTransport(
                verify=_http.ssl_context(), limits=_http.LIMITS, proxy=self._proxy
            )
        return self._stand_in

    async def aclose(self) -> None:
        await self._connections.aclose()
        if self._stand_in is not None:
            await self._stand_in.aclose()

    async def __aenter__(self) -> Self:
        await self._connections.__aenter__()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None = None,
        error: BaseException | None = None,
        tb: TracebackType | None = None,
    ) -> None:
        with _http.mapped():
            await self._connections.__aexit__(kind, error, tb)


class AsyncBody(httpx2.AsyncByteStream):
    """A response's body from httpcore2, with httpx2's exceptions for its errors."""

    def __init__(self, chunks: AsyncIterable[bytes]) -> None:
        self._chunks = chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _http.mapped():
            async for chunk in self._chunks:
                yield chunk

    async def aclose(self) -> None:
        close = getattr(self._chunks, "aclose", None)
        if close is not None:
            await close()
