# Generated from pyclann/_async_transport.py by scripts/unasync.py (make generate): do not edit.
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

from collections.abc import Iterable, Iterator
from types import TracebackType
from typing import Self

import httpcore2
import httpx2

from . import _http, _io


def new_client() -> httpx2.Client:
    """A new `httpx2.Client` as `httpx2.Client()` would make it, over pyclann's sockets."""
    mounts = {pattern: None if url is None else Transport(url) for pattern, url in _http.proxies().items()}
    return httpx2.Client(transport=Transport(None), mounts=mounts)


class Transport(httpx2.BaseTransport):
    """httpcore2's connection pool (through a proxy, if given one) over the sockets `_io` gives this client."""

    def __init__(self, proxy: str | None) -> None:
        self._proxy = proxy
        self._stand_in: httpx2.HTTPTransport | None = None
        kinds = (httpcore2.ConnectionPool, httpcore2.HTTPProxy, httpcore2.SOCKSProxy)
        self._connections: httpcore2.ConnectionPool = _http.pool(proxy, _io.network_backend(), kinds)

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        if _http.intercepted(httpx2.HTTPTransport.handle_request):
            return self._stock().handle_request(request)
        with _http.mapped():
            answer = self._connections.handle_request(_http.sent(request))
        stream = answer.stream
        assert isinstance(stream, Iterable)  # what this kind of pool answers with
        return httpx2.Response(answer.status, headers=answer.headers, stream=Body(stream), extensions=answer.extensions)

    def _stock(self) -> httpx2.HTTPTransport:
        # Made on first use, when a tool intercepts httpx2's transport; it takes this transport's place.
        if self._stand_in is None:
            self._stand_in = httpx2.HTTPTransport(verify=_http.ssl_context(), limits=_http.LIMITS, proxy=self._proxy)
        return self._stand_in

    def close(self) -> None:
        self._connections.close()
        if self._stand_in is not None:
            self._stand_in.close()

    def __enter__(self) -> Self:
        self._connections.__enter__()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None = None,
        error: BaseException | None = None,
        tb: TracebackType | None = None,
    ) -> None:
        with _http.mapped():
            self._connections.__exit__(kind, error, tb)


class Body(httpx2.SyncByteStream):
    """A response's body from httpcore2, with httpx2's exceptions for its errors."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        with _http.mapped():
            for chunk in self._chunks:
                yield chunk

    def close(self) -> None:
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()
