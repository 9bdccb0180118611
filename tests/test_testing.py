"""pyclann.testing and the pytest plugin: one dev server a session, reset for each test, ready clients.

Also: a write kept in flight on demand (409), the client options typed as the
clients' own, the testing guide's recipes run as written, and a clear line
without the server extra.
"""

from __future__ import annotations

import asyncio
import inspect
import re
import shlex
import subprocess
import sys
import textwrap
import typing
from pathlib import Path

import pytest

from pyclann import AsyncChatClient, ChatClient, ClannConflictError, ClannNotFoundError
from pyclann.testing import DEV_USERS, AsyncClientOptions, ClientOptions, DevServer, dev_server

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "guides" / "testing.md"


def run_pytest(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """pytest run in `folder` as a user runs it there: none of this project's settings apply."""
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=folder, check=False, timeout=300)


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


def test_one_server_serves_every_test_of_a_session_and_each_test_starts_empty(tmp_path: Path) -> None:
    (tmp_path / "test_user.py").write_text(
        textwrap.dedent(
            """
            from pathlib import Path

            SEEN = Path(__file__).with_name("seen.txt")

            def test_first(clann_server, clann_client):
                with SEEN.open("a") as seen:
                    seen.write(clann_server.url + "\\n")
                clann_client.create_session("first", "alice", idempotency_key="k")

            def test_second(clann_server, clann_client):
                with SEEN.open("a") as seen:
                    seen.write(clann_server.url + "\\n")
                assert clann_client.list_sessions("alice") == []
                # The first test's key is forgotten too: another body with it is a new write, not a 422.
                assert clann_client.create_session("second", "alice", idempotency_key="k").title == "second"
            """
        )
    )
    result = run_pytest(tmp_path, "-q")
    assert result.returncode == 0, result.stdout + result.stderr
    urls = (tmp_path / "seen.txt").read_text().split()
    assert len(urls) == 2
    assert len(set(urls)) == 1


def test_reset_forgets_every_record_and_keeps_the_users_and_their_clients() -> None:
    with dev_server() as server, server.client("alice") as alice, server.client("bob") as bob:
        session = alice.create_session("Draft", "alice", idempotency_key="draft")
        alice.append_message(session, "user", "hi")
        bob.create_session("Bob's", "bob")
        server.reset()
        assert alice.list_sessions("alice") == []
        assert bob.list_sessions("bob") == []
        with pytest.raises(ClannNotFoundError):
            alice.get_session(session)
        assert alice.create_session("Another", "alice", idempotency_key="draft").title == "Another"


async def same_write_twice_at_once(server: DevServer) -> list[object]:
    """The same create_session, with one Idempotency-Key, sent twice at once; what each call gave."""
    async with server.async_client(max_retries=0) as chat:
        results = await asyncio.gather(
            chat.create_session("Draft", "alice", idempotency_key="draft-1"),
            chat.create_session("Draft", "alice", idempotency_key="draft-1"),
            return_exceptions=True,
        )
    return list(results)


async def test_a_write_kept_in_flight_is_a_conflict_for_its_key(clann_server: DevServer) -> None:
    with clann_server.delaying_writes(0.5):
        results = await same_write_twice_at_once(clann_server)
    conflicts = [r for r in results if isinstance(r, ClannConflictError)]
    assert len(conflicts) == 1, results
    assert conflicts[0].problem_type == "tag:clann.dev,2026:problem/idempotency-in-flight"
    with clann_server.client() as chat:
        assert len(chat.list_sessions("alice")) == 1


async def test_without_a_delay_the_second_request_is_answered_from_the_first(clann_server: DevServer) -> None:
    with clann_server.delaying_writes(30):
        pass  # over: writes are carried out at once again
    results = await same_write_twice_at_once(clann_server)
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert len({getattr(r, "id", None) for r in results}) == 1


def test_a_write_delay_must_be_a_finite_number_of_seconds(clann_server: DevServer) -> None:
    for seconds in (-1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="must be finite and at least 0"), clann_server.delaying_writes(seconds):
            pass
    with pytest.raises(ValueError, match="write_delay must be finite"), dev_server(write_delay=-1):
        pass


@pytest.mark.parametrize(
    ("options", "client"), [(ClientOptions, ChatClient), (AsyncClientOptions, AsyncChatClient)], ids=["sync", "async"]
)
def test_the_options_a_dev_server_client_takes_are_the_clients_own(options: type, client: type) -> None:
    # DevServer.client(**options) is typed by these: a new or changed option of the client's must show here.
    parameters = inspect.signature(client).parameters
    keyword_only = {name for name, p in parameters.items() if p.kind is inspect.Parameter.KEYWORD_ONLY}
    assert set(options.__annotations__) | set(getattr(options, "__optional_keys__", ())) == keyword_only
    theirs = typing.get_type_hints(client.__dict__["__init__"])
    assert typing.get_type_hints(options) == {name: theirs[name] for name in keyword_only}


def guide_files_and_commands() -> tuple[dict[str, str], list[list[str]]]:
    """The testing guide's files (each ```python block that starts with `# name.py`) and its pytest commands."""
    text = GUIDE.read_text(encoding="utf-8")
    files = {}
    for code in re.findall(r"^```python\n(.*?)^```", text, re.MULTILINE | re.DOTALL):
        first, _, rest = code.partition("\n")
        if re.fullmatch(r"# \w+\.py", first):
            files[first[2:]] = rest
    commands = [
        shlex.split(line)
        for block in re.findall(r"^```sh\n(.*?)^```", text, re.MULTILINE | re.DOTALL)
        for line in block.splitlines()
        if line.startswith("pytest ")
    ]
    return files, commands


def test_the_testing_guides_recipes_run_as_written(tmp_path: Path) -> None:
    files, commands = guide_files_and_commands()
    assert {"conftest.py", "test_chat.py", "test_conflicts.py", "test_recorded.py"} <= set(files)
    assert [command[1:] for command in commands] == [
        ["--record-mode=rewrite"],
        ["--record-mode=none", "--block-network"],
    ]
    for name, code in files.items():
        (tmp_path / name).write_text(code, encoding="utf-8")
    for command in commands:
        result = run_pytest(tmp_path, *command[1:])
        assert result.returncode == 0, f"{shlex.join(command)}:\n{result.stdout}{result.stderr}"
        assert re.search(r"\b4 passed\b", result.stdout), result.stdout
    assert list((tmp_path / "cassettes").rglob("*.yaml"))
