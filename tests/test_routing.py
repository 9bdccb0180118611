"""Every public method of both clients and both raw views goes through the shared failure paths.

The failure tables (statuses, transport errors, bad IDs, bad keys) are each tested once per
code path, on the async client (tests/helpers.py's PATHS). What makes that enough is checked
here, one case per method: each raises what the shared mapping gives for one failing answer,
and refuses a bad ID or key before any request. A bug in a shared mapping fails its table's few
cases, not these; a method that bypasses the mapping fails its own case here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx2
import pytest

from pyclann import (
    AsyncChatClient,
    AsyncRawChatClient,
    ChatClient,
    ClannError,
    ClannInvalidArgumentError,
    ClannInvalidIdError,
    RawChatClient,
)
from tests.helpers import (
    KWARGS,
    METHODS,
    SESSION_METHODS,
    WRITES,
    Recorder,
    async_client,
    call,
    problem,
    respond,
    sync_client,
)

Surface = ChatClient | AsyncChatClient | RawChatClient | AsyncRawChatClient
SURFACES: dict[str, Callable[[Recorder], Surface]] = {
    "ChatClient": lambda recorder: sync_client(recorder, max_retries=0),
    "AsyncChatClient": lambda recorder: async_client(recorder, max_retries=0),
    "RawChatClient": lambda recorder: sync_client(recorder, max_retries=0).with_raw_response,
    "AsyncRawChatClient": lambda recorder: async_client(recorder, max_retries=0).with_raw_response,
}
CASES = [(surface, method) for surface in SURFACES for method in METHODS]
FAILING = respond(503, problem(503, "down for a moment"), {"X-Request-Id": "req-9"})


async def failure(surface: Surface, method: str, *, key: str | None = None, **changed: Any) -> ClannError:
    """The error `method` raises with the arguments METHODS gives it (`changed` replacing some)."""
    args, _, _ = METHODS[method]
    kwargs: dict[str, Any] = {**KWARGS.get(method, {}), **({"idempotency_key": key} if key is not None else {})}
    if "session_id" in changed:
        args = (changed.pop("session_id"), *args[1:])
    kwargs.update(changed)
    with pytest.raises(ClannError) as caught:
        await call(surface, method, *args, **kwargs)
    return caught.value


def summary(error: ClannError) -> tuple[Any, ...]:
    return (type(error), getattr(error, "status_code", None), getattr(error, "detail", None), str(error))


async def reference(answer: httpx2.Response | Exception) -> ClannError:
    """What the shared mapping makes of `answer`, as the async client's get_session is told it."""
    return await failure(async_client(Recorder(answer), max_retries=0), "get_session")


@pytest.mark.parametrize(("surface", "method"), CASES, ids=[f"{s}.{m}" for s, m in CASES])
async def test_every_method_goes_through_the_shared_failure_paths(surface: str, method: str) -> None:
    make = SURFACES[surface]
    # A failing status: the error the shared mapping gives, by the same name but for the method's.
    error = await failure(make(Recorder(FAILING)), method)
    expected = await reference(FAILING)
    assert summary(error)[:3] == summary(expected)[:3]
    assert getattr(error, "request_id", None) == getattr(expected, "request_id", None)
    # A write's message goes on to say how to learn whether it landed.
    assert str(error).startswith(str(expected).replace("get_session", method, 1))

    # A transport error: the mapped class, with its cause; a write's error says it may have landed.
    lost = httpx2.ReadError("reset")
    error = await failure(make(Recorder(lost)), method, key="k-1" if method in WRITES else None)
    assert type(error) is type(await reference(lost))
    assert error.__cause__ is lost
    if method in WRITES:
        assert (error.idempotency_key, error.may_have_landed) == ("k-1", True)

    # Bad arguments are refused before any request: the plainest of each (the tables hold the rest).
    if method in SESSION_METHODS:
        recorder = Recorder(FAILING)
        assert type(await failure(make(recorder), method, session_id="../x")) is ClannInvalidIdError
        assert recorder.requests == []
    if method in WRITES:
        recorder = Recorder(FAILING)
        assert type(await failure(make(recorder), method, key="")) is ClannInvalidArgumentError
        assert recorder.requests == []
