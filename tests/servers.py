"""Real HTTP servers on 127.0.0.1, for what a MockTransport cannot show.

A mock transport hands httpx2 a whole response object: it cannot drip bytes,
reset a connection half-way, hold a socket open or send a compressed stream as
it comes. `Server` listens on 127.0.0.1 (port 0, so the system picks a free
one), hands each connection to a function of the test's, one thread each, and
is stopped by the test (`with Server(...) as server:`): leaving the block wakes
every wait, closes every socket and joins every thread.
"""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import struct
import threading
from collections.abc import Callable
from http import HTTPStatus
from pathlib import Path
from types import TracebackType
from typing import Any, Self


def response(status: int, body: bytes | dict[str, Any] = b"", headers: dict[str, str] | None = None) -> bytes:
    """A whole HTTP/1.1 response, closing its connection; a dict body is sent as JSON."""
    if isinstance(body, dict):
        content = json.dumps(body).encode()
        media = "application/json" if status < 400 else "application/problem+json"
        headers = {"Content-Type": media, **(headers or {})}
    else:
        content = body
    return head(status, {"Content-Length": str(len(content)), **(headers or {})}) + content


def head(status: int, headers: dict[str, str]) -> bytes:
    """A response's status line and headers, without a body."""
    lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}", "X-Request-Id: srv-1", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class Exchange:
    """One connection, as the server's side of it sees it."""

    def __init__(self, sock: socket.socket, stop: threading.Event) -> None:
        self.sock = sock
        self.stop = stop

    def read_request(self) -> bytes:
        """The whole request: its head, and as many body bytes as its Content-Length says."""
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = self.sock.recv(65536)
            if not chunk:
                return data
            data += chunk
        header, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in header.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(body) < length:
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            body += chunk
        return header + b"\r\n\r\n" + body

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def drip(self, data: bytes, every: float) -> bool:
        """Send `data` one byte every `every` seconds; whether it was all sent before the server stopped."""
        for i in range(len(data)):
            if self.stop.wait(every):
                return False
            self.sock.sendall(data[i : i + 1])
        return True

    def wait(self, seconds: float) -> None:
        """Hold the connection for `seconds`, or until the server stops."""
        self.stop.wait(seconds)

    def reset(self) -> None:
        """Close with a TCP reset (RST), as a crashed peer or a proxy does, not an orderly FIN."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()


Handler = Callable[[Exchange], None]


class Server:
    """A server on 127.0.0.1 that hands every connection to `handle`; a context manager."""

    def __init__(self, handle: Handler) -> None:
        self.handle = handle
        self.stop = threading.Event()
        self.connections = 0
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sockets: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        host, port = self._listener.getsockname()
        return f"http://{host}:{port}"

    def __enter__(self) -> Self:
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        accepting = threading.Thread(target=self._accept, name="test-server", daemon=True)
        accepting.start()
        self._threads.append(accepting)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop.set()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        with self._lock:  # no connection is added after this: _accept checks `stop` under the lock
            sockets, threads = list(self._sockets), list(self._threads)
        for sock in sockets:
            with contextlib.suppress(OSError):  # closed already, by the handler
                sock.shutdown(socket.SHUT_RDWR)  # wakes a handler blocked in recv
        for thread in threads:
            thread.join(5)
        for sock in sockets:
            sock.close()
        self._listener.close()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                sock, _ = self._listener.accept()
            except OSError:  # the listener was shut down: the server is stopping
                return
            sock.settimeout(None)
            with self._lock:
                if self.stop.is_set():
                    sock.close()
                    return
                self.connections += 1
                self._sockets.append(sock)
                thread = threading.Thread(target=self._serve, args=(sock,), daemon=True)
                self._threads.append(thread)
            thread.start()

    def _serve(self, sock: socket.socket) -> None:
        try:
            self.handle(Exchange(sock, self.stop))
        except OSError:
            pass  # the client went away, or the test stopped the server
        finally:
            with contextlib.suppress(OSError):
                sock.close()


def answering(data: bytes) -> Handler:
    """A handler that reads the request and sends `data`."""

    def handle(exchange: Exchange) -> None:
        exchange.read_request()
        exchange.send(data)

    return handle


def refused_url() -> str:
    """The URL of a 127.0.0.1 port nothing listens on: connecting is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        host, port = sock.getsockname()
    return f"http://{host}:{port}"


# A certificate for 127.0.0.1, and its key: trusted only by a client told to (SSL_CERT_FILE, or a context of its own).
TLS = Path(__file__).parent / "tls"


def tls_context(required_client_cert: bool = False) -> ssl.SSLContext:
    """A server's TLS context with the test certificate; asking the client for one of its own, if told to."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(TLS / "server.pem", TLS / "server.key")
    if required_client_cert:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(TLS / "server.pem")
    return context


def start_tls(exchange: Exchange, context: ssl.SSLContext) -> ssl.SSLSocket | None:
    """The connection, its handshake done, as the exchange's socket from now on; None if the handshake failed."""
    try:
        sock = context.wrap_socket(exchange.sock, server_side=True)
    except (ssl.SSLError, OSError):
        return None
    exchange.sock = sock
    return sock
