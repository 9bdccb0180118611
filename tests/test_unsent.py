"""A request that failed before its first byte was sent: its real cause, and never "may have been carried out".

Two ways nothing is sent: the connection is refused (nothing listens), or it is
blocked before it is made, as pytest-recording's `--block-network` does (it makes
`socket.connect` raise RuntimeError; anyio wraps that in an exception group). The
last test runs the testing guide's offline recipe, as written, against tests that
use the plugin's fixtures.
"""

from __future__ import annotations

import gc
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_recording.network import blocking_context

from pyclann import AsyncChatClient, ChatClient, ClannConnectionError
from pyclann.testing import instant_retries
from tests.helpers import METHODS, TOKEN, WRITES, close, invoke
from tests.servers import Exchange, Server, refused_url


@pytest.fixture(params=["sync", "async"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def blocked() -> Iterator[None]:
    """Every connection refused by pytest-recording's network guard, 127.0.0.1 included.

    The guard raises RuntimeError inside `socket.create_connection`, which closes its
    socket only on an OSError: the socket is left to the collector, which warns
    (ResourceWarning). That is the guard's doing, not pyclann's: it is collected here,
    with that warning ignored.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        with blocking_context(allowed_hosts=None):
            yield
        gc.collect()


def client_for(kind: str, url: str) -> ChatClient | AsyncChatClient:
    cls = ChatClient if kind == "sync" else AsyncChatClient
    return cls(url, token=TOKEN)


async def failure(kind: str, method: str, url: str) -> ClannConnectionError:
    client = client_for(kind, url)
    try:
        with pytest.raises(ClannConnectionError) as caught, instant_retries():
            await invoke(client, method)
    finally:
        await close(client)
    return caught.value


@pytest.mark.usefixtures("blocked")
@pytest.mark.parametrize("method", METHODS)
async def test_a_blocked_connection_shows_its_cause_not_an_exception_group(kind: str, method: str) -> None:
    error = await failure(kind, method, "http://127.0.0.1:9")
    assert "Network is disabled for host '127.0.0.1'" in str(error)
    assert "ExceptionGroup" not in str(error)
    assert "TaskGroup" not in str(error)
    assert type(error.__cause__) is RuntimeError


@pytest.mark.usefixtures("blocked")
@pytest.mark.parametrize("method", WRITES)
async def test_a_write_whose_connection_was_blocked_was_not_carried_out(kind: str, method: str) -> None:
    error = await failure(kind, method, "http://127.0.0.1:9")
    assert error.may_have_landed is False
    assert "was not carried out" in str(error)
    assert "may have been carried out" not in str(error)


@pytest.mark.parametrize("method", WRITES)
async def test_a_write_whose_connection_was_refused_was_not_carried_out(kind: str, method: str) -> None:
    error = await failure(kind, method, refused_url())
    assert error.may_have_landed is False
    assert "was not carried out" in str(error)
    assert "ExceptionGroup" not in str(error)


OFFLINE_TESTS = """
from pyclann import AsyncChatClient, ChatClient


async def test_async_append():
    async with AsyncChatClient("http://127.0.0.1:9", token="t") as chat:
        await chat.create_session("offline", "alice")


def test_sync_append():
    with ChatClient("http://127.0.0.1:9", token="t") as chat:
        chat.create_session("offline", "alice")
"""


def test_a_write_blocked_by_block_network_fails_saying_why_and_that_it_was_not_carried_out(tmp_path: Path) -> None:
    # pytest-recording's --block-network, as a user's own tests meet it (the plugin's fixtures are let
    # through to their own server on 127.0.0.1; these clients call another): each test fails, saying
    # that the network was blocked and that nothing was written, not "ExceptionGroup".
    (tmp_path / "test_offline.py").write_text(OFFLINE_TESTS)
    pytest_in_tmp = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-o", "addopts="]
    pytest_in_tmp += ["-o", "asyncio_mode=auto", "-o", "asyncio_default_fixture_loop_scope=function"]
    run = subprocess.run(
        [*pytest_in_tmp, "--record-mode=none", "--block-network", "-q", "test_offline.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = run.stdout + run.stderr
    assert "2 failed" in output, output
    assert output.count("Network is disabled for host '127.0.0.1'") >= 2, output
    assert "unhandled errors in a TaskGroup" not in output, output
    assert "may have been carried out" not in output, output
    assert output.count("create_session was not carried out") >= 2, output


def _read_then_hang_up(exchange: Exchange) -> None:
    exchange.read_request()  # the request arrived, and may have been carried out; no answer comes back


@pytest.mark.parametrize("method", WRITES)
async def test_a_write_whose_answer_was_lost_after_sending_may_have_been_carried_out(kind: str, method: str) -> None:
    with Server(_read_then_hang_up) as server:
        error = await failure(kind, method, server.url)
    assert error.may_have_landed is True
    assert "may have been carried out" in str(error)
