"""Serving the app: in the foreground (the command line), or in a thread for tests and scripts.

with running("chat.sqlite3") as server:
    client = ChatClient(server.url, token="dev-token-alice")
"""

from __future__ import annotations

import logging
import signal
import socket
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from types import FrameType
from typing import Any

import uvicorn

from . import DEV_TOKENS
from .app import ChatApp
from .store import REPLAY_TTL, Store
from .wire import BODY_TIMEOUT, MAX_HEADER_SECTION, MAX_TARGET

__all__ = [
    "DEV_TOKENS",
    "CannotServe",
    "Limits",
    "RunningServer",
    "bind",
    "default_max_connections",
    "running",
    "serve_forever",
]

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
# The most of an unfinished request head (or of a chunked body's framing) that h11 holds
# (uvicorn's `h11_max_incomplete_event_size`): the contract's limits on the target and the
# header section, and room for the request line and the blank line. A head within both limits
# always fits, and the app answers 414 or 431 to one over either (`wire.check_head`); past
# this, uvicorn answers with its own text/plain 400 and closes the connection.
MAX_HEAD = MAX_TARGET + MAX_HEADER_SECTION + (4 << 10)
# File descriptors left for the database, the listening socket, the event loop
# and the standard streams when the connection limit is taken from RLIMIT_NOFILE.
_SPARE_DESCRIPTORS = 64
# Room for 1,000 long polls (each holds its connection while it waits) and the clients that
# write meanwhile: uvicorn answers 503 to any request once this many connections are open.
_MOST_CONNECTIONS = 2000


def default_max_connections() -> int:
    """The most connections to hold: 2,000, or fewer if this process may not open that many files."""
    try:
        import resource
    except ImportError:  # Windows
        return _MOST_CONNECTIONS
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return _MOST_CONNECTIONS
    return max(16, min(_MOST_CONNECTIONS, soft - _SPARE_DESCRIPTORS))


@dataclass(frozen=True)
class Limits:
    """The server's deadline for a body, its stock server's timeouts, and its limit on connections.

    Attributes:
        body_timeout: For a request's body, from when the app starts to read it (see `wire.read_body`).
        keep_alive: How long an idle connection is kept after an answer (uvicorn's `timeout_keep_alive`).
        graceful_shutdown: How long a stopping server waits for requests in progress
            (uvicorn's `timeout_graceful_shutdown`); then it cancels them.
        max_connections: The most connections and requests at once (uvicorn's `limit_concurrency`);
            a request past it is answered with uvicorn's own 503.
    """

    body_timeout: float = BODY_TIMEOUT
    keep_alive: int = 5
    graceful_shutdown: int = 5
    max_connections: int = field(default_factory=default_max_connections)


@dataclass(frozen=True)
class RunningServer:
    """A server started by `running`: its base URL, port and users' tokens, and a handle on its app.

    Attributes:
        url: The base URL, such as `http://127.0.0.1:41234`.
        port: The port it listens on.
        tokens: Bearer tokens, each with its username.
        app: The app it serves: `reset()` and `write_delay` act on it from any thread.
    """

    url: str
    port: int
    tokens: Mapping[str, str]
    app: ChatApp


class CannotServe(Exception):
    """The server cannot start, for a reason that one line tells (a database that cannot be opened)."""


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on `host` and `port` (0 picks a free one); OSError if it cannot be had."""
    # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY only on sockets that say so, and
    # without it every small response waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except BaseException:  # OSError, or a port or host the socket module cannot take (OverflowError, TypeError)
        sock.close()
        raise
    sock.setblocking(False)
    return sock


class _Server(uvicorn.Server):
    """Stock uvicorn, which answers the app's long polls as soon as it begins to stop.

    uvicorn's graceful shutdown waits (up to `Limits.graceful_shutdown`) for the
    requests in progress, and tells the app only after them (lifespan shutdown):
    a long poll would hold every stop for that long, and then be cancelled.
    uvicorn offers no public hook at the start of a stop, so this overrides
    `Server.shutdown` (public, called by `serve` once it is told to exit) to
    answer them first; tests/devserver/test_waiting.py fails if it stops being called.
    """

    def __init__(self, config: uvicorn.Config, app: ChatApp) -> None:
        super().__init__(config)
        self._chat_app = app

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._chat_app.stop_waiting()
        await super().shutdown(sockets)


def _server(app: ChatApp, limits: Limits) -> uvicorn.Server:
    # Stock uvicorn, through its public Config only. h11, not httptools: h11 holds at most
    # `h11_max_incomplete_event_size` of an unfinished head, where httptools holds a header line
    # however long it grows; both are within the bench's goals (bench/devserver.py).
    # The app logs one line per request itself; uvicorn's access log would be a second.
    # lifespan="on": the app learns its event loop at startup, for `ChatApp.reset` from other threads.
    # ws="none": the app takes no WebSocket; a request asking for an upgrade is answered as any other.
    config = uvicorn.Config(
        app,
        http="h11",
        h11_max_incomplete_event_size=MAX_HEAD,
        ws="none",
        log_config=None,
        access_log=False,
        lifespan="on",
        proxy_headers=False,
        limit_concurrency=limits.max_connections,
        timeout_keep_alive=limits.keep_alive,
        timeout_graceful_shutdown=limits.graceful_shutdown,
    )
    return _Server(config, app)


def _open(db: str | Path, replay_ttl: timedelta = REPLAY_TTL) -> Store:
    try:
        return Store(db, replay_ttl=replay_ttl)
    except sqlite3.Error as error:
        raise CannotServe(f"cannot open the database {db}: {error}") from None


def _client_host(host: str) -> str:
    """The host a client on this machine reaches a server bound to `host` at."""
    return "127.0.0.1" if host in ("", "0.0.0.0") else host  # noqa: S104 (a comparison, not a bind)


def serve_forever(
    sock: socket.socket,
    db: str | Path,
    tokens: Mapping[str, str],
    *,
    port_file: str | None = None,
    limits: Limits | None = None,
    write_delay: float = 0.0,
) -> None:
    """Serve on a socket from `bind` until SIGINT or SIGTERM, printing the URL and the users' tokens.

    A stop is clean: requests in progress get `limits.graceful_shutdown` seconds
    to finish, the database is checkpointed into its one file (`Store.close`),
    and the port file is removed. Then the process dies of the signal it was
    sent, as uvicorn intends, so that whoever sent it sees it obeyed.

    Args:
        sock: The listening socket.
        db: The SQLite file; created if missing.
        tokens: Bearer tokens, each with its username.
        port_file: A file to write the port to once listening; removed on the way out.
        limits: The deadline for bodies, the stock server's timeouts and the connection limit.
        write_delay: Seconds each write waits before it is carried out (see `ChatApp.write_delay`).

    Raises:
        CannotServe: The database cannot be opened, or the port file cannot be written.
    """
    host, port = sock.getsockname()[:2]
    store = _open(db)
    written = Path(port_file) if port_file else None
    received: list[int] = []
    previous: dict[int, Any] = {}
    try:
        if written is not None:
            try:
                written.write_text(str(port))  # the socket is listening already
            except OSError as error:
                written = None
                raise CannotServe(f"cannot write the port file {port_file}: {error.strerror or error}") from None
        url = f"http://{_client_host(host)}:{port}"
        print(f"Clann dev server on {url} (database {db}); ChatClient() reads these:", file=sys.stderr)
        for token, user in tokens.items():
            print(f"  user {user}: CLANN_BASE_URL={url} CLANN_TOKEN={token}", file=sys.stderr)
        limits = limits or Limits()
        app = ChatApp(store, tokens, body_timeout=limits.body_timeout, write_delay=write_delay)
        server = _server(app, limits)

        def stop(signum: int, frame: FrameType | None) -> None:
            # uvicorn puts its own handler in place while it serves, and calls this one
            # again once it has stopped; a signal before then stops it before it starts.
            received.append(signum)
            server.should_exit = True

        # Only the main thread may handle signals; elsewhere, uvicorn handles none either.
        if threading.current_thread() is threading.main_thread():
            previous = {signum: signal.signal(signum, stop) for signum in _STOP_SIGNALS}
        server.run(sockets=[sock])
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        store.close()
        if written is not None:
            written.unlink(missing_ok=True)
    if received:
        signal.signal(received[0], signal.SIG_DFL)
        signal.raise_signal(received[0])


@contextmanager
def running(
    db: str | Path,
    tokens: Mapping[str, str] = DEV_TOKENS,
    host: str = "127.0.0.1",
    *,
    port: int = 0,
    replay_ttl: timedelta = REPLAY_TTL,
    limits: Limits | None = None,
    write_delay: float = 0.0,
) -> Iterator[RunningServer]:
    """Run the dev server in a thread on a free port of `host` (or on `port`); stop it on exit.

    Args:
        db: The SQLite file; created if missing.
        tokens: Bearer tokens, each with its username.
        host: The address to listen on.
        port: The port to listen on; 0, the default, picks a free one. A server started again on
            the port and the file of one stopped is, to its clients, the same server restarted.
        replay_ttl: How long idempotency records are kept; tests pass a short one.
        limits: The deadline for bodies, the stock server's timeouts and the connection limit;
            tests pass short ones.
        write_delay: Seconds each write waits before it is carried out (see `ChatApp.write_delay`).
    """
    limits = limits or Limits()
    sock = bind(host, port)
    port = sock.getsockname()[1]
    try:
        store = _open(db, replay_ttl)
    except CannotServe:
        sock.close()
        raise
    app = ChatApp(store, tokens, body_timeout=limits.body_timeout, write_delay=write_delay)
    server = _server(app, limits)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="clann-devserver", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the dev server did not start")
        time.sleep(0.001)
    try:
        yield RunningServer(f"http://{host}:{port}", port, tokens, app)
    finally:
        server.should_exit = True
        thread.join(limits.graceful_shutdown + 10)
        sock.close()
        store.close()
        logging.getLogger("pyclann.devserver").debug("stopped the server on port %d", port)
