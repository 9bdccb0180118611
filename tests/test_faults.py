"""A few hundred calls of every method through the fault proxy to the dev server, sync and async: all told the truth.

Each run checks itself too: that every kind of fault was met, that the SDK
retried and callers called again, that every drip was cut off by the client's
whole-attempt timeout, and that every method was called and audited.
"""

from __future__ import annotations

import pytest

from scripts.faults.proxy import Kind
from scripts.faults.workload import WEIGHTS, Flavour, Result, Settings, run

METHODS = {
    "append_message",
    "create_session",
    "delete_session",
    "get_message",
    "get_session",
    "iter_messages",
    "iter_sessions",
    "list_messages",
    "list_sessions",
    "update_session",
}
RUNS = {
    "sync": Settings("sync", calls=300, seed=1, lanes=8, scale=0.005),
    "async": Settings("async", calls=300, seed=2, lanes=8, scale=0.005),
}
"""The runs of this module, which test_audit.py repeats with broken clients."""


def report(result: Result) -> str:
    examples = [f"  {c}: {e}" for c, shown in result.audit.examples.items() for e in shown]
    return "\n".join([*result.lines(), *examples])


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_calls_through_a_faulting_wire_are_told_the_truth(flavour: str) -> None:
    result = run(RUNS[flavour])
    assert result.audit.counts.total() == 0, report(result)
    assert set(result.faults) == set(Kind), "every kind of fault was met"
    assert result.drips_abandoned == result.faults[Kind.DRIP], "every drip outlasted the client's attempt timeout"
    assert result.retries > 0
    assert result.tally.recalls > 0, "some calls raised, and were called again"
    assert set(result.tally.calls) == METHODS
    assert set(result.audit.checked) == METHODS, "and every one was audited"
    assert len(WEIGHTS) == len(METHODS)


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_the_same_seed_gives_the_same_run(flavour: Flavour) -> None:
    settings = Settings(flavour, calls=80, seed=3, lanes=8, scale=0.005)
    first, again = run(settings), run(settings)
    assert first.faults.total() > 0
    assert first.fingerprint() == again.fingerprint()
