"""A few hundred calls through injected faults against the real dev server: nothing lost, nothing doubled."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from clann_devserver.server import RunningServer, running
from tests.faults.workload import Report, run_async, run_sync

TOKENS = {"fault-token-alice": "alice"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with running(tmp_path_factory.mktemp("faults") / "chat.sqlite3", TOKENS) as started:
        yield started


def check(report: Report) -> None:
    assert report.unexpected == [], "every call returns or raises a ClannError subclass"
    assert report.lost == []
    assert report.duplicated == []
    assert report.raised_but_written == [], "an append that raised wrote nothing"
    assert report.faults.total() > report.calls * 0.2, "the faults were injected"
    assert report.retries > 0
    assert report.returned > report.raised


@pytest.mark.parametrize("seed", [1, 2])
def test_sync_calls_through_faults_lose_and_double_nothing(server: RunningServer, seed: int) -> None:
    check(run_sync(server.url, "fault-token-alice", seed=seed, calls=150))


@pytest.mark.parametrize("seed", [3, 4])
async def test_async_calls_through_faults_lose_and_double_nothing(server: RunningServer, seed: int) -> None:
    check(await run_async(server.url, "fault-token-alice", seed=seed, calls=150))


def test_the_same_seed_injects_the_same_faults(server: RunningServer) -> None:
    first = run_sync(server.url, "fault-token-alice", seed=7, calls=40)
    again = run_sync(server.url, "fault-token-alice", seed=7, calls=40)
    assert first.faults == again.faults
    assert (first.returned, first.raised) == (again.returned, again.raised)
