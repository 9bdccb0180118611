"""pytest fixtures for code that calls Clann: a dev server per test, and clients for it.

Installed with pyclann (a `pytest11` entry point), and usable once the server
extra is: `pip install "pyclann[server]"`.

    def test_rename(clann_client):
        session = clann_client.create_session("Draft", "alice")
        assert clann_client.update_session(session, title="Final").title == "Final"

`clann_server` is a `pyclann.testing.DevServer` with users `alice` and `bob`;
`clann_client` and `clann_async_client` act as alice. `clann_async_client`
runs under pytest-asyncio, or anyio's pytest plugin.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from .client import AsyncChatClient, ChatClient
from .testing import INSTALL_HINT, DevServer, dev_server


@pytest.fixture
def clann_server() -> Iterator[DevServer]:
    """A dev server on a free port of 127.0.0.1, with a fresh database, stopped after the test."""
    missing = _missing_server()
    if missing:
        pytest.fail(missing, pytrace=False)
    with dev_server() as server:
        yield server


def _missing_server() -> str | None:
    # Checked apart from starting it, so that pytest shows one line, not a chain of tracebacks.
    try:
        import pyclann.devserver.server  # noqa: F401
    except ModuleNotFoundError as error:
        return f"{INSTALL_HINT} (no module {error.name!r})"
    return None


@pytest.fixture
def clann_client(clann_server: DevServer) -> Iterator[ChatClient]:
    """A `ChatClient` for `clann_server`, acting as alice; closed after the test."""
    with clann_server.client("alice") as client:
        yield client


def _async_fixture(function: Callable[..., AsyncIterator[AsyncChatClient]]) -> Any:
    # pytest-asyncio's decorator when it is installed (it works in its strict mode too);
    # else pytest's own, which anyio's pytest plugin runs for tests marked anyio.
    try:
        import pytest_asyncio
    except ModuleNotFoundError:
        return pytest.fixture(function)
    return pytest_asyncio.fixture(function)


@_async_fixture
async def clann_async_client(clann_server: DevServer) -> AsyncIterator[AsyncChatClient]:
    """An `AsyncChatClient` for `clann_server`, acting as alice; closed after the test."""
    async with clann_server.async_client("alice") as client:
        yield client
