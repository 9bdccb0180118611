"""What tests need, yours and ours: retries that do not wait, and a dev server to call.

    from pyclann.testing import dev_server, instant_retries

    with dev_server() as server, server.client("alice") as chat:
        session = chat.create_session("Test", "alice")

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

import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs

from ._retry import instant_retries, scaled_retries
from .client import AsyncChatClient, ChatClient
from .devserver import DEV_TOKENS, tokens_of

__all__ = ["DEV_USERS", "DevServer", "dev_server", "instant_retries", "scaled_retries"]

DEV_USERS: Mapping[str, str] = {user: token for token, user in DEV_TOKENS.items()}
"""The users a dev server knows unless told otherwise, and their bearer tokens."""

INSTALL_HINT = 'the Clann dev server is not installed: pip install "pyclann[server]"'


@attrs.frozen
class DevServer:
    """A dev server running on 127.0.0.1, with a database of its own.

    Attributes:
        url: Its base URL, such as `http://127.0.0.1:41234`.
        tokens: Each user's bearer token.
    """

    url: str
    tokens: Mapping[str, str] = attrs.field(repr=False)

    def client(self, user: str = "alice", **options: Any) -> ChatClient:
        """A `ChatClient` acting as `user`; `options` as `ChatClient` takes them.

        Raises:
            KeyError: If the server does not know `user` (the message names those it knows).
        """
        return ChatClient(self.url, token=self._token(user), **options)

    def async_client(self, user: str = "alice", **options: Any) -> AsyncChatClient:
        """An `AsyncChatClient` acting as `user`; `options` as `AsyncChatClient` takes them.

        Raises:
            KeyError: If the server does not know `user` (the message names those it knows).
        """
        return AsyncChatClient(self.url, token=self._token(user), **options)

    def _token(self, user: str) -> str:
        try:
            return self.tokens[user]
        except KeyError:
            raise KeyError(f"this dev server has no user {user!r}; it knows {', '.join(sorted(self.tokens))}") from None


@contextmanager
def dev_server(users: Mapping[str, str] | None = None) -> Iterator[DevServer]:
    """Run a dev server on a free port of 127.0.0.1 with a fresh database; stop it on exit.

    Args:
        users: Each user's bearer token; defaults to `DEV_USERS`.

    Yields:
        The running server.

    Raises:
        ModuleNotFoundError: If the server extra is not installed (its message says how to install it).
        ValueError: If two users are given the same token (the server could not tell them apart).
    """
    tokens = dict(users if users is not None else DEV_USERS)
    served = tokens_of(tokens.items())
    try:
        from .devserver.server import running
    except ModuleNotFoundError as error:
        raise ModuleNotFoundError(INSTALL_HINT, name=error.name) from error
    with (
        tempfile.TemporaryDirectory(prefix="clann-test-") as folder,
        running(Path(folder) / "chat.sqlite3", served) as server,
    ):
        yield DevServer(server.url, tokens)
