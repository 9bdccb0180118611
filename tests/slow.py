"""Which tests are slow: marked `slow` here, left out of `make check`, run by `make test`.

A test is slow when it starts a subprocess (Python, pytest, a build), a server
(the dev server, a fault proxy, a socket server of tests/servers.py), runs
schemathesis or hypothesis at length, or takes seconds of CPU. The fast loop (`make check`) runs the
rest in seconds, and prints its ten slowest tests (`--durations`), so a test that
belongs here shows up there. A new test can be marked in its own file instead,
with `@pytest.mark.slow`.

Each entry must name something collected: one left behind by a move or a rename
fails the collection, rather than letting its tests slip into the fast loop or
out of it unnoticed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Whole modules (or folders): nearly every test in them starts a process or a server.
MODULES = (
    "tests/devserver/test_cli.py",  # clann-devserver in a subprocess
    "tests/devserver/test_conformance.py",  # schemathesis, about half a minute
    "tests/devserver/test_connections.py",  # the dev server on a socket
    "tests/devserver/test_races.py",  # the dev server on a socket, many threads racing
    "tests/devserver/test_waiting.py",  # the dev server on a socket, 1,000 held listings
    "tests/test_cassettes.py",  # every recorded exchange checked against openapi.yaml
    "tests/test_concurrency.py",  # the dev server, many threads
    "tests/test_fuzz.py",  # hypothesis, hundreds of examples a method
    "tests/test_logs.py",  # Python in a subprocess, per test
    "tests/test_packaging.py",  # builds and installs the wheel
    "tests/test_pagination.py",  # the dev server, 2,500 messages
    "tests/test_testing.py",  # the pytest plugin's dev servers, pytest in a subprocess
    "tests/test_timeouts.py",  # servers that drip, and real timeouts
    "tests/test_proxy.py",  # the soak's fault proxy, on a socket
    "tests/test_faults.py",  # the soak's workload through the proxy, against the dev server
    "tests/test_audit.py",  # the soak's audit, against broken clients
    "tests/test_in_doubt.py",  # writes left in doubt through the proxy
    "tests/test_deadline.py",  # servers that serve slow pages, or pages without end
    "tests/test_cancel.py",  # writes cancelled against servers on sockets, and signals
    "tests/test_follow_soak.py",  # the soak's follows, through the proxy, across a dev server restart
)

# Fixtures that start a server: a test that uses one is slow, wherever it is.
FIXTURES = frozenset({"served", "clann_server", "clann_client", "clann_async_client"})

# Single tests that start a server or a process, or take seconds of CPU (found with --durations),
# in modules that are otherwise fast.
TESTS = (
    "tests/test_body.py::test_a_gzip_bomb_on_a_success_stops_at_the_size_limit_in_bounded_memory",
    "tests/test_recorded.py::test_listings_walk_every_page_and_iterators_fetch_lazily",
    "tests/devserver/test_sessions.py::test_a_204_carries_no_content_length_on_the_wire",
    "tests/test_body.py::test_bodies_from_a_real_socket_are_decoded",
    "tests/test_body.py::test_a_gzip_bomb_from_a_real_socket_is_refused_in_bounded_memory",
    "tests/test_body.py::test_an_error_body_that_never_ends_is_read_no_further_than_kept",
    "tests/test_client.py::test_closing_an_async_client_from_a_second_event_loop_raises_usage_error",
    "tests/test_secrets.py::test_a_traceback_with_locals_never_shows_the_token",
    "tests/test_unsent.py::test_a_write_blocked_by_block_network_fails_saying_why_and_that_it_was_not_carried_out",
    "tests/test_typed_roles.py::test_mypy_strict_refuses_a_typo_of_a_known_role_in_a_users_script",
    "tests/test_body.py::test_a_gzip_bomb_on_an_error_status_keeps_64_kib_of_it",
    "tests/test_secrets.py::test_a_real_exchange_logs_nothing_secret_even_at_debug",
    "tests/test_secrets.py::test_a_whole_session_against_the_dev_server_logs_nothing_secret",
)


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """With `-m "not slow"` (make check), not even import a slow module: importing them all takes seconds."""
    if config.getoption("markexpr") != "not slow":
        return None
    relative = collection_path.relative_to(ROOT).as_posix() if collection_path.is_relative_to(ROOT) else ""
    folder = f"{relative}/" if collection_path.is_dir() else relative
    return True if folder.startswith(MODULES) else None


def _is_slow(item: pytest.Item) -> bool:
    path = item.nodeid.split("::", 1)[0]
    function = item.nodeid.split("[", 1)[0]
    uses = set(getattr(item, "fixturenames", ()))
    return path.startswith(MODULES) or function in TESTS or bool(uses & FIXTURES)


# First, before -k and -m deselect anything: the check below needs every collected test.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the slow tests, and refuse an entry above that names a test no longer there."""
    collected = {item.nodeid.split("[", 1)[0] for item in items}
    for entry in (*MODULES, *TESTS):
        path = entry.split("::", 1)[0]
        if not (ROOT / path).exists():
            raise pytest.UsageError(f"tests/slow.py names {path}, which does not exist: update the list")
        in_module = any(name.startswith(path) for name in collected)
        if "::" in entry and in_module and entry not in collected:
            raise pytest.UsageError(f"tests/slow.py names {entry}, which is not collected: update the list")
    for item in items:
        if _is_slow(item):
            item.add_marker(pytest.mark.slow)
