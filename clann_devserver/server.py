"""Serving the app: in the foreground (the command line), or in a thread for tests and scripts.

with running("chat.sqlite3") as server:
    client = ChatClient(server.url, token="dev-token-alice")
"""

from __future__ import annotations

import logging
import socket
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import uvicorn

from . import DEV_TOKENS
from .app import create_app
from .connection import Limits, protocol_class
from .store import REPLAY_TTL, Store

__all__ = ["DEV_TOKENS", "Limits", "RunningServer", "bind", "running", "serve_forever"]


@dataclass(frozen=True)
class RunningServer:
    """A server started by `running`: its base URL, port and users' tokens."""

    url: str
    port: int
    tokens: Mapping[str, str]


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on `host` and `port` (0 picks a free one); OSError if it cannot be had."""
    # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY only on sockets that say so, and
    # without it every small response waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
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
    # ws="none": the app takes no WebSocket, so an Upgrade header is ignored, not obeyed.
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


def serve_forever(
    sock: socket.socket,
    db: str | Path,
    tokens: Mapping[str, str],
    *,
    port_file: str | None = None,
    limits: Limits | None = None,
) -> None:
    """Serve on a socket from `bind` until interrupted, printing the URL and the users' tokens."""
    host, port = sock.getsockname()[:2]
    store = Store(db)
    print(f"Clann dev server on http://{host}:{port} (database {db})", file=sys.stderr)
    for token, user in tokens.items():
        print(f"  user {user}: CLANN_TOKEN={token}", file=sys.stderr)
    if port_file:
        Path(port_file).write_text(str(port))
    try:
        _server(store, tokens, limits or Limits()).run(sockets=[sock])
    finally:
        store.close()


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
    store = Store(db, replay_ttl=replay_ttl)
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
        logging.getLogger("clann_devserver").debug("stopped the server on port %d", port)
