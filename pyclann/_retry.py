"""Whether to try a call again, and when: one pure object per call, driven by both clients.

What is retried: connection errors and timeouts, the statuses 408, 409 (a
request with the same idempotency key still in flight), 429, 500, 502, 503 and
504, and a 2xx whose body arrived cut short; a response carrying
`x-should-retry: false` never is, one carrying `x-should-retry: true` always is.
At most `max_retries` retries (default 2). The wait before retry n (1, 2, ...)
is `min(0.5 * 2 ** (n - 1), 8)` seconds, jittered down to as little as half of
it. A `Retry-After` (seconds or an HTTP date) replaces that wait, up to 60 s; a
longer one is not waited for: the error is raised at once, with `retry_after`.
With a `total_timeout`, no attempt starts, and no wait is begun, that would end
after it; a walk of `list_*` shares one such deadline across all its pages.

Writes are safe to retry because every attempt of one call sends the same
`Idempotency-Key`, so the rules do not depend on the method. What does is the
error raised in the end: once any attempt of a write may have been carried out,
the error says so (`may_have_landed`), with the key to call again with. A call
made again with that key starts in doubt (`earlier_in_doubt`): its error says
the write may have been carried out, by the earlier call, until the server
answers the key itself (`SETTLED`), which it does only after looking it up.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

# 409: a request with the same key is still being carried out; asked again later, the server replays it.
RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})
SETTLED = frozenset({400, 403, 404, 410, 422})
"""Statuses that answer a write's key: had a request with it been carried out before, the server would
have replayed that (or, its session since deleted, answered 410). A 401, 408, 409, 429 or 5xx does not."""
BASE_DELAY = 0.5
MAX_DELAY = 8.0
MAX_RETRY_AFTER = 60.0

_JITTER = random.Random()
"""The jitter's generator, seeded once from os.urandom, and again in a forked child (as `random`'s own is)."""
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_JITTER.seed)

_WAITS: ContextVar[Waits | None] = ContextVar("pyclann_retry_waits", default=None)


class Failure:
    """One attempt that did not succeed, as the retry rules need to know it.

    A plain class, like `Attempts`: a typed named tuple would cost `import pyclann` a quarter of a millisecond.

    Attributes:
        status: The status code, or None when no response came.
        retry_after: The seconds the response asked to wait, if it said.
        should_retry: The response's `x-should-retry`, if it said.
        retryable: Whether such a failure may be retried at all (a cut body may; a wrong one may not).
        in_doubt: Whether this attempt may have been carried out by the server.
        timed_out: Whether the attempt ran out of time (its own, or what was left of the call's).
    """

    __slots__ = ("in_doubt", "retry_after", "retryable", "should_retry", "status", "timed_out")

    def __init__(
        self,
        status: int | None,
        retry_after: float | None = None,
        should_retry: bool | None = None,
        retryable: bool = True,
        in_doubt: bool = False,
        timed_out: bool = False,
    ) -> None:
        self.status = status
        self.retry_after = retry_after
        self.should_retry = should_retry
        self.retryable = retryable
        self.in_doubt = in_doubt
        self.timed_out = timed_out


class Attempts:
    """One call across its attempts: what happened so far, and what comes next.

    Pure but for the clock and the random jitter, both injectable. A plain class (one is made per
    call): a dataclass would cost `import pyclann` a millisecond to write its methods.

    Attributes:
        max_retries: The most retries after the first attempt.
        attempt_timeout: The seconds an attempt may take, or None for no bound.
        total_timeout: The seconds the call may take across its attempts and waits, or None.
        rng: The jitter's generator.
        clock: The clock deadlines are read on.
        retries: The retries made so far.
        may_have_landed: Whether any attempt so far may have been carried out.
        why_not: Why the last failure was not retried, when the rules had a reason beyond
            "out of retries".
        earlier_in_doubt: An earlier call with this write's key raised saying it may have been
            carried out, and the server has not answered the key since: until it does, so may
            this call's write have been.
        earlier_seen: This client itself saw an earlier call with the key end (raise, or be
            cancelled) once it may have been sent.
        deadline: When the call must end (a `clock()` value), or None.
        bounded_by_deadline: Whether the last attempt's time was what was left before `deadline`.
    """

    __slots__ = (
        "attempt_timeout",
        "bounded_by_deadline",
        "clock",
        "deadline",
        "earlier_in_doubt",
        "earlier_seen",
        "max_retries",
        "may_have_landed",
        "retries",
        "rng",
        "total_timeout",
        "why_not",
    )

    def __init__(
        self,
        max_retries: int,
        attempt_timeout: float | None = None,
        total_timeout: float | None = None,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
        *,
        earlier_in_doubt: bool = False,
        earlier_seen: bool = False,
        deadline: float | None = None,
    ) -> None:
        self.max_retries = max_retries
        self.attempt_timeout = attempt_timeout
        self.total_timeout = total_timeout
        # Shared by default: a Random() per call would seed itself from os.urandom, the dearest step of a
        # call that is never retried. pyclann's own, so that a program's seeded `random` is never drawn from.
        self.rng = _JITTER if rng is None else rng
        self.clock = clock
        self.retries = 0
        self.may_have_landed = False
        self.why_not: str | None = None
        self.earlier_in_doubt = earlier_in_doubt
        # This client itself saw an earlier call with the key end (raise, or be cancelled) once it may have
        # been sent: the error can say so, rather than only that it cannot rule it out.
        self.earlier_seen = earlier_seen
        # When the call must end (a `clock()` value): given for each page of a walk, which shares one
        # deadline; else `total_timeout` from now.
        if deadline is None and total_timeout is not None:
            deadline = clock() + total_timeout
        self.deadline = deadline
        self.bounded_by_deadline = False

    @property
    def out_of_time(self) -> bool:
        """Whether the call's deadline has passed: no attempt may start."""
        return self.deadline is not None and self.clock() >= self.deadline

    def time_left(self) -> float | None:
        """The seconds the next attempt may take as a whole, or None for no bound; 0 when out of time."""
        if self.deadline is None:
            return self.attempt_timeout
        left = max(self.deadline - self.clock(), 0.0)
        self.bounded_by_deadline = self.attempt_timeout is None or left <= self.attempt_timeout
        return left if self.attempt_timeout is None else min(left, self.attempt_timeout)

    def wait_after(self, failure: Failure) -> float | None:
        """Seconds to wait before the next attempt, or None to give up and raise (`why_not` says why, if not plain)."""
        self.may_have_landed |= failure.in_doubt
        if failure.status in SETTLED:
            self.earlier_in_doubt = self.earlier_seen = False
        if not failure.retryable or (failure.status is not None and not _retried_status(failure)):
            return None
        # An attempt given only what was left of the call's time, and out of it: the call is, though an event
        # loop's timer (uvloop's, to the millisecond) may have fired a moment before the deadline on this clock.
        if self.out_of_time or (failure.timed_out and self.bounded_by_deadline):
            self.why_not = f"the call's total_timeout ({self.total_timeout:g} s) ran out"
            return None
        if self.retries >= self.max_retries:
            return None
        if failure.retry_after is not None:
            if failure.retry_after > MAX_RETRY_AFTER:
                self.why_not = f"Retry-After asked for {failure.retry_after:g} s, over the {MAX_RETRY_AFTER:g} s waited"
                return None
            wait = failure.retry_after
        else:
            wait = self.backoff(self.retries + 1)
        if self.deadline is not None and self.clock() + wait >= self.deadline:
            self.why_not = f"the next attempt would end after total_timeout ({self.total_timeout:g} s)"
            return None
        self.retries += 1
        return wait

    @property
    def write_in_doubt(self) -> bool:
        """Whether the write may have been carried out: by an attempt of this call, or by an earlier call."""
        return self.may_have_landed or self.earlier_in_doubt

    @property
    def seen_in_doubt(self) -> bool:
        """Whether this client saw the write's key left in doubt: by this call's attempts, or an earlier call's."""
        return self.may_have_landed or self.earlier_seen

    def backoff(self, retry: int) -> float:
        """The jittered wait before retry number `retry` (1-based)."""
        # Capped before exponentiating: 2.0 ** 1024 overflows.
        ceiling = min(BASE_DELAY * 2.0 ** min(retry - 1, 32), MAX_DELAY)
        return ceiling * (0.5 + self.rng.random() / 2)


def _retried_status(failure: Failure) -> bool:
    if failure.should_retry is not None:
        return failure.should_retry
    return failure.status in RETRY_STATUSES or (failure.status is not None and 200 <= failure.status < 300)


class Waits:
    """The waits between attempts, as tests shape them: each is noted, and slept `scale` times as long."""

    __slots__ = ("noted", "scale")

    def __init__(self, scale: float) -> None:
        self.scale = scale
        self.noted: list[float] = []

    def take(self, wait: float) -> float:
        """Note `wait`; the seconds to sleep instead."""
        self.noted.append(wait)
        return wait * self.scale


def sleep_for(wait: float) -> float:
    """The seconds to sleep for a wait of `wait` seconds: `wait` itself, unless a test scaled it."""
    waits = _WAITS.get()
    return wait if waits is None else waits.take(wait)


@contextmanager
def instant_retries() -> Iterator[list[float]]:
    """Retries without their waits, in this context; yields the list of the waits skipped.

    The context is the current thread's or task's (a context variable): tasks started
    inside it share it, but threads do not; run a thread's work with
    `contextvars.copy_context().run(...)` to bring it along.
    """
    with scaled_retries(0.0) as waits:
        yield waits


@contextmanager
def scaled_retries(scale: float) -> Iterator[list[float]]:
    """Retries whose waits are slept `scale` times as long, in this context; yields the waits asked for."""
    waits = Waits(scale)
    token = _WAITS.set(waits)
    try:
        yield waits.noted
    finally:
        _WAITS.reset(token)
