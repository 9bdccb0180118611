"""What tests need, yours and ours: retries that do not wait, and a dev server to call.

    from pyclann.testing import dev_server, instant_retries

    with dev_server() as server, server.client("alice") as chat:
        session = chat.create_session("Test", "alice")
        server.reset()  # every session gone, in about a millisecond; the users stay

    with instant_retries() as waits:
        chat.list_sessions("alice")  # retried at once, however long the waits
    assert waits == []  # the waits it would have slept

    with scaled_retries(0.01):  # real waits, a hundredth as long
        chat.list_sessions("alice")

With pytest, the same server comes as fixtures (`clann_server`, `clann_client`,
`clann_async_client`; see `pyclann.pytest_plugin`). The dev server needs the
server extra: `pip install "pyclann[server]"`. This module is the one bridge
between the SDK and the server, and imports the server only when asked for one.
"""

from __future__ import annotations

import contextlib
import math
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict, Unpack

import attrs
import httpx2

from ._retry import instant_retries, scaled_retries
from ._types import NotGiven
from .client import AsyncChatClient, ChatClient
from .devserver import DEV_TOKENS, tokens_of

if TYPE_CHECKING:
    from .devserver.app import ChatApp

__all__ = [
    "DEV_USERS",
    "AsyncClientOptions",
    "ClientOptions",
    "DevServer",
    "dev_server",
    "instant_retries",
    "scaled_retries",
]

DEV_USERS: Mapping[str, str] = {user: token for token, user in DEV_TOKENS.items()}
"""The users a dev server knows unless told otherwise, and their bearer tokens."""

INSTALL_HINT = 'the Clann dev server is not installed: pip install "pyclann[server]"'


class _Options(TypedDict, total=False):
    timeout: float | httpx2.Timeout | NotGiven | None
    max_retries: int
    total_timeout: float | None
    max_response_size: int
    headers: Mapping[str, str] | None


class ClientOptions(_Options, total=False):
    """`ChatClient`'s keyword options, as `DevServer.client` takes them (each as `ChatClient` documents it)."""

    http_client: httpx2.Client | None


class AsyncClientOptions(_Options, total=False):
    """`AsyncChatClient`'s keyword options, as `DevServer.async_client` takes them."""

    http_client: httpx2.AsyncClient | None


@attrs.frozen
class DevServer:
    """A dev server running on 127.0.0.1, with a database of its own.

    Attributes:
        url: Its base URL, such as `http://127.0.0.1:41234`.
        tokens: Each user's bearer token.
    """

    url: str
    tokens: Mapping[str, str] = attrs.field(repr=False)
    _app: ChatApp | None = attrs.field(default=None, repr=False, eq=False, alias="app")
    _write_delay: float = attrs.field(default=0.0, repr=False, eq=False, alias="write_delay")

    @property
    def port(self) -> int:
        """The port it listens on: start another on it (and the same `database`) to restart it."""
        return httpx2.URL(self.url).port or 80

    def client(self, user: str = "alice", **options: Unpack[ClientOptions]) -> ChatClient:
        """A `ChatClient` acting as `user`, with `options` as `ChatClient` takes them.

        Raises:
            KeyError: If the server does not know `user` (the message names those it knows).
        """
        return ChatClient(self.url, token=self._token(user), **options)

    def async_client(self, user: str = "alice", **options: Unpack[AsyncClientOptions]) -> AsyncChatClient:
        """An `AsyncChatClient` acting as `user`, with `options` as `AsyncChatClient` takes them.

        Raises:
            KeyError: If the server does not know `user` (the message names those it knows).
        """
        return AsyncChatClient(self.url, token=self._token(user), **options)

    def reset(self) -> None:
        """Forget every session, message and idempotency record, and undo `delaying_writes`.

        The users and their tokens stay, and so do clients already made: this is how
        the pytest fixtures give each test a fresh server in about a millisecond.

        Raises:
            RuntimeError: If this server was not started by `dev_server()`.
        """
        app = self._control()
        app.write_delay = self._write_delay
        app.reset()

    @contextmanager
    def delaying_writes(self, seconds: float) -> Iterator[None]:
        """Keep each write in flight for `seconds` before carrying it out, within the block.

        Meanwhile a request with the same Idempotency-Key is answered 409
        `idempotency-in-flight` (`ClannConflictError`): how to test your handling of it.

        Raises:
            ValueError: If `seconds` is negative or not finite.
            RuntimeError: If this server was not started by `dev_server()`.
        """
        if not (math.isfinite(seconds) and seconds >= 0):
            raise ValueError(f"seconds must be finite and at least 0, got {seconds!r}")
        app = self._control()
        before, app.write_delay = app.write_delay, seconds
        try:
            yield
        finally:
            app.write_delay = before

    def _control(self) -> ChatApp:
        if self._app is None:
            raise RuntimeError("this DevServer was not started by dev_server(): it has no server to control")
        return self._app

    def _token(self, user: str) -> str:
        try:
            return self.tokens[user]
        except KeyError:
            raise KeyError(f"this dev server has no user {user!r}; it knows {', '.join(sorted(self.tokens))}") from None


@contextmanager
def dev_server(
    users: Mapping[str, str] | None = None,
    *,
    write_delay: float = 0.0,
    database: str | Path | None = None,
    port: int = 0,
) -> Iterator[DevServer]:
    """Run a dev server on a free port of 127.0.0.1 with a fresh database; stop it on exit.

    To test how your code rides out a server restart, start one on a file and a port of
    your own, stop it, and start another on the same two:

        with dev_server(database=tmp_path / "chat.sqlite3") as server:
            port = server.port
        with dev_server(database=tmp_path / "chat.sqlite3", port=port) as server:
            ...  # the same URL, and every record the first one held

    Args:
        users: Each user's bearer token; defaults to `DEV_USERS`.
        write_delay: Seconds each write is kept in flight before it is carried out, so
            that a request sent again meanwhile with its Idempotency-Key is answered 409;
            0, the default, for none. `DevServer.delaying_writes` sets it for a block.
        database: The SQLite file to serve, created if missing and kept on exit; by
            default a fresh one in a temporary folder, removed on exit.
        port: The port to listen on; 0, the default, picks a free one.

    Yields:
        The running server.

    Raises:
        ModuleNotFoundError: If the server extra is not installed (its message says how to install it).
        ValueError: If two users are given the same token (the server could not tell them apart),
            or `write_delay` is negative or not finite.
        OSError: If `port` cannot be listened on (another server holds it).
    """
    if not (math.isfinite(write_delay) and write_delay >= 0):
        raise ValueError(f"write_delay must be finite and at least 0, got {write_delay!r}")
    tokens = dict(users if users is not None else DEV_USERS)
    served = tokens_of(tokens.items())
    try:
        from .devserver.server import running
    except ModuleNotFoundError as error:
        raise ModuleNotFoundError(INSTALL_HINT, name=error.name) from error
    with contextlib.ExitStack() as stack:
        if database is None:
            database = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="clann-test-"))) / "chat.sqlite3"
        server = stack.enter_context(running(database, served, port=port, write_delay=write_delay))
        yield DevServer(server.url, tokens, app=server.app, write_delay=write_delay)
