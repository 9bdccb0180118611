"""An attempt's deadline on every socket operation of the sync HTTP clients pyclann makes.

httpx bounds each socket read, not an exchange: a server that sends its response
one byte every half second holds a sync call for ever, whatever its timeout. The
async client bounds a whole attempt with a cancel scope; a sync call cannot be
cancelled, so instead every read and write is given only the time the attempt
has left, and none is started once it is out. This is done by wrapping the
network backend of the connection pools inside an `httpx.Client` that pyclann
made itself. httpx has no public hook for it, so `install` reaches the pools
through private attributes, checks what it finds, and reports whether it could;
a user's own `http_client` is never touched.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterable
from contextvars import ContextVar
from types import TracebackType
from typing import Any

import httpx

# httpcore is imported where it is used, never here: it costs ~25 ms, and httpx itself
# imports it only once a client is made, which is when these are needed.

_DEADLINE: ContextVar[float | None] = ContextVar("pyclann_attempt_deadline", default=None)


class attempt:  # lower case: used as `with attempt(deadline):`, as a function would be
    """Socket operations in this block end by `deadline` (a `time.monotonic()` value).

    A class, not a generator: it is entered on every attempt, and a @contextmanager costs several times more.
    """

    __slots__ = ("_deadline", "_token")

    def __init__(self, deadline: float | None) -> None:
        self._deadline = deadline

    def __enter__(self) -> None:
        self._token = _DEADLINE.set(self._deadline)

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        _DEADLINE.reset(self._token)


def install(client: httpx.Client) -> bool:
    """Wrap the network backend of each of `client`'s pools; False if httpx's insides were not as expected."""
    import httpcore

    transports = [getattr(client, "_transport", None), *getattr(client, "_mounts", {}).values()]
    pools = [getattr(transport, "_pool", None) for transport in transports if transport is not None]
    found = [pool for pool in pools if isinstance(pool, httpcore.ConnectionPool)]
    if not found or len(found) != len(pools):
        return False
    for pool in found:
        backend = getattr(pool, "_network_backend", None)
        if isinstance(backend, _Backend):
            continue
        if not isinstance(backend, httpcore.NetworkBackend):
            return False
        pool._network_backend = _Backend(backend)  # type: ignore[assignment]  # duck-typed, as httpcore uses it
    return True


def _left(timeout: float | None, expired: str) -> float | None:
    deadline = _DEADLINE.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        import httpcore

        raise getattr(httpcore, expired)("the attempt's time ran out")
    return left if timeout is None else min(timeout, left)


class _Stream:
    """An httpcore network stream (duck-typed, as httpcore uses them) whose operations end by the deadline."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        data: bytes = self._inner.read(max_bytes, _left(timeout, "ReadTimeout"))
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _left(timeout, "WriteTimeout"))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> _Stream:
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, _left(timeout, "ConnectTimeout")))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Backend:
    """An httpcore network backend whose streams end their operations by the deadline."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> _Stream:
        left = _left(timeout, "ConnectTimeout")
        return _Stream(self._inner.connect_tcp(host, port, left, local_address, socket_options))

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> _Stream:
        return _Stream(self._inner.connect_unix_socket(path, _left(timeout, "ConnectTimeout"), socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)
