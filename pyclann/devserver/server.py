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
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from types import FrameType
from typing import Any

import uvicorn

from . import DEV_TOKENS
from .app import create_app
from .connection import Limits, protocol_class
from .store import REPLAY_TTL, Store

__all__ = ["DEV_TOKENS", "CannotServe", "Limits", "RunningServer", "bind", "running", "serve_forever"]

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@dataclass(frozen=True)
class RunningServer:
    """A server started by `running`: its base URL, port and users' tokens."""

    url: str
    port: int
    tokens: Mapping[str, str]


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


def _server(store: Store, tokens: Mapping[str, str], limits: Limits) -> uvicorn.Server:
    # uvicorn's httptools protocol, with the deadlines and limits of `connection`, on uvloop
    # where the server extra installed it: measured with a do-nothing app, httptools and
    # uvloop answer in 0.62 ms where h11 on asyncio takes 0.83 (`connection` says why not h11).
    # Both parsers discard the rest of a body the app did not read once it has answered.
    # The app logs one line per request itself; uvicorn's access log would be a second.
    # ws="none": the app takes no WebSocket; `connection` reads a request asking for an upgrade as any other.
    config = uvicorn.Config(
        create_app(store, tokens, body_timeout=limits.body_timeout),
        http=protocol_class(limits),
        ws="none",
        log_config=None,
        access_log=False,
        lifespan="off",
        proxy_headers=False,
        limit_concurrency=limits.max_connections,
        timeout_keep_alive=limits.keep_alive,
        timeout_graceful_shutdown=limits.graceful_shutdown,
    )
    return uvicorn.Server(config)


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
) -> None:
    """Serve on a socket from `bind` until SIGINT or SIGTERM, printing the URL and the users' tokens.

    A stop is clean: requests in progress get `limits.graceful_shutdown` seconds
    to finish, the database is checkpointed into its one file (`Store.close`),
    and the port file is removed. Then the process dies of the signal it was
    sent, as uvicorn intends, so that whoever sent it sees it obeyed.

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
        server = _server(store, tokens, limits or Limits())

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
    replay_ttl: timedelta = REPLAY_TTL,
    limits: Limits | None = None,
) -> Iterator[RunningServer]:
    """Run the dev server in a thread on a free port of `host`; stop it on exit.

    Args:
        db: The SQLite file; created if missing.
        tokens: Bearer tokens, each with its username.
        host: The address to listen on.
        replay_ttl: How long idempotency records are kept; tests pass a short one.
        limits: Deadlines and the connection limit; tests pass short deadlines.
    """
    limits = limits or Limits()
    sock = bind(host, 0)
    port = sock.getsockname()[1]
    try:
        store = _open(db, replay_ttl)
    except CannotServe:
        sock.close()
        raise
    server = _server(store, tokens, limits)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="clann-devserver", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the dev server did not start")
        time.sleep(0.01)
    try:
        yield RunningServer(f"http://{host}:{port}", port, tokens)
    finally:
        server.should_exit = True
        thread.join(limits.graceful_shutdown + 10)
        sock.close()
        store.close()
        logging.getLogger("pyclann.devserver").debug("stopped the server on port %d", port)
