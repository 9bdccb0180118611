"""The audit is not blind: test_faults.py's runs, repeated with clients broken on purpose, are caught.

Each broken client (scripts/faults/broken.py) is wrong in one way, and the audit
must count it under the name of that way: the same seed with pyclann's own
clients counts nothing (test_faults.py).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from scripts.faults.broken import BROKEN
from scripts.faults.workload import run
from tests.test_faults import RUNS, report

CAUGHT_AS = {
    "delete does nothing": "phantom deletes",
    "listings return []": "wrong listings",
    "append sends a fresh key on each retry": "doubled",
    "ignores may_have_landed": "unflagged landings",
}
# The guide's loop calls again after a failure of the network or a busy server whatever the error
# says, so a false may_have_landed shows only when a refusal (a 401, a cut 2xx, a 409) follows an
# attempt that landed: twice the faults make that happen within the run.
RATES = {"ignores may_have_landed": 0.6}


@pytest.mark.parametrize("flavour", ["sync", "async"])
@pytest.mark.parametrize("broken", list(CAUGHT_AS))
def test_the_audit_counts_what_a_broken_client_gets_wrong(broken: str, flavour: str) -> None:
    sync_client, async_client = BROKEN[broken]
    settings = RUNS[flavour]
    rate = RATES.get(broken, settings.rate)
    result = run(replace(settings, sync_client=sync_client, async_client=async_client, rate=rate))
    assert result.audit.counts[CAUGHT_AS[broken]] > 0, report(result)


def test_every_broken_client_is_tried() -> None:
    assert set(CAUGHT_AS) == set(BROKEN)
