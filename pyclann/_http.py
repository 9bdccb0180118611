"""What the transports of pyclann's own HTTP clients (`_async_transport`, `_transport`) share.

httpx2's own transports build their connection pools themselves and take no
other network backend, so pyclann's build httpcore2's public pools
(`network_backend=`) here, and do what httpx2's do that pyclann relies on:
httpx2's exceptions for httpcore2's (`mapped`), TLS verified with httpx2's
default context, httpx2's default limits, and proxies from the environment
(`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`), which httpx2 takes from
the environment only when it makes its transports itself. Also here, the sync
client's sockets, which keep the attempt's deadline (`_deadline`). Imported only
when a client makes its HTTP client.
"""

from __future__ import annotations

import functools
import ipaddress
import ssl
from collections.abc import Iterable
from types import TracebackType
from typing import Any
from urllib.request import getproxies

import httpcore2
import httpx2

from ._deadline import left

# httpx2's defaults (httpx2.Client's, as its own transport takes them).
LIMITS = httpx2.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=5.0)

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


def intercepted(handler: Any) -> bool:
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


def pool(proxy: str | None, backend: object, kinds: tuple[Any, Any, Any]) -> Any:
    """httpcore2's pool (direct, HTTP proxy, SOCKS proxy: `kinds`) with httpx2's defaults, over `backend`."""
    direct, http_proxy, socks_proxy = kinds
    limits: dict[str, Any] = {
        "ssl_context": ssl_context(),
        "max_connections": LIMITS.max_connections,
        "max_keepalive_connections": LIMITS.max_keepalive_connections,
        "keepalive_expiry": LIMITS.keepalive_expiry,
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


def sent(request: httpx2.Request) -> httpcore2.Request:
    """httpx2's request as httpcore2's, as httpx2's own transport makes it."""
    url = request.url
    return httpcore2.Request(
        method=request.method,
        url=httpcore2.URL(scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path),
        headers=request.headers.raw,
        content=request.stream,
        extensions=request.extensions,
    )


class mapped:  # lower case: used as `with mapped():`, as a function would be
    """Raise httpcore2's exceptions as httpx2's (the cause kept), as httpx2's own transport does."""

    def __enter__(self) -> None:
        pass

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        if error is None or not isinstance(error, Exception):
            return
        for found, raised in _ERRORS:
            if isinstance(error, found):
                raise raised(str(error)) from error


class DeadlineStream(httpcore2.NetworkStream):
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
    ) -> DeadlineStream:
        return DeadlineStream(
            self._inner.start_tls(ssl_context, server_hostname, left(timeout, httpcore2.ConnectTimeout))
        )

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class DeadlineBackend(httpcore2.NetworkBackend):
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
    ) -> DeadlineStream:
        limit = left(timeout, httpcore2.ConnectTimeout)
        return DeadlineStream(self._inner.connect_tcp(host, port, limit, local_address, socket_options))

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[httpcore2.SOCKET_OPTION] | None = None
    ) -> DeadlineStream:
        return DeadlineStream(
            self._inner.connect_unix_socket(path, left(timeout, httpcore2.ConnectTimeout), socket_options)
        )

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def proxies() -> dict[str, str | None]:
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
