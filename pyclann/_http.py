"""The httpx2 clients pyclann's clients make for themselves: httpcore2's pools over sockets of pyclann's choosing.

A sync client's sockets keep the attempt's deadline (`_deadline`); an async
client's are asyncio's own transports (`_asyncio_backend`), which cost a fifth
less CPU per request than anyio's. `httpx2.HTTPTransport` (and its async twin)
builds its connection pool itself and offers no way to give it another network
backend; these are those transports, built on httpcore2's public
`ConnectionPool(network_backend=...)` (and its proxies), doing what httpx2's do
that pyclann relies on: httpx2's exceptions for httpcore2's, TLS verified with
httpx2's default context, httpx2's default limits, and proxies from the
environment (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`), which httpx2
takes from the environment only when it makes its transports itself. Imported
only when a client makes its HTTP client.
"""

from __future__ import annotations

import functools
import ipaddress
import ssl
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from types import TracebackType
from typing import Any, Self
from urllib.request import getproxies

import httpcore2
import httpx2

from ._asyncio_backend import AsyncioBackend
from ._deadline import left

# httpx2's defaults (httpx2.Client's, as its own transport takes them).
_LIMITS = httpx2.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=5.0)

# Most specific first: an httpcore2.ReadTimeout becomes an httpx2.ReadTimeout, not a TimeoutException.
_ERRORS: tuple[tuple[type[Exception], type[httpx2.HTTPError]], ...] = (
    (httpcore2.ConnectTimeout, httpx2.ConnectTimeout),
    (httpcore2.ReadTimeout, httpx2.ReadTimeout),
    (httpcore2.WriteTimeout, httpx2.WriteTimeout),
    (httpcore2.PoolTimeout, httpx2.PoolTimeout),
    (httpcore2.TimeoutException, httpx2.TimeoutException),
    (httpcore2.ConnectError, httpx2.ConnectError),
    (httpcore2.ReadError, httpx2.ReadError),
    (httpcore2.WriteError, httpx2.WriteError),
    (httpcore2.NetworkError, httpx2.NetworkError),
    (httpcore2.ProxyError, httpx2.ProxyError),
    (httpcore2.UnsupportedProtocol, httpx2.UnsupportedProtocol),
    (httpcore2.LocalProtocolError, httpx2.LocalProtocolError),
    (httpcore2.RemoteProtocolError, httpx2.RemoteProtocolError),
    (httpcore2.ProtocolError, httpx2.ProtocolError),
)


@functools.cache
def ssl_context() -> ssl.SSLContext:
    # One for every client of the process: making one loads the CA bundle, about 60 ms, which each
    # ChatClient() paid. A context is safe to share between connections and threads.
    return httpx2.create_ssl_context()


def client() -> httpx2.Client:
    """A new `httpx2.Client` as `httpx2.Client()` would make it, its sockets keeping the attempt's deadline."""
    context = ssl_context()
    mounts = {pattern: None if url is None else _Transport(context, url) for pattern, url in _proxies().items()}
    return httpx2.Client(transport=_Transport(context, None), mounts=mounts)


def async_client() -> httpx2.AsyncClient:
    """A new `httpx2.AsyncClient` as `httpx2.AsyncClient()` would make it, over asyncio's own transports."""
    context = ssl_context()
    mounts = {pattern: None if url is None else _AsyncTransport(context, url) for pattern, url in _proxies().items()}
    return httpx2.AsyncClient(transport=_AsyncTransport(context, None), mounts=mounts)


def _intercepted(handler: Any) -> bool:
    """Whether a tool has put its own handler in place of httpx2's transport's, to record or replay.

    VCR.py (and pytest-recording, which drives it) patches `httpx2.HTTPTransport.handle_request`
    (and `AsyncHTTPTransport.handle_async_request`) while a cassette is in use, as respx and
    others do: a transport of pyclann's own would pass them by, and its calls would be neither
    recorded nor replayed. While one does, pyclann sends through httpx2's own transport instead
    (without the whole-attempt deadline on a sync client's sockets).
    Told by the handler itself: httpx2's own is defined in httpx2's package and wraps nothing;
    VCR.py's copies the name and module of what it wraps (functools.wraps), and says what it wraps.
    """
    return hasattr(handler, "__wrapped__") or handler.__module__.partition(".")[0] != "httpx2"


# httpcore2's pools, sync and async: a direct one, through an HTTP(S) proxy, and through a SOCKS one.
_SYNC_POOLS = (httpcore2.ConnectionPool, httpcore2.HTTPProxy, httpcore2.SOCKSProxy)
_ASYNC_POOLS = (httpcore2.AsyncConnectionPool, httpcore2.AsyncHTTPProxy, httpcore2.AsyncSOCKSProxy)


def _pool(context: ssl.SSLContext, proxy: str | None, backend: object, kinds: tuple[Any, Any, Any]) -> Any:
    """httpcore2's pool (of `kinds`) with httpx2's default limits, through `proxy` if given one, over `backend`."""
    direct, http_proxy, socks_proxy = kinds
    limits: dict[str, Any] = {
        "ssl_context": context,
        "max_connections": _LIMITS.max_connections,
        "max_keepalive_connections": _LIMITS.max_keepalive_connections,
        "keepalive_expiry": _LIMITS.keepalive_expiry,
        "network_backend": backend,
    }
    if proxy is None:
        return direct(**limits)
    via = httpx2.Proxy(proxy)
    url = httpcore2.URL(scheme=via.url.raw_scheme, host=via.url.raw_host, port=via.url.port, target=via.url.raw_path)
    if via.url.scheme in ("http", "https"):
        return http_proxy(
            proxy_url=url,
            proxy_auth=via.raw_auth,
            proxy_headers=via.headers.raw,
            proxy_ssl_context=via.ssl_context,
            **limits,
        )
    if via.url.scheme in ("socks5", "socks5h"):  # needs socksio, as httpx2's own transport does
        return socks_proxy(proxy_url=url, proxy_auth=via.raw_auth, **limits)
    raise ValueError(f"a proxy's scheme must be http, https, socks5 or socks5h, got {via.url.scheme!r}")


def _sent(request: httpx2.Request) -> httpcore2.Request:
    """httpx2's request as httpcore2's, as httpx2's own transport makes it."""
    url = request.url
    return httpcore2.Request(
        method=request.method,
        url=httpcore2.URL(scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path),
        headers=request.headers.raw,
        content=request.stream,
        extensions=request.extensions,
    )


class _Transport(httpx2.BaseTransport):
    """httpcore2's connection pool (through a proxy, if given one) over `_Backend`'s sockets."""

    def __init__(self, context: ssl.SSLContext, proxy: str | None) -> None:
        self._context, self._proxy = context, proxy
        self._stand_in: httpx2.HTTPTransport | None = None
        self._connections: httpcore2.ConnectionPool = _pool(context, proxy, _Backend(), _SYNC_POOLS)

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        if _intercepted(httpx2.HTTPTransport.handle_request):
            return self._stock().handle_request(request)
        with _mapped():
            answer = self._connections.handle_request(_sent(request))
        stream = answer.stream
        assert isinstance(stream, Iterable)  # a sync pool's answers are iterables of bytes
        return httpx2.Response(
            answer.status, headers=answer.headers, stream=_Body(stream), extensions=answer.extensions
        )

    def _stock(self) -> httpx2.HTTPTransport:
        # Made on first use, when a tool intercepts httpx2's transport; it takes this transport's place.
        if self._stand_in is None:
            self._stand_in = httpx2.HTTPTransport(verify=self._context, limits=_LIMITS, proxy=self._proxy)
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
        with _mapped():
            self._connections.__exit__(kind, error, tb)


class _AsyncTransport(httpx2.AsyncBaseTransport):
    """httpcore2's async connection pool (through a proxy, if given one) over asyncio's own transports."""

    def __init__(self, context: ssl.SSLContext, proxy: str | None) -> None:
        self._context, self._proxy = context, proxy
        self._stand_in: httpx2.AsyncHTTPTransport | None = None
        self._connections: httpcore2.AsyncConnectionPool = _pool(context, proxy, AsyncioBackend(), _ASYNC_POOLS)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if _intercepted(httpx2.AsyncHTTPTransport.handle_async_request):
            return await self._stock().handle_async_request(request)
        with _mapped():
            answer = await self._connections.handle_async_request(_sent(request))
        stream = answer.stream
        assert isinstance(stream, AsyncIterable)  # an async pool's answers are async iterables of bytes
        return httpx2.Response(
            answer.status, headers=answer.headers, stream=_AsyncBody(stream), extensions=answer.extensions
        )

    def _stock(self) -> httpx2.AsyncHTTPTransport:
        # Made on first use, when a tool intercepts httpx2's transport; it takes this transport's place.
        if self._stand_in is None:
            self._stand_in = httpx2.AsyncHTTPTransport(verify=self._context, limits=_LIMITS, proxy=self._proxy)
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
        with _mapped():
            await self._connections.__aexit__(kind, error, tb)


class _Body(httpx2.SyncByteStream):
    """A response's body from httpcore2, with httpx2's exceptions for its errors."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        with _mapped():
            yield from self._chunks

    def close(self) -> None:
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()


class _AsyncBody(httpx2.AsyncByteStream):
    """A response's body from httpcore2's async pool, with httpx2's exceptions for its errors."""

    def __init__(self, chunks: AsyncIterable[bytes]) -> None:
        self._chunks = chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _mapped():
            async for chunk in self._chunks:
                yield chunk

    async def aclose(self) -> None:
        close = getattr(self._chunks, "aclose", None)
        if close is not None:
            await close()


class _mapped:  # lower case: used as `with _mapped():`, as a function would be
    """Raise httpcore2's exceptions as httpx2's (the cause kept), as httpx2's own transport does."""

    def __enter__(self) -> None:
        pass

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        if error is None or not isinstance(error, Exception):
            return
        for found, raised in _ERRORS:
            if isinstance(error, found):
                raise raised(str(error)) from error


class _Stream(httpcore2.NetworkStream):
    """A network stream whose operations end by the attempt's deadline."""

    def __init__(self, inner: httpcore2.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, left(timeout, httpcore2.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, left(timeout, httpcore2.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> _Stream:
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, left(timeout, httpcore2.ConnectTimeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Backend(httpcore2.NetworkBackend):
    """httpcore2's own sync network backend, whose streams end their operations by the attempt's deadline."""

    def __init__(self) -> None:
        self._inner = httpcore2.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore2.SOCKET_OPTION] | None = None,
    ) -> _Stream:
        limit = left(timeout, httpcore2.ConnectTimeout)
        return _Stream(self._inner.connect_tcp(host, port, limit, local_address, socket_options))

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[httpcore2.SOCKET_OPTION] | None = None
    ) -> _Stream:
        return _Stream(self._inner.connect_unix_socket(path, left(timeout, httpcore2.ConnectTimeout), socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def _proxies() -> dict[str, str | None]:
    """The environment's proxies as httpx2.Client mounts them (a proxy's URL, or None for no proxy), by URL pattern.

    httpx2 reads them this way (with curl's reading of NO_PROXY) only for transports it
    makes itself; the same rules, written here, keep pyclann's client going where
    `httpx2.Client()` would.
    """
    found = getproxies()
    mounts: dict[str, str | None] = {}
    for scheme in ("http", "https", "all"):
        if found.get(scheme):
            url = found[scheme]
            mounts[f"{scheme}://"] = url if "://" in url else f"http://{url}"
    for host in (part.strip() for part in found.get("no", "").split(",")):
        if host == "*":
            return {}
        if not host:
            continue
        if "://" in host:
            mounts[host] = None
        elif _is_ip(host):
            address, _, subnet = host.partition("/")
            if ":" in address:  # IPv6, bracketed as in a URL
                mounts[f"all://[{address}]" + (f"/{subnet}" if subnet else "")] = None
            else:
                mounts[f"all://{host}"] = None
        elif host.lower() == "localhost" or host.startswith(("[", "*.")):
            mounts[f"all://{host}"] = None
        elif "/" not in host:
            mounts[f"all://*{host}"] = None  # "example.com" also covers "www.example.com", as curl reads it
    # Like curl (and httpx2), an entry that is not a URL is ignored, rather than refused.
    return {pattern: url for pattern, url in mounts.items() if _is_url(pattern)}


def _is_url(pattern: str) -> bool:
    try:
        httpx2.URL(pattern)
    except httpx2.InvalidURL:
        return False
    return True


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_network(host, strict=False)
    except ValueError:
        return False
    return True
