"""Retries (pyclann._retry): what is retried, how long it waits, and when it stops."""

from __future__ import annotations

import logging
import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx2
import pytest

from pyclann import (
    DEFAULT_MAX_RETRIES,
    ClannAPIError,
    ClannConnectionError,
    ClannError,
    ClannRateLimitError,
    ClannServerError,
    ClannTimeoutError,
)
from pyclann._retry import BASE_DELAY, MAX_DELAY, MAX_RETRY_AFTER, Attempts, Failure, sleep_for
from pyclann.testing import instant_retries, scaled_retries
from tests.helpers import METHODS, PATHS, MakeClient, Recorder, async_client, call, invoke, problem, respond, success


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# The pure rules ---------------------------------------------------------------------------------


def test_backoff_is_capped_exponential_with_jitter_down_to_half() -> None:
    attempts = Attempts(max_retries=10, rng=random.Random(1))
    for retry in range(1, 12):
        ceiling = min(BASE_DELAY * 2 ** (retry - 1), MAX_DELAY)
        waits = [attempts.backoff(retry) for _ in range(200)]
        assert all(ceiling / 2 <= wait <= ceiling for wait in waits)
        assert max(waits) - min(waits) > ceiling / 4, "jittered, not fixed"
    assert (BASE_DELAY, MAX_DELAY) == (0.5, 8.0)


@pytest.mark.parametrize("retry", [1024, 1025, 10**6, 10**18])
def test_backoff_of_a_huge_retry_number_is_capped_not_an_overflow(retry: int) -> None:
    assert MAX_DELAY / 2 <= Attempts(max_retries=retry).backoff(retry) <= MAX_DELAY


def test_retries_stop_at_max_retries() -> None:
    attempts = Attempts(max_retries=3, rng=random.Random(0))
    waits = [attempts.wait_after(Failure(503)) for _ in range(4)]
    assert all(wait is not None for wait in waits[:3])
    assert waits[3] is None
    assert attempts.retries == 3


@pytest.mark.parametrize(
    ("failure", "retried"),
    [
        (Failure(None), True),  # no response: a connection error or a timeout
        (Failure(None, retryable=False), False),
        *[(Failure(status), True) for status in (408, 429, 500, 502, 503, 504)],
        *[(Failure(status), False) for status in (400, 401, 403, 404, 410, 413, 418, 422, 501, 505, 507)],
        # A request with the same key still in flight: asked again later, the server replays it.
        (Failure(409), True),
        (Failure(503, should_retry=False), False),
        (Failure(400, should_retry=True), True),
        (Failure(201, retryable=True), True),  # a cut 2xx body
        (Failure(201, retryable=False), False),  # a 2xx body that breaks the contract
    ],
)
def test_which_failures_are_retried(failure: Failure, retried: bool) -> None:
    assert (Attempts(max_retries=1).wait_after(failure) is not None) is retried


@pytest.mark.parametrize(("retry_after", "wait"), [(0.0, 0.0), (3.0, 3.0), (MAX_RETRY_AFTER, MAX_RETRY_AFTER)])
def test_retry_after_up_to_the_cap_replaces_the_backoff(retry_after: float, wait: float) -> None:
    assert Attempts(max_retries=1).wait_after(Failure(429, retry_after=retry_after)) == wait


def test_retry_after_above_the_cap_is_not_waited_for() -> None:
    assert MAX_RETRY_AFTER == 60.0
    assert Attempts(max_retries=5).wait_after(Failure(429, retry_after=60.5)) is None


def test_may_have_landed_stays_true_once_any_attempt_was_in_doubt() -> None:
    attempts = Attempts(max_retries=5)
    attempts.wait_after(Failure(None, in_doubt=False))
    assert not attempts.may_have_landed
    attempts.wait_after(Failure(None, in_doubt=True))
    attempts.wait_after(Failure(None, in_doubt=False))
    attempts.wait_after(Failure(401))
    assert attempts.may_have_landed


def test_without_a_total_timeout_each_attempt_gets_the_attempt_timeout() -> None:
    assert Attempts(max_retries=1, attempt_timeout=30.0).time_left() == 30.0
    assert Attempts(max_retries=1).time_left() is None


def test_a_total_timeout_shortens_the_attempts_and_stops_the_waits_that_would_pass_it() -> None:
    clock = Clock()
    attempts = Attempts(max_retries=10, attempt_timeout=4.0, total_timeout=10.0, clock=clock, rng=random.Random(0))
    assert attempts.time_left() == 4.0
    clock.now += 7.5
    assert attempts.time_left() == 2.5
    assert attempts.wait_after(Failure(429, retry_after=2.0)) == 2.0, "ends 0.5 s before the deadline"
    assert attempts.wait_after(Failure(429, retry_after=2.5)) is None, "would end at the deadline"
    clock.now += 3.0
    assert attempts.time_left() == 0.0


def test_a_deadline_given_is_kept_for_every_call_that_shares_it() -> None:
    # A walk's pages: each page's Attempts is made later, and gets only what is left of the one deadline.
    clock = Clock()
    first = Attempts(max_retries=2, total_timeout=10.0, deadline=clock.now + 10.0, clock=clock)
    clock.now += 9.0
    later = Attempts(max_retries=2, total_timeout=10.0, deadline=clock.now + 1.0, clock=clock)
    assert first.time_left() == later.time_left() == 1.0
    assert not later.out_of_time
    clock.now += 1.0
    assert later.out_of_time


@pytest.mark.parametrize("early", [0.0, 0.001])
def test_an_attempt_given_only_the_calls_last_time_that_times_out_ends_the_call_saying_why(early: float) -> None:
    # Its timeout was the deadline, though the event loop's timer (uvloop's) may fire a moment before it.
    clock = Clock()
    attempts = Attempts(max_retries=0, attempt_timeout=4.0, total_timeout=2.0, clock=clock)
    assert attempts.time_left() == 2.0
    clock.now += 2.0 - early
    assert attempts.wait_after(Failure(None, timed_out=True)) is None
    assert attempts.why_not == "the call's total_timeout (2 s) ran out"


def test_an_attempt_that_times_out_within_its_own_timeout_is_not_the_calls_deadline() -> None:
    clock = Clock()
    attempts = Attempts(max_retries=0, attempt_timeout=1.0, total_timeout=10.0, clock=clock)
    assert attempts.time_left() == 1.0
    clock.now += 1.0
    assert attempts.wait_after(Failure(None, timed_out=True)) is None
    assert attempts.why_not is None, "out of retries, with time left: the deadline is not why"


def test_past_the_deadline_a_failure_is_not_retried_and_says_why() -> None:
    clock = Clock()
    attempts = Attempts(max_retries=0, total_timeout=2.0, clock=clock)
    clock.now += 2.0
    assert attempts.wait_after(Failure(404)) is None
    assert attempts.why_not is None, "a 404 is never retried: the deadline is not why"
    assert attempts.wait_after(Failure(None)) is None
    assert attempts.why_not == "the call's total_timeout (2 s) ran out"


# Through the clients -----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
@pytest.mark.parametrize("method", PATHS.values(), ids=PATHS.keys())
async def test_retryable_statuses_are_retried_then_succeed(method: str, status: int) -> None:
    recorder = Recorder(respond(status, problem(status, "busy")), success(method))
    with instant_retries() as waits:
        await invoke(async_client(recorder), method)
    assert len(recorder.requests) == 2
    assert len(waits) == 1
    assert 0.25 <= waits[0] <= 0.5


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 413, 418, 422, 501, 505])
async def test_other_statuses_are_not_retried(status: int) -> None:
    recorder = Recorder(respond(status, problem(status, "no")), success("list_sessions"))
    with pytest.raises(ClannAPIError, match="no"), instant_retries() as waits:
        await call(async_client(recorder), "list_sessions", "alice")
    assert len(recorder.requests) == 1
    assert waits == []


@pytest.mark.parametrize(
    "error",
    [
        httpx2.ConnectError("refused"),
        httpx2.ConnectTimeout("slow"),
        httpx2.ReadError("reset"),
        httpx2.ReadTimeout("slow"),
        httpx2.WriteError("broken pipe"),
        httpx2.RemoteProtocolError("garbage"),
        httpx2.PoolTimeout("busy"),
    ],
    ids=lambda error: type(error).__name__,
)
async def test_connection_errors_and_timeouts_are_retried(error: Exception) -> None:
    recorder = Recorder(error, success("get_session"))
    with instant_retries():
        await call(async_client(recorder), "get_session", METHODS["get_session"][0][0])
    assert len(recorder.requests) == 2


async def test_by_default_a_call_is_tried_three_times_then_raises_the_last_error() -> None:
    assert DEFAULT_MAX_RETRIES == 2
    recorder = Recorder(httpx2.ReadTimeout("slow"))
    with pytest.raises(ClannTimeoutError, match=r"\(after 3 attempts\)") as caught, instant_retries() as waits:
        await call(async_client(recorder), "list_sessions", "alice")
    assert len(recorder.requests) == 3
    assert len(waits) == 2
    assert isinstance(caught.value.__cause__, httpx2.ReadTimeout)


@pytest.mark.parametrize("max_retries", [0, 1, 5])
async def test_max_retries_is_the_number_of_retries(max_retries: int) -> None:
    recorder = Recorder(respond(503, problem(503, "busy")))
    with pytest.raises(ClannServerError) as caught, instant_retries() as waits:
        await call(async_client(recorder, max_retries=max_retries), "list_sessions", "alice")
    assert len(recorder.requests) == max_retries + 1
    assert len(waits) == max_retries
    assert ("attempts)" in str(caught.value)) is (max_retries > 0)


async def test_max_retries_above_1024_retries_without_overflow() -> None:
    recorder = Recorder(respond(503, problem(503, "busy")))
    with pytest.raises(ClannServerError), instant_retries() as waits:
        await call(async_client(recorder, max_retries=1100), "get_session", METHODS["get_session"][0][0])
    assert len(recorder.requests) == 1101
    assert max(waits) <= MAX_DELAY


async def test_retry_after_seconds_is_the_wait() -> None:
    recorder = Recorder(respond(429, problem(429, "slow"), {"Retry-After": "3"}), success("append_message"))
    with instant_retries() as waits:
        await invoke(async_client(recorder), "append_message")
    assert waits == [3.0]


async def test_retry_after_on_a_503_is_honoured_too() -> None:
    recorder = Recorder(respond(503, problem(503, "maintenance"), {"Retry-After": "12"}), success("list_sessions"))
    with instant_retries() as waits:
        await call(async_client(recorder), "list_sessions", "alice")
    assert waits == [12.0]


async def test_retry_after_as_an_http_date_is_the_wait_until_then() -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    recorder = Recorder(respond(429, problem(429, "slow"), {"Retry-After": when}), success("list_sessions"))
    with instant_retries() as waits:
        await call(async_client(recorder), "list_sessions", "alice")
    assert len(waits) == 1
    assert 15 <= waits[0] <= 20


async def test_an_absurd_retry_after_date_falls_back_to_the_backoff() -> None:
    recorder = Recorder(
        respond(429, problem(429, "slow"), {"Retry-After": "Wed, 21 Oct 2015 99:28:00 GMT"}), success("list_sessions")
    )
    with instant_retries() as waits:
        await call(async_client(recorder), "list_sessions", "alice")
    assert len(waits) == 1
    assert waits[0] <= BASE_DELAY


@pytest.mark.parametrize(
    ("header", "seconds"),
    # 400 digits: too large for a float, once read as "no Retry-After" and retried at once.
    [("3600", 3600.0), ("9" * 400, float("inf"))],
)
@pytest.mark.parametrize("status", [429, 503])
async def test_retry_after_beyond_the_cap_is_raised_at_once_not_waited(
    status: int, header: str, seconds: float
) -> None:
    recorder = Recorder(respond(status, problem(status, "later"), {"Retry-After": header}))
    with pytest.raises(ClannAPIError, match="not retried: Retry-After asked for") as caught, instant_retries() as waits:
        await call(async_client(recorder), "list_sessions", "alice")
    assert waits == []
    assert len(recorder.requests) == 1
    if isinstance(caught.value, ClannRateLimitError):
        assert caught.value.retry_after == seconds


@pytest.mark.parametrize(("status", "header", "retried"), [(503, "false", False), (400, "true", True)])
async def test_x_should_retry_decides_over_the_status(status: int, header: str, retried: bool) -> None:
    recorder = Recorder(respond(status, problem(status, "x"), {"x-should-retry": header}), success("list_sessions"))
    with instant_retries():
        if retried:
            assert await call(async_client(recorder), "list_sessions", "alice")
        else:
            with pytest.raises(ClannServerError):
                await call(async_client(recorder), "list_sessions", "alice")
    assert len(recorder.requests) == (2 if retried else 1)


async def test_a_total_timeout_stops_a_wait_that_would_pass_it(make_client: MakeClient) -> None:
    recorder = Recorder(respond(429, problem(429, "slow"), {"Retry-After": "30"}), success("list_sessions"))
    with pytest.raises(ClannRateLimitError), instant_retries() as waits:
        await call(make_client(recorder, total_timeout=5), "list_sessions", "alice")
    assert waits == []
    assert len(recorder.requests) == 1


async def test_a_total_timeout_bounds_each_attempts_socket_timeouts(make_client: MakeClient) -> None:
    recorder = Recorder(success("list_sessions"))
    await call(make_client(recorder, timeout=30, total_timeout=2), "list_sessions", "alice")
    parts = recorder.requests[0].extensions["timeout"]
    assert all(0 < parts[name] <= 2 for name in ("connect", "read", "write", "pool"))


async def test_each_retry_is_logged_at_info_with_its_reason_and_wait(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="pyclann")
    recorder = Recorder(
        respond(503, problem(503, "busy"), {"Retry-After": "2"}),
        httpx2.ConnectError("refused"),
        success("list_sessions"),
    )
    with instant_retries():
        await call(async_client(recorder), "list_sessions", "alice")
    retries = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO and r.name == "pyclann"]
    assert len(retries) == 2
    assert retries[0] == "list_sessions: retry 1 in 2.00s, after 503 Service Unavailable: busy (request id req-1)"
    assert retries[1].startswith("list_sessions: retry 2 in ")
    assert retries[1].endswith("s, after ConnectError: refused"), "the method and URL are said once, first"


async def test_a_call_that_succeeds_at_once_logs_no_retry(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="pyclann")
    await call(async_client(Recorder(success("list_sessions"))), "list_sessions", "alice")
    assert [r for r in caplog.records if r.name == "pyclann" and r.levelno >= logging.INFO] == []


def test_instant_retries_notes_the_waits_sleeps_none_and_ends_with_its_block() -> None:
    assert sleep_for(2.0) == 2.0
    with instant_retries() as waits:
        assert sleep_for(2.0) == 0.0
        with instant_retries() as inner:
            assert sleep_for(1.0) == 0.0
        assert inner == [1.0]
        assert sleep_for(0.5) == 0.0
    assert waits == [2.0, 0.5]
    assert sleep_for(3.0) == 3.0


def test_scaled_retries_sleeps_each_wait_scaled_and_notes_it_as_asked() -> None:
    with scaled_retries(0.01) as waits:
        assert sleep_for(2.0) == pytest.approx(0.02)
    assert waits == [2.0]
    assert sleep_for(2.0) == 2.0


async def test_scaled_retries_notes_the_waits_a_client_asks_for(make_client: MakeClient) -> None:
    recorder = Recorder(respond(503, problem(503, "busy"), {"Retry-After": "2"}), success("list_sessions"))
    with scaled_retries(0.001) as waits:
        await call(make_client(recorder), "list_sessions", "alice")
    assert waits == [2.0]
    assert len(recorder.requests) == 2


async def test_every_error_after_retries_is_still_a_clann_error() -> None:
    recorder = Recorder(httpx2.ReadError("a"), respond(502, b"<html>bad gateway</html>"), httpx2.ConnectError("b"))
    with pytest.raises(ClannError) as caught, instant_retries():
        await call(async_client(recorder), "list_sessions", "alice")
    assert type(caught.value) is ClannConnectionError


def test_the_jitter_never_draws_from_the_programs_seeded_random() -> None:
    random.seed(5)
    expected = [random.random() for _ in range(3)]
    random.seed(5)
    waits = [Attempts(max_retries=3).backoff(n) for n in (1, 2, 3)]
    assert [random.random() for _ in range(3)] == expected
    assert all(0.25 <= wait <= 2.0 for wait in waits)
