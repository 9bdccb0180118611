"""pytest fixtures for code that calls Clann: one dev server per test session, fresh for each test.

Installed with pyclann (a `pytest11` entry point), and usable once the server
extra is: `pip install "pyclann[server]"`.

    def test_rename(clann_client):
        session = clann_client.create_session("Draft", "alice")
        assert clann_client.update_session(session, title="Final").title == "Final"

`clann_server` is a `pyclann.testing.DevServer` with users `alice` and `bob`;
`clann_client` and `clann_async_client` act as alice. `clann_async_client`
runs under pytest-asyncio, or anyio's pytest plugin.

One server serves a whole session (one for each pytest-xdist worker), started
by the first test that asks for it; before each test it forgets every record
(`DevServer.reset`), which takes about a millisecond, and keeps its users.

With pytest-recording's `--block-network`, a test that uses these fixtures may
still reach the dev server: 127.0.0.1 is added to the hosts it allows (those
of `--allowed-hosts`, or of its `block_network` mark).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from .client import AsyncChatClient, ChatClient
from .testing import INSTALL_HINT, DevServer, dev_server

# The fixtures that reach the dev server, and the host it listens on, as a pattern of pytest-recording's.
_FIXTURES = frozenset({"clann_server", "clann_client", "clann_async_client"})
_DEV_SERVER_HOST = r"127\.0\.0\.1$"


@pytest.fixture(scope="session")
def clann_session_server() -> Iterator[DevServer]:
    """The dev server this session's tests share (one per pytest-xdist worker); stopped at the end.

    Ask for `clann_server` instead, which resets it before the test; ask for this one
    only to keep what earlier tests wrote.
    """
    missing = _missing_server()
    if missing:
        pytest.fail(missing, pytrace=False)
    with dev_server() as server:
        yield server


@pytest.fixture
def clann_server(clann_session_server: DevServer) -> DevServer:
    """The session's dev server, with every record of earlier tests forgotten; users alice and bob."""
    clann_session_server.reset()
    return clann_session_server


def _missing_server() -> str | None:
    # Checked apart from starting it, so that pytest shows one line, not a chain of tracebacks.
    try:
        import pyclann.devserver.server  # noqa: F401
    except ModuleNotFoundError as error:
        return f"{INSTALL_HINT} (no module {error.name!r})"
    return None


@pytest.fixture(scope="session")
def _clann_session_client(clann_session_server: DevServer) -> Iterator[ChatClient]:
    # Made once: a ChatClient's own httpx2 client loads the CA bundle into a new SSL context,
    # about 60 ms, which each test would otherwise pay.
    with clann_session_server.client("alice") as client:
        yield client


@pytest.fixture
def clann_client(clann_server: DevServer, _clann_session_client: ChatClient) -> ChatClient:
    """A `ChatClient` for `clann_server`, acting as alice.

    A copy (`with_options()`) of one client that the session's tests share, with its
    connections: closing it, or changing its options, leaves the next test's alone.
    """
    return _clann_session_client.with_options()


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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Let the tests that use the fixtures reach the dev server when pytest-recording blocks the network."""
    blocking = bool(config.getoption("--block-network", default=False))
    given = config.getoption("--allowed-hosts", default=None)
    for item in items:
        if _FIXTURES.isdisjoint(getattr(item, "fixturenames", ())):
            continue
        mark = item.get_closest_marker("block_network")
        if not blocking and mark is None:
            continue
        allowed = (mark.kwargs.get("allowed_hosts") if mark is not None else None) or given or []
        if isinstance(allowed, str):
            allowed = allowed.split(",")
        # First among the item's marks, so that it is the closest: pytest-recording reads that one.
        item.add_marker(pytest.mark.block_network(allowed_hosts=[*allowed, _DEV_SERVER_HOST]), append=False)
