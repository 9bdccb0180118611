"""The async client's sockets: httpcore2's network-backend interface over asyncio's own transports.

httpcore2's default backend reaches asyncio through anyio, whose cancel scope and
stream wrappers around every read and write cost about a fifth of the CPU of a
request at concurrency (`make bench`: 1,000 appends at concurrency 50). This one
is written to httpcore2's public `AsyncNetworkBackend` interface on asyncio's
public protocol API, and behaves as anyio's does where pyclann relies on it:

- a write returns once the kernel has taken every byte (the transport buffers
  nothing; under TLS, the write waits until the connection's own transport below
  it has none left), so its `write=` timeout holds, and a connection that fails
  while sending is a `WriteError` (over TLS, asyncio tells of it only to the next
  read: a `ReadError`, which claims less, since the request may have been sent);
- reading pauses while more than 64 KiB waits unread, on the connection's own
  transport (below TLS, whose layer uvloop empties when a server closes);
- each operation's timeout is its own (`ReadTimeout`, `WriteTimeout`,
  `ConnectTimeout`), and a cancelled task is cancelled as usual;
- a failure keeps the OS's or OpenSSL's exception as its cause, which
  `_failures` reads (an untrusted certificate is not retried);
- `is_readable`, which httpcore2 asks before reusing an idle connection, is true
  once the server has closed it or sent bytes nobody asked for.

It runs on asyncio's own loop and on uvloop's, whose transports behave alike
here. Under another event loop (trio), httpcore2's anyio backend is used instead.
"""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
from collections.abc import Iterable
from typing import Any, NoReturn, cast

import httpcore2

# Reading stops while more than this is received and unread: one of httpcore2's reads (asyncio reads
# up to 256 KiB at a time), so that a connection holds little that its reader has not asked for.
_HIGH_WATER = 64 * 1024


class _Connection(asyncio.Protocol):
    """What a connection's transport reports: its bytes as they arrive, its end, and when it can be written."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.received = bytearray()
        self.ended = False  # the server's end of the stream, or the connection lost
        self.lost: BaseException | None = None
        self.tls = False
        self.reading_paused = False
        self.writing_paused = False
        self._waiter: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are asyncio.Transports in all but name: they do not subclass it.
        # The connection's own, also under TLS (which does not call this again): reading pauses and resumes
        # on it, below TLS, so that no plaintext waits inside the TLS layer, which uvloop's drops when the
        # server then closes without TLS's close_notify.
        self.transport = cast(asyncio.Transport, transport)
        # No buffer: `write` waits until the kernel has every byte, as a blocking send would.
        self.transport.set_write_buffer_limits(high=0)

    def data_received(self, data: bytes) -> None:
        self.received += data
        if len(self.received) > _HIGH_WATER and self.transport is not None:
            self.transport.pause_reading()
            self.reading_paused = True
        self._wake()

    def eof_received(self) -> bool:
        self.ended = True
        self._wake()
        # Half-open, as a socket is: a request sent now is refused by the server, not by us. asyncio's
        # TLS transport cannot stay half-open (and warns when asked), so it closes.
        return not self.tls

    def connection_lost(self, exc: Exception | None) -> None:
        self.ended = True
        self.lost = exc
        self.writing_paused = False
        self._wake()

    def pause_writing(self) -> None:
        self.writing_paused = True

    def resume_writing(self) -> None:
        self.writing_paused = False
        self._wake()

    async def wait(self) -> None:
        """Until the transport reports anything (the caller bounds the whole operation's time)."""
        waiter = self._waiter = asyncio.get_running_loop().create_future()
        try:
            await waiter
        finally:
            self._waiter = None

    def taken(self) -> None:
        """The reader took bytes: reading resumes, if it was paused, once little is left unread."""
        if self.reading_paused and len(self.received) <= _HIGH_WATER // 4 and self.transport is not None:
            self.reading_paused = False
            self.transport.resume_reading()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)


def _failed(raised: type[httpcore2.NetworkError | httpcore2.TimeoutException], cause: BaseException) -> NoReturn:
    # A timeout says nothing more than its class, as anyio's does ("WriteTimeout", not "WriteTimeout: TimeoutError").
    said = "" if type(cause) is TimeoutError else str(cause) or type(cause).__name__
    raise raised(said) from cause


def _unsent(transport: asyncio.Transport | None) -> bool:
    """Whether the connection's own transport holds bytes the kernel has not taken yet."""
    return transport is not None and not transport.is_closing() and transport.get_write_buffer_size() > 0


class AsyncioStream(httpcore2.AsyncNetworkStream):
    """One connection, through an asyncio transport and `_Connection`."""

    def __init__(self, transport: asyncio.Transport, connection: _Connection) -> None:
        self._asyncio_transport = transport
        self._connection = connection

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        connection = self._connection
        if not connection.received and not connection.ended:
            try:
                async with asyncio.timeout(timeout):  # the read's, as a whole, however often it wakes
                    while not connection.received and not connection.ended:
                        await connection.wait()
            except TimeoutError as error:
                _failed(httpcore2.ReadTimeout, error)
        if connection.received:
            if len(connection.received) <= max_bytes:
                data = bytes(connection.received)
                connection.received.clear()
            else:
                data = bytes(connection.received[:max_bytes])
                del connection.received[:max_bytes]
            connection.taken()
            return data
        if connection.lost is not None:
            _failed(httpcore2.ReadError, connection.lost)
        return b""  # the server ended the stream

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        connection = self._connection
        if self._asyncio_transport.is_closing():
            _failed(httpcore2.WriteError, connection.lost or ConnectionResetError("the connection is closed"))
        self._asyncio_transport.write(buffer)
        below = connection.transport
        if (connection.writing_paused or _unsent(below)) and not self._asyncio_transport.is_closing():
            try:
                # The write's time as a whole: bytes the server sends meanwhile wake the wait, not extend it.
                async with asyncio.timeout(timeout):
                    while connection.writing_paused and not self._asyncio_transport.is_closing():
                        await connection.wait()
                    # Under TLS, records pass to the connection's own transport, whose flow control speaks to
                    # the TLS layer, not to this stream: wait for the kernel to take them, looking now and then.
                    pause = 0.001
                    while _unsent(below) and not self._asyncio_transport.is_closing():
                        await asyncio.sleep(pause)
                        pause = min(pause * 2, 0.05)
            except TimeoutError as error:
                _failed(httpcore2.WriteTimeout, error)
        if self._asyncio_transport.is_closing():
            # Only a failed send closes the transport while it is being written to (a server's end of
            # the stream leaves it half-open), and it may have left bytes unsent.
            _failed(httpcore2.WriteError, connection.lost or ConnectionResetError("the connection was lost"))

    async def aclose(self) -> None:
        # As anyio's: at once, discarding what is unsent. close() would keep the socket open until a server
        # that has stopped reading takes the rest of a write that was cancelled or timed out.
        self._asyncio_transport.abort()

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> AsyncioStream:
        connection = self._connection
        connection.tls = True
        try:
            # The timeout is ours, as anyio's is: asyncio's own ssl_handshake_timeout fails the handshake with
            # ConnectionAbortedError, a ConnectError where anyio's is a ConnectTimeout.
            async with asyncio.timeout(timeout):
                transport = await asyncio.get_running_loop().start_tls(
                    self._asyncio_transport, connection, ssl_context, server_hostname=server_hostname
                )
        except TimeoutError as error:
            self._asyncio_transport.close()
            _failed(httpcore2.ConnectTimeout, error)
        except OSError as error:  # ssl.SSLError and ConnectionError are OSErrors
            self._asyncio_transport.close()
            _failed(httpcore2.ConnectError, error)
        if transport is None:  # the connection was closed during the handshake
            _failed(httpcore2.ConnectError, connection.lost or ConnectionResetError("closed during the TLS handshake"))
        # (No isinstance check: uvloop's TLS transport does not subclass asyncio.Transport.)
        # Paused while TLS holds any bytes unsent, resumed once it holds none. Not high=0, as on the connection's
        # own: TLS's flow control (asyncio's and uvloop's alike) pauses when its buffer is at least the high-water
        # mark, so at 0 it paused on every other write with nothing buffered, and the write then waited for the
        # server's next bytes (its answer, if any came before the write timeout).
        transport.set_write_buffer_limits(high=1, low=0)
        return AsyncioStream(transport, connection)

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            return bool(self._connection.received) or self._connection.ended
        if info in ("ssl_object", "socket"):
            return self._asyncio_transport.get_extra_info(info)
        if info == "client_addr":
            return self._asyncio_transport.get_extra_info("sockname")
        if info == "server_addr":
            return self._asyncio_transport.get_extra_info("peername")
        return None


class AsyncioBackend(httpcore2.AsyncNetworkBackend):
    """Connections through asyncio's transports; httpcore2's anyio backend under another event loop."""

    def __init__(self) -> None:
        self._other_loops: httpcore2.AsyncNetworkBackend | None = None

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore2.SOCKET_OPTION] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        loop = _running_loop()
        if loop is None:
            return await self._other().connect_tcp(host, port, timeout, local_address, socket_options)
        where = None if local_address is None else (local_address, 0)
        return await _opened(loop.create_connection(_Connection, host, port, local_addr=where), timeout, socket_options)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[httpcore2.SOCKET_OPTION] | None = None
    ) -> httpcore2.AsyncNetworkStream:
        loop = _running_loop()
        if loop is None:
            return await self._other().connect_unix_socket(path, timeout, socket_options)
        return await _opened(loop.create_unix_connection(_Connection, path), timeout, socket_options)

    async def sleep(self, seconds: float) -> None:
        if _running_loop() is None:
            await self._other().sleep(seconds)
        else:
            await asyncio.sleep(seconds)

    def _other(self) -> httpcore2.AsyncNetworkBackend:
        if self._other_loops is None:
            self._other_loops = httpcore2.AnyIOBackend()
        return self._other_loops


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:  # not asyncio (trio, say)
        return None


async def _opened(
    connecting: Any, timeout: float | None, socket_options: Iterable[httpcore2.SOCKET_OPTION] | None
) -> AsyncioStream:
    try:
        async with asyncio.timeout(timeout):
            transport, connection = await connecting
    except TimeoutError as error:
        _failed(httpcore2.ConnectTimeout, error)
    except OSError as error:
        # asyncio words a refusal "Connect call failed ('127.0.0.1', 9)"; say what the OS said, as anyio does.
        # (A failed name lookup's errno is getaddrinfo's, which os.strerror does not know: its own words are right.)
        errno = None if isinstance(error, socket.gaierror) else error.errno
        said = f"[Errno {errno}] {os.strerror(errno)}" if errno else str(error)
        raise httpcore2.ConnectError(said or type(error).__name__) from error
    sock = transport.get_extra_info("socket")
    for option in socket_options or ():
        sock.setsockopt(*option)
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return AsyncioStream(transport, connection)
