"""pyclann.testing and the pytest plugin: a fresh dev server per test, ready clients, a clear line without the extra."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pyclann import AsyncChatClient, ChatClient, ClannNotFoundError
from pyclann.testing import DEV_USERS, DevServer, dev_server


def test_the_fixtures_give_a_running_server_and_a_client_acting_as_alice(
    clann_server: DevServer, clann_client: ChatClient
) -> None:
    assert clann_server.url.startswith("http://127.0.0.1:")
    assert dict(clann_server.tokens) == dict(DEV_USERS)
    session = clann_client.create_session("Draft", "alice")
    with clann_server.client("bob") as bob, pytest.raises(ClannNotFoundError):
        bob.get_session(session)
    assert [s.id for s in clann_client.list_sessions("alice")] == [session.id]


def test_each_test_gets_a_fresh_database(clann_client: ChatClient) -> None:
    # The test above created a session; this test's server has none.
    assert clann_client.list_sessions("alice") == []


async def test_the_async_fixture_is_a_ready_async_client(clann_async_client: AsyncChatClient) -> None:
    session = await clann_async_client.create_session("Async", "alice")
    await clann_async_client.append_message(session, "user", "hi")
    assert [m.content async for m in clann_async_client.iter_messages(session)] == ["hi"]


def test_dev_server_takes_users_of_your_own() -> None:
    with dev_server({"carol": "carols-token"}) as server, server.client("carol") as carol:
        assert carol.create_session("Mine", "carol").created_by == "carol"
    assert "carols-token" not in repr(server)


def test_a_user_the_server_does_not_know_is_named_with_those_it_knows() -> None:
    with dev_server({"carol": "c", "dave": "d"}) as server, pytest.raises(KeyError) as caught:
        server.client()  # alice, by default
    assert caught.value.args[0] == "this dev server has no user 'alice'; it knows carol, dave"


def test_two_users_with_one_token_are_refused_before_a_server_starts() -> None:
    with (
        pytest.raises(ValueError, match="users 'carol' and 'dave' have the same token"),
        dev_server({"carol": "t", "dave": "t"}),
    ):
        pass


def test_without_the_server_extra_the_fixture_fails_with_one_clear_line(tmp_path: Path) -> None:
    # The dev server made unimportable, as it is when pyclann is installed without [server].
    (tmp_path / "conftest.py").write_text("import sys\nsys.modules['uvicorn'] = None\n")
    (tmp_path / "test_user.py").write_text("def test_it(clann_client):\n    pass\n")
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)]
    result = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, check=False)
    assert result.returncode == 1
    # The message is a line of its own in the error's section. The short summary repeats it,
    # cut to the terminal's width or not (pytest never cuts it when $CI is set): not counted.
    line = "the Clann dev server is not installed: pip install \"pyclann[server]\" (no module 'uvicorn')"
    assert result.stdout.splitlines().count(line) == 1, result.stdout
    assert "During handling" not in result.stdout
    assert "Traceback" not in result.stdout
