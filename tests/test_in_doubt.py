"""Calling again with an error's key: the next error must not say "not carried out" for a write the first call made.

Found by the soak (seed 2026): a delete's response was lost, so its error said
`may_have_landed`; called again with the error's key, the call met a 401, whose
error said `may_have_landed=False`. The retries guide's loop then stops, taking
the write for "refused, and nothing written"; yet the session had been deleted.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from pyclann import AsyncChatClient, ChatClient, ClannAuthError, ClannConnectionError, ClannError, ClannNotFoundError
from pyclann.testing import DevServer, dev_server
from scripts.faults.proxy import TAG_HEADER, Fault, FaultProxy, Kind, scripted
from tests.helpers import call

LOST, UNAUTHORIZED = Fault(Kind.RESET_AFTER), Fault(Kind.UNAUTHORIZED)


@pytest.fixture
def server() -> Iterator[DevServer]:
    with dev_server() as started:
        yield started


@asynccontextmanager
async def through(server: DevServer, flavour: str, faults: dict[tuple[str, int], Fault]) -> AsyncIterator[Any]:
    """A client of `flavour` whose requests meet `faults`, by (tag "t", n), and make no retries of their own."""
    options: dict[str, Any] = {"token": server.tokens["alice"], "max_retries": 0, "headers": {TAG_HEADER: "t"}}
    with FaultProxy(server.url, scripted(faults)) as proxy:
        if flavour == "sync":
            with ChatClient(proxy.url, **options) as chat:
                yield chat
        else:
            async with AsyncChatClient(proxy.url, **options) as async_chat:
                yield async_chat


@pytest.mark.parametrize("flavour", ["sync", "async"])
@pytest.mark.parametrize("method", ["append_message", "delete_session", "update_session", "create_session"])
async def test_called_again_after_a_lost_answer_a_401_still_says_it_may_have_landed(
    server: DevServer, flavour: str, method: str
) -> None:
    with server.client() as clean:
        session = clean.create_session("before", "alice")
        args: dict[str, tuple[Any, ...]] = {
            "append_message": (session, "user", "once"),
            "delete_session": (session,),
            "update_session": (session,),
            "create_session": ("once", "alice"),
        }
        kwargs = {"title": "renamed"} if method == "update_session" else {}
        async with through(server, flavour, {("t", 0): LOST, ("t", 1): UNAUTHORIZED}) as chat:
            with pytest.raises(ClannConnectionError) as lost:
                await call(chat, method, *args[method], **kwargs)
            assert lost.value.may_have_landed
            with pytest.raises(ClannAuthError) as again:
                await call(chat, method, *args[method], idempotency_key=lost.value.idempotency_key, **kwargs)
        landed = {
            "append_message": lambda: [m.content for m in clean.list_messages(session)] == ["once"],
            "delete_session": lambda: not clean.list_sessions("alice"),
            "update_session": lambda: clean.get_session(session).title == "renamed",
            "create_session": lambda: "once" in [s.title for s in clean.list_sessions("alice")],
        }
        assert landed[method](), "the first call carried the write out"
        assert again.value.may_have_landed, "the second error says the write was not carried out"
        assert again.value.idempotency_key == lost.value.idempotency_key


@pytest.mark.parametrize("flavour", ["sync", "async"])
async def test_a_first_call_refused_with_a_key_of_the_callers_own_cannot_rule_out_an_earlier_call(
    server: DevServer, flavour: str
) -> None:
    # The client cannot tell a key never used from one another client used (issue 22): it says what it knows.
    with server.client() as clean:
        session = clean.create_session("before", "alice")
        async with through(server, flavour, {("t", 1): UNAUTHORIZED}) as chat:
            await call(chat, "get_session", session)
            with pytest.raises(ClannAuthError) as refused:
                await call(chat, "append_message", session, "user", "never", idempotency_key="mine-1")
        assert refused.value.may_have_landed
        assert "append_message was not carried out by this call, but an earlier call" in str(refused.value)
        assert clean.list_messages(session) == []


@pytest.mark.parametrize("flavour", ["sync", "async"])
async def test_an_answer_from_the_server_settles_the_doubt(server: DevServer, flavour: str) -> None:
    missing = "chat_session:01JDXV3C5Z0K8Y8T6W3M2Q9R4N"
    async with through(server, flavour, {("t", 0): LOST}) as chat:
        with pytest.raises(ClannConnectionError) as lost:
            await call(chat, "append_message", missing, "user", "nowhere")
        assert lost.value.may_have_landed
        with pytest.raises(ClannNotFoundError) as answered:
            await call(chat, "append_message", missing, "user", "nowhere", idempotency_key=lost.value.idempotency_key)
    assert not answered.value.may_have_landed, "a 404 to the key: no earlier request with it was carried out"


@pytest.mark.parametrize("flavour", ["sync", "async"])
@pytest.mark.parametrize("refusal", [UNAUTHORIZED, Fault(Kind.RATE_LIMITED_OVER_CAP, retry_after=3600)], ids=str)
async def test_a_new_client_with_a_landed_key_refused_says_an_earlier_call_may_have_landed(
    server: DevServer, flavour: str, refusal: Fault
) -> None:
    # Issue 22: the write lands, its response is lost; a NEW client calls again with the key and is refused.
    with server.client() as clean:
        session = clean.create_session("before", "alice")
        async with through(server, flavour, {("t", 0): LOST}) as first:
            with pytest.raises(ClannConnectionError):
                await call(first, "append_message", session, "user", "once", idempotency_key="k-22")
        async with through(server, flavour, {("t", 0): refusal}) as second:
            with pytest.raises(ClannError) as refused:
                await call(second, "append_message", session, "user", "once", idempotency_key="k-22")
        assert [m.content for m in clean.list_messages(session)] == ["once"], "one copy is stored"
    assert refused.value.may_have_landed
    assert "not carried out by this call, but an earlier call with idempotency_key='k-22' may have" in str(
        refused.value
    )
