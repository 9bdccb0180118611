"""A write's fate is never a guess: one key across its attempts, and every error says whether it may have landed."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx2
import pytest

from pyclann import (
    AsyncChatClient,
    ChatClient,
    ClannAPIError,
    ClannAuthError,
    ClannConnectionError,
    ClannError,
    ClannNotFoundError,
    ClannRateLimitError,
    ClannResponseError,
    ClannServerError,
    ClannTimeoutError,
    ClannUsageError,
)
from pyclann.testing import instant_retries
from scripts.check_doc_examples import examples
from tests.helpers import (
    KWARGS,
    MESSAGE,
    METHODS,
    PATHS,
    READS,
    SESSION_ID,
    WRITES,
    Recorder,
    Step,
    async_client,
    call,
    close,
    invoke,
    owned_client,
    problem,
    respond,
    success,
    sync_client,
)

LANDED = "may have been carried out"


def lost() -> httpx2.ReadError:
    """The request was sent; its response never came back."""
    return httpx2.ReadError("connection reset while reading the response")


def cut(method: str) -> httpx2.Response:
    """The method's success, its body cut short by a proxy."""
    _, status, body = METHODS[method]
    whole = success(method).content
    return respond(status, whole[: len(whole) // 2] if body is not None else b"")


async def fail(
    method: str, *script: Step, key: str | None = "order-7", **options: object
) -> tuple[ClannError, Recorder]:
    recorder = Recorder(*script)
    with pytest.raises(ClannError) as caught, instant_retries():
        await invoke(async_client(recorder, **options), method, idempotency_key=key)
    return caught.value, recorder


# The key -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", WRITES)
async def test_a_write_refused_before_any_request_carries_the_callers_key(method: str) -> None:
    recorder = Recorder(success(method))
    args, _, _ = METHODS[method]
    # The first argument is a session ID, or create_session's title: make it one that cannot be sent.
    bad = ("chat_session:not-a-ulid", *args[1:]) if method != "create_session" else ("lone \ud800", *args[1:])
    with pytest.raises(ClannError) as caught:
        await call(async_client(recorder), method, *bad, **KWARGS.get(method, {}), idempotency_key="order-7")
    # Nothing was sent now; an earlier call with the caller's key may have been, which nothing here can rule out.
    assert (caught.value.idempotency_key, caught.value.may_have_landed) == ("order-7", True)
    assert "nothing was sent, but an earlier call with idempotency_key='order-7' may have been" in str(caught.value)
    assert recorder.requests == []


@pytest.mark.parametrize("method", WRITES)
async def test_a_write_refused_before_any_request_with_a_made_key_was_not_carried_out(method: str) -> None:
    recorder = Recorder(success(method))
    args, _, _ = METHODS[method]
    bad = ("chat_session:not-a-ulid", *args[1:]) if method != "create_session" else ("lone \ud800", *args[1:])
    with pytest.raises(ClannError) as caught:
        await call(async_client(recorder), method, *bad, **KWARGS.get(method, {}))
    assert caught.value.may_have_landed is False
    assert str(caught.value).endswith("nothing was sent")


@pytest.mark.parametrize("method", WRITES)
async def test_the_callers_key_is_sent_by_every_attempt(method: str) -> None:
    recorder = Recorder(lost(), respond(503, problem(503, "busy")), success(method))
    with instant_retries():
        await invoke(async_client(recorder), method, idempotency_key="order-7")
    assert recorder.keys == ["order-7"] * 3


@pytest.mark.parametrize("method", WRITES)
async def test_a_made_key_is_the_same_across_retries_and_new_for_the_next_call(method: str) -> None:
    recorder = Recorder(lost(), respond(502, problem(502, "proxy")), success(method))
    client = async_client(recorder)
    with instant_retries():
        await invoke(client, method)
        await invoke(client, method)
    first, second, third, fourth = recorder.keys
    assert first == second == third
    assert fourth not in (None, first)


@pytest.mark.parametrize("method", READS)
async def test_reads_send_no_key_and_their_errors_carry_none(method: str) -> None:
    recorder = Recorder(lost())
    with pytest.raises(ClannConnectionError) as caught, instant_retries():
        await invoke(async_client(recorder), method)
    assert recorder.keys == [None] * 3
    assert caught.value.idempotency_key is None
    assert caught.value.may_have_landed is False
    assert LANDED not in str(caught.value)


# may_have_landed: True once any attempt may have been carried out --------------------------------


IN_DOUBT: dict[str, list[Step]] = {
    "response lost": [lost()],
    "read timeout": [httpx2.ReadTimeout("no answer in time")],
    "write error": [httpx2.WriteError("broken pipe")],
    "server disconnected": [httpx2.RemoteProtocolError("Server disconnected without sending a response.")],
    "503 every time": [respond(503, problem(503, "busy"))],
    "500 then 401": [respond(500, problem(500, "oops")), respond(401, problem(401, "token revoked"))],
    "connect error then 502": [httpx2.ConnectError("refused"), respond(502, b"<html>Bad Gateway</html>")],
}


@pytest.mark.parametrize("script", IN_DOUBT.values(), ids=IN_DOUBT.keys())
@pytest.mark.parametrize("method", [PATHS["write"]])
async def test_after_an_attempt_that_may_have_been_carried_out_the_error_says_so(
    method: str, script: list[Step]
) -> None:
    error, recorder = await fail(method, *script)
    assert error.idempotency_key == "order-7"
    assert error.may_have_landed is True
    assert f"{method} {LANDED}: call it again with idempotency_key='order-7'" in str(error)
    assert set(recorder.keys) == {"order-7"}


NOT_SENT: dict[str, list[Step]] = {
    "connect error": [httpx2.ConnectError("refused")],
    "connect timeout": [httpx2.ConnectTimeout("no connection in time")],
    "pool timeout": [httpx2.PoolTimeout("no free connection")],
    # Not 409 (a request with the key in flight) nor 410 (a replay of a write carried out, its session deleted since).
    **{str(status): [respond(status, problem(status, "refused"))] for status in (400, 401, 403, 404, 422)},
    "connect error then 429": [httpx2.ConnectError("refused"), respond(429, problem(429, "x"), {"Retry-After": "99"})],
}


@pytest.mark.parametrize("script", NOT_SENT.values(), ids=NOT_SENT.keys())
@pytest.mark.parametrize("method", [PATHS["write"]])
async def test_when_no_attempt_can_have_been_carried_out_the_error_says_so(method: str, script: list[Step]) -> None:
    # With a key made for the call: no earlier call can have sent it.
    error, recorder = await fail(method, *script, key=None)
    assert error.idempotency_key == recorder.keys[0] is not None
    assert error.may_have_landed is False
    assert str(error).endswith(f"; {method} was not carried out")
    assert LANDED not in str(error)


# Issue 12: the first attempt commits but its response is lost, and the retry meets a refusal.

LOST_THEN: dict[str, tuple[Step, type[ClannError]]] = {
    "429 with Retry-After above the cap": (
        respond(429, problem(429, "slow down"), {"Retry-After": "3600"}),
        ClannRateLimitError,
    ),
    "503 on every retry": (respond(503, problem(503, "busy")), ClannServerError),
    "401": (respond(401, problem(401, "token expired")), ClannAuthError),
    "x-should-retry: false": (respond(503, problem(503, "no"), {"x-should-retry": "false"}), ClannServerError),
    "a timeout": (httpx2.ReadTimeout("slow"), ClannTimeoutError),
}


@pytest.mark.parametrize(("then", "expected"), LOST_THEN.values(), ids=LOST_THEN.keys())
@pytest.mark.parametrize("method", [PATHS["write"]])
async def test_a_lost_response_then_a_refusal_still_says_the_write_may_have_landed(
    method: str, then: Step, expected: type[ClannError]
) -> None:
    error, recorder = await fail(method, lost(), then)
    assert type(error) is expected
    assert error.may_have_landed is True
    assert error.idempotency_key == "order-7"
    assert LANDED in str(error)
    assert len(recorder.requests) >= 2


@pytest.mark.parametrize("method", WRITES)
async def test_calling_again_with_the_errors_key_sends_that_key(method: str) -> None:
    recorder = Recorder(lost(), respond(429, problem(429, "x"), {"Retry-After": "600"}), success(method))
    client = async_client(recorder)
    with pytest.raises(ClannRateLimitError) as caught, instant_retries():
        await invoke(client, method)
    key = caught.value.idempotency_key
    assert key is not None
    await invoke(client, method, idempotency_key=key)
    assert recorder.keys == [key, key, key]


# Cut and wrong 2xx bodies


@pytest.mark.parametrize("method", [m for m in WRITES if m != "delete_session"])
async def test_a_cut_success_body_is_retried_with_the_same_key(method: str) -> None:
    recorder = Recorder(cut(method), success(method, {"Idempotent-Replayed": "true"}))
    with instant_retries() as waits:
        result = await invoke(async_client(recorder), method)
    assert result is not None
    assert len(recorder.requests) == 2
    assert len(set(recorder.keys)) == 1
    assert len(waits) == 1


async def test_a_201_cut_on_every_attempt_says_the_message_may_exist() -> None:
    error, recorder = await fail("append_message", cut("append_message"))
    assert isinstance(error, ClannResponseError)
    assert "not JSON" in error.detail
    assert error.may_have_landed is True
    assert len(recorder.requests) == 3


async def test_a_201_that_breaks_the_contract_is_not_retried_but_may_have_landed() -> None:
    wrong = respond(201, {**MESSAGE, "created_at": "yesterday"})
    error, recorder = await fail("append_message", wrong)
    assert isinstance(error, ClannResponseError)
    assert error.may_have_landed is True
    assert len(recorder.requests) == 1


# Deletes learn their outcome from the replay, never from a 404


async def test_a_delete_whose_retry_meets_a_404_raises_not_found_and_may_have_landed() -> None:
    error, recorder = await fail(
        "delete_session",
        respond(503, problem(503, "proxy")),
        respond(404, problem(404, "no such session")),
    )
    assert type(error) is ClannNotFoundError
    assert error.may_have_landed is True
    assert LANDED in str(error)
    assert len(recorder.requests) == 2


async def test_a_delete_whose_response_was_lost_then_meets_a_404_is_not_taken_for_success() -> None:
    error, _ = await fail("delete_session", lost(), respond(404, problem(404, "no such session")))
    assert type(error) is ClannNotFoundError
    assert error.may_have_landed is True


async def test_a_delete_whose_first_answer_is_404_did_not_land() -> None:
    error, recorder = await fail("delete_session", respond(404, problem(404, "no such session")))
    assert type(error) is ClannNotFoundError
    assert error.may_have_landed is False
    assert len(recorder.requests) == 1


async def test_a_delete_whose_retry_is_a_replayed_204_succeeds() -> None:
    recorder = Recorder(lost(), respond(204, None, {"Idempotent-Replayed": "true"}))
    with instant_retries():
        assert await invoke(async_client(recorder), "delete_session", idempotency_key="del-1") is None
    assert recorder.keys == ["del-1", "del-1"]


@pytest.mark.parametrize("method", WRITES)
async def test_a_409_in_flight_is_in_doubt_and_retried_until_the_replay(method: str) -> None:
    # A 409 says a request with this key is being carried out: once, "was not carried out".
    in_flight = respond(409, problem(409, "still being carried out", kind="idempotency-in-flight"))
    recorder = Recorder(in_flight, success(method, {"Idempotent-Replayed": "true"}))
    with instant_retries() as waits:
        await invoke(async_client(recorder), method, idempotency_key="order-7")
    assert len(waits) == 1
    error, _ = await fail(method, in_flight, max_retries=0)
    assert error.may_have_landed is True
    assert LANDED in str(error)


async def test_a_410_says_the_write_was_carried_out_and_erased_with_its_session() -> None:
    gone = respond(410, problem(410, "the session has since been deleted", kind="replay-purged"))
    error, recorder = await fail("append_message", gone)
    assert isinstance(error, ClannNotFoundError)
    assert error.may_have_landed is True, "it did land, before its session was deleted"
    assert "was carried out, but its session has since been deleted" in str(error)
    assert len(recorder.requests) == 1


async def test_a_replay_of_a_deleted_sessions_write_is_410_not_found() -> None:
    gone = respond(410, problem(410, "the session has since been deleted", kind="replay-purged"))
    error, _ = await fail("append_message", lost(), gone)
    assert isinstance(error, ClannNotFoundError)
    assert isinstance(error, ClannAPIError)
    assert error.status_code == 410
    assert error.problem_type == "tag:clann.dev,2026:problem/replay-purged"
    assert error.may_have_landed is True


@pytest.mark.parametrize("cls", [ChatClient, AsyncChatClient])
async def test_a_write_left_in_doubt_stays_in_doubt_on_a_closed_client(
    cls: type[ChatClient] | type[AsyncChatClient],
) -> None:
    # The closed client's error once said "was not carried out", forgetting the first call.
    client = owned_client(cls, Recorder(lost()), max_retries=0)
    with pytest.raises(ClannError) as first:
        await invoke(client, "append_message")
    assert first.value.may_have_landed is True
    await close(client)
    with pytest.raises(ClannUsageError) as again:
        await invoke(client, "append_message", idempotency_key=first.value.idempotency_key)
    assert again.value.may_have_landed is True
    assert LANDED in str(again.value)


# The retries guide's loop -------------------------------------------------------------------------


def _append_surely() -> Callable[..., Any]:
    """The `append_surely` recipe of docs/guides/retries.md, as a user would paste it."""
    (code,) = [code for name, _, code in examples() if "def append_surely(" in code]
    namespace: dict[str, Any] = {}
    exec(compile(code, "docs/guides/retries.md", "exec"), namespace)  # noqa: S102 - our own docs, run as written
    return namespace["append_surely"]  # type: ignore[no-any-return]


def test_the_guides_loop_appends_once_through_failures(monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []
    monkeypatch.setattr(time, "sleep", waits.append)
    # Refused connections first: nothing written, yet the loop once gave up on them at once.
    refused = httpx2.ConnectError("connection refused")
    busy = respond(429, problem(429, "slow down"), {"Retry-After": "1"})
    # A Retry-After past any sleep: once an OverflowError, which carried no key.
    forever = respond(429, problem(429, "come back much later"), {"Retry-After": "Fri, 31 Dec 9999 23:59:59 GMT"})
    script: list[Step] = [
        refused,
        refused,
        lost(),
        respond(503, problem(503, "busy")),
        respond(408, problem(408, "the request took too long")),
        busy,
        forever,
        success("append_message"),
    ]
    recorder = Recorder(*script)
    message = _append_surely()(sync_client(recorder, max_retries=0), SESSION_ID, "Hello")
    assert message.id == MESSAGE["id"]
    assert len(recorder.requests) == 8
    assert len(set(recorder.keys)) == 1, "every call sent the first call's key"
    assert waits == [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 60.0]


def test_the_guides_loop_stops_at_a_refusal_that_wrote_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(time, "sleep", lambda seconds: None)
    recorder = Recorder(respond(422, problem(422, "content is too long")))
    with pytest.raises(ClannError) as caught:
        _append_surely()(sync_client(recorder, max_retries=0), SESSION_ID, "Hello")
    assert caught.value.may_have_landed is False
    assert len(recorder.requests) == 1


def test_the_guides_loop_ends_when_the_server_keeps_breaking_the_contract(monkeypatch: pytest.MonkeyPatch) -> None:
    # A 2xx whose body breaks the contract is in doubt, and replaying the key gives it again: once a loop without end.
    monkeypatch.setattr(time, "sleep", lambda seconds: None)
    recorder = Recorder(respond(201, {"not": "a message"}))
    with pytest.raises(ClannResponseError) as caught:
        _append_surely()(sync_client(recorder, max_retries=0), SESSION_ID, "Hello", rounds=5)
    assert caught.value.may_have_landed is True
    assert len(recorder.requests) == 5
    assert recorder.keys == [caught.value.idempotency_key] * 5


# Issue 22: a key of the caller's may have been sent before, by any client; a refusal does not answer it.

REFUSALS: dict[str, list[Step]] = {
    **{
        str(status): [respond(status, problem(status, "refused"))]
        for status in (401, 405, 408, 413, 418, 451)  # statuses the server gives without looking the key up
    },
    "429 with Retry-After above the cap": [respond(429, problem(429, "slow down"), {"Retry-After": "3600"})],
    "connect error": [httpx2.ConnectError("refused")],
    "connect timeout": [httpx2.ConnectTimeout("no connection in time")],
    "pool timeout": [httpx2.PoolTimeout("no free connection")],
    "unsupported protocol": [httpx2.UnsupportedProtocol("ftp")],
}


@pytest.mark.parametrize("script", REFUSALS.values(), ids=REFUSALS.keys())
@pytest.mark.parametrize("method", WRITES)
async def test_a_refusal_with_the_callers_key_cannot_rule_out_an_earlier_call(method: str, script: list[Step]) -> None:
    error, _ = await fail(method, *script, key="order-7")
    assert error.may_have_landed is True, "another client's call with the key may have landed"
    said = str(error)
    assert f"{method} was not carried out by this call, but an earlier call with idempotency_key='order-7'" in said
    assert not said.endswith("was not carried out")


@pytest.mark.parametrize("status", sorted({400, 403, 404, 422}))
@pytest.mark.parametrize("method", WRITES)
async def test_an_answer_to_the_callers_key_says_it_was_not_carried_out(method: str, status: int) -> None:
    # These the server gives only after looking the key up: had it been carried out, it would have replayed it.
    error, _ = await fail(method, respond(status, problem(status, "refused")), key="order-7")
    assert error.may_have_landed is False
    assert str(error).endswith(f"; {method} was not carried out")
