"""Retries: what is retried, how long it waits, and that a retry never doubles a write."""

from __future__ import annotations

import logging
import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from pyclann import AsyncChatClient, ClannConnectionError, ClannNotFoundError, ClannServerError, ClannTimeoutError
from pyclann._retry import RetryPolicy, parse_retry_after
from tests.helpers import MESSAGE, METHODS, SESSION_ID, Recorder, call, problem, respond


def waits(client: Any) -> list[float]:
    """Replace the client's sleep with one that records the waits."""
    slept: list[float] = []
    if isinstance(client, AsyncChatClient):

        async def record_async(seconds: float) -> None:
            slept.append(seconds)

        client._sleep = record_async
    else:
        client._sleep = slept.append
    return slept


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
@pytest.mark.parametrize("method", METHODS)
async def test_retryable_statuses_are_retried_then_succeed(make_client: Any, method: str, status: int) -> None:
    args, success, body = METHODS[method]
    recorder = Recorder(respond(status, problem(status, "busy")), respond(success, body))
    client = make_client(recorder)
    slept = waits(client)
    await call(client, method, *args)
    assert len(recorder.requests) == 2
    assert len(slept) == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422, 501])
async def test_other_statuses_are_not_retried(make_client: Any, status: int) -> None:
    recorder = Recorder(respond(status, problem(status, "no")))
    with pytest.raises(Exception, match="no"):
        await call(make_client(recorder), "list_sessions", "alice")
    assert len(recorder.requests) == 1


@pytest.mark.parametrize(
    "error",
    [
        httpx.ConnectError("refused"),
        httpx.ReadError("reset"),
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("x"),
    ],
)
async def test_connection_errors_and_timeouts_are_retried(make_client: Any, error: Exception) -> None:
    recorder = Recorder(error, respond(200, []))
    assert await call(make_client(recorder), "list_sessions", "alice") == []
    assert len(recorder.requests) == 2


async def test_retries_stop_at_max_retries_with_a_typed_error(make_client: Any) -> None:
    recorder = Recorder(httpx.ReadTimeout("slow"))
    client = make_client(recorder, max_retries=3)
    with pytest.raises(ClannTimeoutError, match="timed out after 4 attempt"):
        await call(client, "list_messages", SESSION_ID)
    assert len(recorder.requests) == 4
    recorder = Recorder(httpx.ConnectError("refused"))
    with pytest.raises(ClannConnectionError) as caught:
        await call(make_client(recorder, max_retries=0), "list_messages", SESSION_ID)
    assert not isinstance(caught.value, ClannTimeoutError)
    assert isinstance(caught.value.__cause__, httpx.ConnectError)
    assert len(recorder.requests) == 1


@pytest.mark.parametrize("method", ["create_session", "append_message"])
async def test_every_retry_of_a_post_sends_the_same_idempotency_key(make_client: Any, method: str) -> None:
    args, success, body = METHODS[method]
    recorder = Recorder(httpx.ReadError("lost"), respond(503, problem(503, "busy")), respond(success, body))
    await call(make_client(recorder), method, *args)
    keys = {request.headers["Idempotency-Key"] for request in recorder.requests}
    assert len(recorder.requests) == 3
    assert len(keys) == 1
    again = Recorder(respond(success, body))
    client = make_client(again)
    await call(client, method, *args)
    assert again.requests[0].headers["Idempotency-Key"] not in keys, "a new call gets a new key"


async def test_a_delete_whose_lost_attempt_succeeded_returns_normally(make_client: Any) -> None:
    recorder = Recorder(httpx.ReadError("response lost"), respond(404, problem(404, "gone")))
    assert await call(make_client(recorder), "delete_session", SESSION_ID) is None
    assert len(recorder.requests) == 2


async def test_a_delete_that_never_reached_the_server_still_reports_404(make_client: Any) -> None:
    recorder = Recorder(httpx.ConnectError("refused"), respond(404, problem(404, "gone")))
    with pytest.raises(ClannNotFoundError):
        await call(make_client(recorder), "delete_session", SESSION_ID)
    recorder = Recorder(respond(404, problem(404, "gone")))
    with pytest.raises(ClannNotFoundError):
        await call(make_client(recorder), "delete_session", SESSION_ID)


async def test_retry_after_seconds_is_honoured(make_client: Any) -> None:
    recorder = Recorder(respond(429, problem(429, "slow"), {"Retry-After": "3"}), respond(201, MESSAGE))
    client = make_client(recorder)
    slept = waits(client)
    await call(client, "append_message", SESSION_ID, "user", "x")
    assert slept == [3.0]


async def test_retry_after_beyond_the_cap_is_raised_not_waited(make_client: Any) -> None:
    recorder = Recorder(respond(503, problem(503, "maintenance"), {"Retry-After": "3600"}))
    client = make_client(recorder)
    slept = waits(client)
    with pytest.raises(ClannServerError):
        await call(client, "list_sessions", "alice")
    assert slept == []


@pytest.mark.parametrize(("header", "retried"), [("false", False), ("true", True)])
async def test_x_should_retry_decides(make_client: Any, header: str, retried: bool) -> None:
    status = 503 if header == "false" else 400
    recorder = Recorder(respond(status, problem(status, "x"), {"x-should-retry": header}), respond(200, []))
    client = make_client(recorder)
    if retried:
        assert await call(client, "list_sessions", "alice") == []
    else:
        with pytest.raises(ClannServerError):
            await call(client, "list_sessions", "alice")
    assert len(recorder.requests) == (2 if retried else 1)


async def test_each_retry_is_logged_at_info_with_reason_and_delay(
    make_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="pyclann")
    recorder = Recorder(
        respond(503, problem(503, "busy"), {"Retry-After": "2"}), httpx.ConnectError("x"), respond(200, [])
    )
    await call(make_client(recorder), "list_sessions", "alice")
    retries = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO and r.name == "pyclann"]
    assert retries[0] == "list_sessions: retry 1 after status 503, in 2.00s"
    assert retries[1].startswith("list_sessions: retry 2 after ConnectError, in ")


def test_backoff_is_capped_exponential_with_jitter() -> None:
    policy = RetryPolicy(max_retries=10, rng=random.Random(1))
    for retry in range(1, 11):
        ceiling = min(0.5 * 2 ** (retry - 1), 8.0)
        delay = policy.backoff(retry)
        assert ceiling / 2 <= delay <= ceiling


@pytest.mark.parametrize(
    ("value", "expected"),
    [("5", 5.0), ("0.5", 0.5), ("-3", 0.0), (None, None), ("", None), ("soon", None), ("nan", None), ("inf", None)],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value) == expected


def test_parse_retry_after_http_date() -> None:
    when = datetime.now(UTC) + timedelta(seconds=30)
    seconds = parse_retry_after(format_datetime(when, usegmt=True))
    assert seconds is not None
    assert 25 <= seconds <= 31


async def test_max_retries_zero_disables_retries(make_client: Any) -> None:
    recorder = Recorder(respond(503, problem(503, "busy")))
    with pytest.raises(ClannServerError):
        await call(make_client(recorder, max_retries=0), "list_sessions", "alice")
    assert len(recorder.requests) == 1


async def test_a_write_that_may_have_landed_is_retried_until_its_outcome_is_known(make_client: Any) -> None:
    lost = httpx.ReadError("response lost")
    recorder = Recorder(lost, lost, lost, lost, respond(201, MESSAGE))
    message = await call(make_client(recorder), "append_message", SESSION_ID, "user", "x")
    assert message.id == MESSAGE["id"]
    assert len(recorder.requests) == 5, "2 retries, then more to learn the outcome"
    assert len({r.headers["Idempotency-Key"] for r in recorder.requests}) == 1


async def test_a_write_that_never_reached_the_server_gets_only_max_retries(make_client: Any) -> None:
    recorder = Recorder(httpx.ConnectError("refused"))
    with pytest.raises(ClannConnectionError) as caught:
        await call(make_client(recorder), "append_message", SESSION_ID, "user", "x")
    assert len(recorder.requests) == 3
    assert "may have reached" not in str(caught.value)


async def test_giving_up_on_a_write_says_it_may_have_landed(make_client: Any) -> None:
    recorder = Recorder(httpx.ReadTimeout("slow"))
    with pytest.raises(ClannTimeoutError, match="may have reached the server"):
        await call(make_client(recorder), "create_session", "t", "alice")
    assert len(recorder.requests) == 7
    recorder = Recorder(httpx.ReadTimeout("slow"))
    with pytest.raises(ClannTimeoutError):
        await call(make_client(recorder, max_retries=0), "create_session", "t", "alice")
    assert len(recorder.requests) == 1
