"""ChatClient and AsyncChatClient: what each method returns, their life cycle, and a user's own httpx2 client."""

from __future__ import annotations

import asyncio
import gc
import json
import threading
from datetime import UTC, datetime
from typing import Any

import httpx2
import pytest

import pyclann
from pyclann import (
    AsyncChatClient,
    ChatClient,
    ChatMessage,
    ChatSession,
    ClannUsageError,
    MessagePage,
    Role,
    SessionPage,
)
from tests.helpers import (
    BASE,
    MESSAGE_ID,
    METHODS,
    SESSION,
    SESSION_ID,
    TOKEN,
    WRITES,
    MakeClient,
    Recorder,
    async_client,
    call,
    close,
    invoke,
    owned_client,
    success,
)
from tests.servers import Exchange, Server

# What each method returns, exactly.
RETURNS: dict[str, type | tuple[type, type]] = {
    "list_sessions": (list, ChatSession),
    "iter_sessions": (list, ChatSession),  # walked to a list by `call`
    "list_sessions_page": (SessionPage, ChatSession),
    "create_session": ChatSession,
    "get_session": ChatSession,
    "update_session": ChatSession,
    "delete_session": type(None),
    "list_messages": (list, ChatMessage),
    "iter_messages": (list, ChatMessage),
    "list_messages_page": (MessagePage, ChatMessage),
    "append_message": ChatMessage,
    "get_message": ChatMessage,
}


@pytest.mark.parametrize("method", METHODS)
async def test_each_method_returns_its_own_model_type(method: str) -> None:
    recorder = Recorder(success(method))
    result = await invoke(async_client(recorder), method)
    expected = RETURNS[method]
    if isinstance(expected, tuple):
        container, item = expected
        assert type(result) is container
        assert isinstance(result, list | SessionPage | MessagePage)
        assert len(result) == 1
        assert all(type(record) is item for record in result)
    else:
        assert type(result) is expected
    assert len(recorder.requests) == 1


async def test_a_session_comes_back_with_every_field() -> None:
    session = await call(async_client(Recorder(success("get_session"))), "get_session", SESSION_ID)
    assert session == ChatSession(
        id=SESSION_ID,
        title="Planning",
        created_by="alice",
        tree=None,
        created_at=datetime(2026, 11, 26, 9, 0, 0, 1, tzinfo=UTC),
        updated_at=datetime(2026, 11, 26, 9, 5, tzinfo=UTC),
    )


async def test_a_message_comes_back_with_every_field() -> None:
    message = await call(async_client(Recorder(success("get_message"))), "get_message", SESSION_ID, MESSAGE_ID)
    assert message == ChatMessage(
        id=MESSAGE_ID,
        session=SESSION_ID,
        role=Role.USER,
        content="Hello",
        created_at=datetime(2026, 11, 26, 9, 5, tzinfo=UTC),
    )


def test_the_clients_have_the_same_public_methods() -> None:
    def public(cls: type[Any]) -> set[str]:
        return {name for name in dir(cls) if not name.startswith("_")}

    assert public(ChatClient) - {"close"} == public(AsyncChatClient) - {"aclose"}
    assert {"close", "with_options", "with_raw_response"} <= public(ChatClient)
    assert set(METHODS) <= public(ChatClient)


@pytest.mark.parametrize("cls", [ChatClient, AsyncChatClient])
def test_repr_shows_the_base_url(cls: Any) -> None:
    client = cls(BASE + "/", token=TOKEN)
    assert repr(client) == f"{cls.__name__}(base_url='{BASE}')"


# Life cycle ---------------------------------------------------------------------------------------


def test_a_client_of_its_own_closes_its_connections_on_exit() -> None:
    with ChatClient(BASE, token=TOKEN) as client:
        http = client._http
        assert not http.is_closed
    assert http.is_closed
    client.close()  # again: nothing to do


async def test_an_async_client_of_its_own_closes_its_connections_on_exit() -> None:
    async with AsyncChatClient(BASE, token=TOKEN) as client:
        http = client._http
        assert not http.is_closed
    assert http.is_closed
    await client.aclose()


async def test_a_users_http_client_is_never_closed_by_pyclann(make_client: MakeClient) -> None:
    client = make_client(Recorder(success("get_session")))
    await call(client, "get_session", SESSION_ID)
    await close(client)
    assert not client._http.is_closed


@pytest.mark.parametrize("method", METHODS)
async def test_every_method_of_a_closed_client_raises_usage_error_and_sends_nothing(method: str) -> None:
    for cls in (ChatClient, AsyncChatClient):
        recorder = Recorder(success(method))
        client = owned_client(cls, recorder)
        await close(client)
        with pytest.raises(ClannUsageError, match=f"{method.replace('iter', 'list')}: this {cls.__name__}.* is closed"):
            await invoke(client, method)
        assert recorder.requests == []


@pytest.mark.parametrize("method", WRITES)
async def test_a_closed_clients_error_on_a_write_says_it_was_not_carried_out(method: str) -> None:
    client = ChatClient(BASE, token=TOKEN)
    client.close()
    with pytest.raises(ClannUsageError) as caught:
        await invoke(client, method, idempotency_key="k-1")
    assert caught.value.idempotency_key == "k-1"
    assert caught.value.may_have_landed is False
    assert str(caught.value).endswith(f"{method} was not carried out")
    assert isinstance(caught.value, RuntimeError)


async def test_a_users_http_client_closed_by_its_owner_raises_usage_error(make_client: MakeClient) -> None:
    recorder = Recorder(success("get_session"))
    client = make_client(recorder)
    http = client._http
    if isinstance(http, httpx2.AsyncClient):
        await http.aclose()
    else:
        http.close()
    with pytest.raises(ClannUsageError, match=r"get_session: .*closed"):
        await call(client, "get_session", SESSION_ID)
    with pytest.raises(ClannUsageError) as caught:
        await invoke(client, "append_message", idempotency_key="k-2")
    assert (caught.value.idempotency_key, caught.value.may_have_landed) == ("k-2", False)
    assert recorder.requests == []


def test_an_async_client_used_from_a_second_event_loop_raises_usage_error() -> None:
    recorder = Recorder(success("get_session"))
    client = AsyncChatClient(
        BASE, token=TOKEN, http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(recorder))
    )
    asyncio.run(client.get_session(SESSION_ID))
    with pytest.raises(ClannUsageError, match="first used in another event loop"):
        asyncio.run(client.get_session(SESSION_ID))
    with pytest.raises(ClannUsageError) as caught:
        asyncio.run(invoke(client, "delete_session", idempotency_key="k-3"))
    assert (caught.value.idempotency_key, caught.value.may_have_landed) == ("k-3", False)
    assert len(recorder.requests) == 1


def test_an_async_client_serves_many_tasks_of_one_loop() -> None:
    recorder = Recorder(success("get_session"))
    client = AsyncChatClient(
        BASE, token=TOKEN, http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(recorder))
    )

    async def many() -> list[ChatSession]:
        return await asyncio.gather(*(client.get_session(SESSION_ID) for _ in range(20)))

    assert len(asyncio.run(many())) == 20
    assert len(recorder.requests) == 20


def test_a_sync_client_serves_many_threads() -> None:
    recorder = Recorder(success("get_session"))
    client = ChatClient(BASE, token=TOKEN, http_client=httpx2.Client(transport=httpx2.MockTransport(recorder)))
    results: list[ChatSession] = []
    threads = [threading.Thread(target=lambda: results.append(client.get_session(SESSION_ID))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8


# A user's own httpx2 client keeps its settings (issue 13) ------------------------------------------


def test_a_users_http_client_keeps_its_headers_and_event_hooks() -> None:
    recorder = Recorder(success("get_session"))
    fired: list[str] = []
    own = httpx2.Client(
        transport=httpx2.MockTransport(recorder),
        headers={"X-Mine": "1", "User-Agent": "my-app/2.0"},
        event_hooks={
            "request": [lambda request: fired.append(f"request {request.method}")],
            "response": [lambda response: fired.append(f"response {response.status_code}")],
        },
    )
    with ChatClient(BASE, token=TOKEN, http_client=own) as client:
        client.get_session(SESSION_ID)
    [request] = recorder.requests
    assert request.headers["X-Mine"] == "1"
    assert request.headers["User-Agent"] == f"my-app/2.0 pyclann/{pyclann.__version__}"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert fired == ["request GET", "response 200"]
    assert not own.is_closed
    own.close()


async def test_a_users_async_http_client_keeps_its_headers_and_event_hooks() -> None:
    recorder = Recorder(success("get_session"))
    fired: list[str] = []

    async def on_request(request: httpx2.Request) -> None:
        fired.append(f"request {request.method}")

    async def on_response(response: httpx2.Response) -> None:
        fired.append(f"response {response.status_code}")

    async with httpx2.AsyncClient(
        transport=httpx2.MockTransport(recorder),
        headers={"X-Mine": "1", "User-Agent": "my-app/2.0"},
        event_hooks={"request": [on_request], "response": [on_response]},
    ) as own:
        async with AsyncChatClient(BASE, token=TOKEN, http_client=own) as client:
            await client.get_session(SESSION_ID)
        assert not own.is_closed
    [request] = recorder.requests
    assert request.headers["X-Mine"] == "1"
    assert request.headers["User-Agent"] == f"my-app/2.0 pyclann/{pyclann.__version__}"
    assert fired == ["request GET", "response 200"]


def test_pyclanns_own_client_says_only_pyclann() -> None:
    recorder = Recorder(success("get_session"))
    client = owned_client(ChatClient, recorder)
    assert isinstance(client, ChatClient)
    with client:
        client.get_session(SESSION_ID)
    assert recorder.requests[0].headers["User-Agent"] == f"pyclann/{pyclann.__version__}"


def test_pyclanns_arguments_win_over_the_users_client_only_when_passed() -> None:
    recorder = Recorder(success("get_session"))
    own = httpx2.Client(transport=httpx2.MockTransport(recorder), timeout=1.5, headers={"X-Tenant": "mine"})
    ChatClient(BASE, token=TOKEN, http_client=own).get_session(SESSION_ID)
    ChatClient(BASE, token=TOKEN, http_client=own, timeout=9, headers={"X-Tenant": "given"}).get_session(SESSION_ID)
    kept, overridden = recorder.requests
    assert (kept.extensions["timeout"]["read"], kept.headers["X-Tenant"]) == (1.5, "mine")
    assert (overridden.extensions["timeout"]["read"], overridden.headers["X-Tenant"]) == (9, "given")
    own.close()


# with_options ---------------------------------------------------------------------------------------


async def test_with_options_changes_only_the_copy() -> None:
    recorder = Recorder(success("get_session"))
    client = async_client(recorder, headers={"X-A": "1"})
    copy = client.with_options(timeout=2, headers={"X-B": "2"})
    assert type(copy) is type(client)
    await call(copy, "get_session", SESSION_ID)
    await call(client, "get_session", SESSION_ID)
    from_copy, from_original = recorder.requests
    assert from_copy.extensions["timeout"] == {"connect": 2, "read": 2, "write": 2, "pool": 2}
    assert (from_copy.headers["X-A"], from_copy.headers["X-B"]) == ("1", "2")
    assert from_copy.headers["Authorization"] == f"Bearer {TOKEN}"
    assert from_original.extensions["timeout"]["read"] == 5.0  # the user's httpx2 client's default
    assert "X-B" not in from_original.headers


async def test_with_options_max_retries_and_total_timeout() -> None:
    from pyclann.testing import instant_retries

    recorder = Recorder(httpx2.ConnectError("refused"))
    client = async_client(recorder)
    with pytest.raises(pyclann.ClannConnectionError), instant_retries():
        await call(client.with_options(max_retries=0), "get_session", SESSION_ID)
    assert len(recorder.requests) == 1
    with pytest.raises(pyclann.ClannConnectionError), instant_retries():
        await call(client.with_options(max_retries=4), "get_session", SESSION_ID)
    assert len(recorder.requests) == 1 + 5
    bounded = Recorder(success("get_session"))
    client = async_client(bounded, total_timeout=2)
    await call(client, "get_session", SESSION_ID)
    await call(client.with_options(total_timeout=None), "get_session", SESSION_ID)
    await call(client.with_options(total_timeout=1), "get_session", SESSION_ID)
    reads = [request.extensions["timeout"]["read"] for request in bounded.requests]
    assert 0 < reads[0] <= 2
    assert reads[1] == 5.0, "no total: the user's httpx2 client's own 5 s"
    assert 0 < reads[2] <= 1


def test_with_options_shares_the_connection_pool_and_closing_the_copy_leaves_it_open() -> None:
    client = ChatClient(BASE, token=TOKEN)
    copy = client.with_options(timeout=3)
    assert copy._http is client._http
    copy.close()
    assert not client._http.is_closed
    client.close()
    assert client._http.is_closed
    with pytest.raises(ClannUsageError, match="or the client it was copied from, is closed"):
        copy.get_session(SESSION_ID)


async def test_with_options_of_an_async_client_shares_its_pool_too() -> None:
    client = AsyncChatClient(BASE, token=TOKEN)
    copy = client.with_options(max_retries=0)
    assert copy._http is client._http
    await copy.aclose()
    assert not client._http.is_closed
    await client.aclose()
    with pytest.raises(ClannUsageError):
        await copy.get_session(SESSION_ID)


def test_a_copy_of_a_copy_still_shares_the_pool_and_the_original_still_owns_it() -> None:
    client = ChatClient(BASE, token=TOKEN)
    copy = client.with_options(timeout=3).with_options(max_retries=0)
    assert copy._http is client._http
    copy.close()
    assert not client._http.is_closed
    client.close()


def keep_alive(exchange: Exchange) -> None:
    """Answer every request of one connection, keeping it open, as servers do."""
    while exchange.read_request():
        body = json.dumps(SESSION).encode()
        exchange.send(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Request-Id: k\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )


# The connection left open belongs to a closed loop: nothing can close it, and its
# transport says so when collected. That is the situation this test is about.
@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
def test_closing_an_async_client_from_a_second_event_loop_raises_usage_error() -> None:
    with Server(keep_alive) as server:
        client = AsyncChatClient(server.url, token=TOKEN)
        asyncio.run(client.get_session(SESSION_ID))
        with pytest.raises(ClannUsageError, match=r"aclose: .*event loop"):
            asyncio.run(client.aclose())
        asyncio.run(client.aclose())  # closed now: nothing more to do
        del client
        gc.collect()
