"""with_raw_response (pyclann._raw): a successful call's status, headers and request ID, with its result."""

from __future__ import annotations

import asyncio
import json
import random
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import attrs
import httpx2
import pytest

from pyclann import (
    AsyncChatClient,
    AsyncRawChatClient,
    ChatClient,
    ClannNotFoundError,
    RawChatClient,
    RawResponse,
)
from tests.helpers import (
    BASE,
    KWARGS,
    METHODS,
    SESSION,
    SESSION_ID,
    TOKEN,
    Recorder,
    async_client,
    call,
    message,
    message_page,
    problem,
    respond,
    session,
    session_page,
    success,
)

NOT_ITERATORS = [name for name in METHODS if not name.startswith("iter_")]


async def raw_call(client: ChatClient | AsyncChatClient, method: str, **extra: Any) -> Any:
    args, _, _ = METHODS[method]
    return await call(client.with_raw_response, method, *args, **KWARGS.get(method, {}), **extra)


@pytest.mark.parametrize("method", NOT_ITERATORS)
async def test_every_method_has_a_raw_form_returning_the_result_with_its_response(method: str) -> None:
    headers = {"X-Request-Id": "req-raw", "X-Extra": "kept"}
    recorder = Recorder(success(method, headers), success(method, headers))
    client = async_client(recorder)
    raw = await raw_call(client, method)
    plain = await call(client, method, *METHODS[method][0], **KWARGS.get(method, {}))
    assert type(raw) is RawResponse
    assert raw.parsed == plain
    assert raw.status_code == METHODS[method][1]
    assert raw.request_id == "req-raw"
    assert isinstance(raw.headers, httpx2.Headers)
    assert raw.headers["x-extra"] == "kept"
    assert raw.idempotent_replayed is False


@pytest.mark.parametrize("method", ["create_session", "update_session", "delete_session", "append_message"])
async def test_a_replayed_write_says_so(method: str) -> None:
    recorder = Recorder(success(method, {"Idempotent-Replayed": "true"}))
    raw = await raw_call(async_client(recorder), method, idempotency_key="k-9")
    assert raw.idempotent_replayed is True


async def test_a_raw_listing_has_every_record_and_the_last_pages_response() -> None:
    recorder = Recorder(
        respond(200, session_page([session(1)], "c1"), {"X-Request-Id": "page-1"}),
        respond(200, session_page([session(2)]), {"X-Request-Id": "page-2"}),
    )
    raw = await call(async_client(recorder).with_raw_response, "list_sessions", "alice")
    assert [s.title for s in raw.parsed] == ["session 1", "session 2"]
    assert raw.request_id == "page-2"


@pytest.mark.parametrize("method", ["iter_sessions", "iter_messages"])
async def test_a_raw_iterator_yields_one_response_per_page(method: str) -> None:
    if method == "iter_sessions":
        pages = [session_page([session(1), session(2)], "c1"), session_page([session(3)])]
        start = "alice"
    else:
        pages = [message_page([message(1), message(2)], has_more=True), message_page([message(3)])]
        start = SESSION_ID
    recorder = Recorder(*(respond(200, page, {"X-Request-Id": f"page-{n}"}) for n, page in enumerate(pages)))
    raw_pages = await call(async_client(recorder).with_raw_response, method, start, page_size=2)
    assert [type(page) for page in raw_pages] == [RawResponse, RawResponse]
    assert [page.request_id for page in raw_pages] == ["page-0", "page-1"]
    assert [len(page.parsed) for page in raw_pages] == [2, 1]
    assert [page.status_code for page in raw_pages] == [200, 200]


async def test_a_raw_iterator_is_lazy_too() -> None:
    recorder = Recorder(success("iter_sessions"))
    pages = async_client(recorder).with_raw_response.iter_sessions("alice")
    assert recorder.requests == []
    if isinstance(pages, Iterator):
        next(pages)
    else:
        assert isinstance(pages, AsyncIterator)
        await anext(pages)
    assert len(recorder.requests) == 1


async def test_a_raw_call_raises_as_the_plain_call_does() -> None:
    recorder = Recorder(respond(404, problem(404, "no such session")))
    with pytest.raises(ClannNotFoundError, match="no such session"):
        await raw_call(async_client(recorder), "get_session")


async def test_the_raw_view_of_a_with_options_copy_uses_the_copys_settings() -> None:
    recorder = Recorder(success("get_session"))
    raw = await raw_call(async_client(recorder).with_options(headers={"X-Copy": "1"}), "get_session")
    assert raw.parsed.id == SESSION_ID
    assert recorder.requests[0].headers["X-Copy"] == "1"


def test_the_raw_views_are_their_own_public_types() -> None:
    assert type(ChatClient(BASE, token=TOKEN).with_raw_response) is RawChatClient
    assert type(AsyncChatClient(BASE, token=TOKEN).with_raw_response) is AsyncRawChatClient


def test_a_raw_response_is_frozen() -> None:
    raw = RawResponse(1, 200, httpx2.Headers(), "r")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        raw.status_code = 500  # type: ignore[misc]
    assert "headers" not in repr(raw)


# Concurrency: each call sees its own response, never another task's or thread's.


def echo(request: httpx2.Request) -> httpx2.Response:
    """The session the path names, with that name as its request ID."""
    ulid = request.url.path.rsplit("/", 1)[1]
    body = {**SESSION, "id": f"chat_session:{ulid}"}
    return httpx2.Response(200, json=body, headers={"X-Request-Id": ulid})


def test_concurrent_raw_calls_in_tasks_each_get_their_own_response() -> None:
    async def answer(request: httpx2.Request) -> httpx2.Response:
        await asyncio.sleep(random.random() / 100)
        return echo(request)

    client = AsyncChatClient(BASE, token=TOKEN, http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(answer)))
    ulids = [session(n)["id"].split(":")[1] for n in range(30)]

    async def many() -> list[RawResponse[Any]]:
        return await asyncio.gather(*(client.with_raw_response.get_session(u) for u in ulids))

    for ulid, raw in zip(ulids, asyncio.run(many()), strict=True):
        assert raw.request_id == ulid
        assert raw.parsed.id == f"chat_session:{ulid}"


def test_concurrent_raw_calls_in_threads_each_get_their_own_response() -> None:
    client = ChatClient(BASE, token=TOKEN, http_client=httpx2.Client(transport=httpx2.MockTransport(echo)))
    mismatches: list[str] = []

    def work(n: int) -> None:
        ulid = session(n)["id"].split(":")[1]
        for _ in range(20):
            raw = client.with_raw_response.get_session(ulid)
            if raw.request_id != ulid or raw.parsed.id != f"chat_session:{ulid}":
                mismatches.append(json.dumps([ulid, raw.request_id]))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert mismatches == []
