"""When to retry a request, and how long to wait first.

Retried: connection errors, timeouts, 408, 429, 500, 502, 503 and 504, at most
`max_retries` times (default 2). The wait before retry n (1, 2, ...) is
`min(0.5 * 2 ** (n - 1), 8)` seconds with full jitter (a random share of it,
at least half). A `Retry-After` (seconds or an HTTP date) replaces that wait, up
to 60 seconds; a longer one is not waited for: the error is raised. A response
carrying `x-should-retry: false` is never retried, `x-should-retry: true` always
is (within `max_retries`).

POSTs are safe to retry because every attempt of one call carries the same
`Idempotency-Key`; the decision therefore does not depend on the method. One
thing does: once an attempt of a POST may have reached the server (its response
was lost, timed out or was a 5xx), the call gets up to `RESOLVE_RETRIES` (4)
more retries to learn the outcome, since raising then would leave the caller
unable to tell whether the message was written, and calling again would write it
twice. `max_retries=0` still means no retries at all.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import attrs
import httpx

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
BASE_DELAY = 0.5
MAX_DELAY = 8.0
MAX_RETRY_AFTER = 60.0
RESOLVE_RETRIES = 4


@attrs.frozen
class RetryPolicy:
    """How many times to retry, and the numbers above; `rng` is injectable for tests."""

    max_retries: int = 2
    base_delay: float = BASE_DELAY
    max_delay: float = MAX_DELAY
    max_retry_after: float = MAX_RETRY_AFTER
    rng: random.Random = attrs.field(factory=random.Random, eq=False, repr=False)

    def backoff(self, retry: int) -> float:
        """The jittered wait before retry number `retry` (1-based)."""
        ceiling = min(self.base_delay * 2.0 ** (retry - 1), self.max_delay)
        return ceiling * (0.5 + self.rng.random() / 2)

    def budget(self, resolving: bool) -> int:
        """How many retries a call gets; more while a write's outcome is unknown."""
        return self.max_retries + RESOLVE_RETRIES if resolving and self.max_retries else self.max_retries

    def delay_after_response(self, response: httpx.Response, retries_done: int, budget: int) -> float | None:
        """Seconds to wait before retrying after `response`, or None to not retry."""
        if retries_done >= budget or response.is_success:
            return None
        should = response.headers.get("x-should-retry")
        if should == "false":
            return None
        if should != "true" and response.status_code not in RETRY_STATUSES:
            return None
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        if retry_after is None:
            return self.backoff(retries_done + 1)
        return retry_after if retry_after <= self.max_retry_after else None

    def delay_after_error(self, retries_done: int, budget: int) -> float | None:
        """Seconds to wait before retrying after a connection error or timeout, or None."""
        if retries_done >= budget:
            return None
        return self.backoff(retries_done + 1)


def parse_retry_after(value: str | None) -> float | None:
    """`Retry-After` as seconds from now: delta-seconds or an HTTP date; None if absent or unreadable."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    if seconds != seconds or seconds in (float("inf"), float("-inf")):
        return None
    return max(seconds, 0.0)
