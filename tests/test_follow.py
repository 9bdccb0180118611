"""follow_messages: every new message once, in order, through lost connections and restarts, until stopped.

Against the dev server (the plugin's fixtures, and `pyclann.testing.dev_server` on a file
for a restart), and against servers of tests/servers.py where the dev server cannot show it:
one that never answers (a cancel must close the connection), one that answers at once
(an idle follow's pace), one that answers later than the client's timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
import time
from pathlib import Path

import pytest

from pyclann import (
    AsyncChatClient,
    ChatClient,
    ChatMessage,
    ClannAuthError,
    ClannBadRequestError,
    ClannInvalidArgumentError,
    ClannInvalidIdError,
    ClannNotFoundError,
    ClannPermissionError,
    ClannUsageError,
)
from pyclann.testing import DevServer, dev_server, instant_retries
from tests.helpers import (
    MESSAGE,
    SESSION_ID,
    Recorder,
    async_client,
    message,
    message_page,
    problem,
    respond,
    sync_client,
)
from tests.servers import Exchange, Server, response

slow = pytest.mark.slow


def appending(server: DevServer, session: str, contents: list[str], start: threading.Event) -> threading.Thread:
    """A writer of its own, appending `contents` to `session` once `start` is set."""

    def write() -> None:
        start.wait(10)
        with server.client("alice") as writer:
            for content in contents:
                writer.append_message(session, "assistant", content)

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    return thread


# Before any request ---------------------------------------------------------------------------------


@pytest.mark.parametrize("flavour", ["sync", "async"])
@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        ({"session_id": "../x"}, ClannInvalidIdError),
        ({"after": "chat_session:01JDXV3C5Z0K8Y8T6W3M2Q9R4N"}, ClannInvalidIdError),  # a session's, not a message's
        ({"after": "not an id"}, ClannInvalidIdError),
        ({"wait": 0}, ClannInvalidArgumentError),
        ({"wait": 31}, ClannInvalidArgumentError),
        ({"page_size": 0}, ClannInvalidArgumentError),
        ({"wait": 2.5}, TypeError),
    ],
)
def test_bad_arguments_are_refused_when_called_before_any_request(
    flavour: str, arguments: dict[str, object], error: type[Exception]
) -> None:
    recorder = Recorder(respond(200, message_page([])))
    client = sync_client(recorder) if flavour == "sync" else async_client(recorder)
    arguments = dict(arguments)  # the parameters are shared by both flavours
    session = arguments.pop("session_id", SESSION_ID)
    with pytest.raises(error) as caught:
        client.follow_messages(session, **arguments)  # type: ignore[arg-type]  # not iterated: refused at the call
    assert recorder.requests == []
    if isinstance(caught.value, ClannInvalidIdError) and "after" in arguments:
        assert "after" in str(caught.value)


# What it sends, and what ends it -------------------------------------------------------------------------


def test_each_poll_asks_for_the_messages_after_the_last_one_yielded_and_holds_for_the_wait() -> None:
    first, second = message(1), message(2)
    recorder = Recorder(respond(200, message_page([first])), respond(200, message_page([second])))
    with sync_client(recorder) as chat:
        follow = chat.follow_messages(SESSION_ID, wait=7, page_size=5)
        assert [next(follow).id, next(follow).id] == [first["id"], second["id"]]
        follow.close()
    queries = [dict(request.url.params) for request in recorder.requests]
    assert queries == [
        {"limit": "5", "wait": "7"},
        {"limit": "5", "wait": "7", "after": first["id"].split(":")[1]},
    ]


@pytest.mark.parametrize(
    ("status", "error"), [(401, ClannAuthError), (403, ClannPermissionError), (404, ClannNotFoundError)]
)
async def test_a_failure_that_cannot_heal_ends_the_follow_with_its_error(status: int, error: type[Exception]) -> None:
    recorder = Recorder(respond(200, message_page([MESSAGE])), respond(status, problem(status, "no")))
    async with async_client(recorder) as chat:
        follow = chat.follow_messages(SESSION_ID)
        assert (await anext(follow)).id == MESSAGE["id"]
        with pytest.raises(error):
            await anext(follow)
    assert len(recorder.requests) == 2, "not retried"


def test_failures_that_may_heal_are_retried_past_max_retries_and_resume_after_the_last_message() -> None:
    first, second = message(1), message(2)
    down = respond(503, problem(503, "restarting"))
    recorder = Recorder(respond(200, message_page([first])), *[down] * 5, respond(200, message_page([second])))
    with instant_retries() as waits, sync_client(recorder, max_retries=1) as chat:
        follow = chat.follow_messages(SESSION_ID)
        assert [next(follow).id, next(follow).id] == [first["id"], second["id"]]
        follow.close()
    # Backed off as the retry policy does: retry n waits half to all of min(0.5 * 2 ** (n - 1), 8) seconds.
    ceilings = [min(0.5 * 2**n, 8.0) for n in range(5)]
    assert len(waits) == 5
    assert all(ceiling / 2 <= wait <= ceiling for wait, ceiling in zip(waits, ceilings, strict=True)), waits
    after = first["id"].split(":")[1]
    assert [request.url.params.get("after") for request in recorder.requests[1:]] == [after] * 6


def test_the_raw_view_yields_every_answer_even_an_empty_one_with_its_response() -> None:
    recorder = Recorder(
        respond(200, message_page([MESSAGE]), {"X-Request-Id": "one"}),
        respond(200, message_page([]), {"X-Request-Id": "empty"}),
    )
    with sync_client(recorder) as chat:
        answers = chat.with_raw_response.follow_messages(SESSION_ID, wait=1)
        raw = [next(answers), next(answers)]
        answers.close()
    assert [(r.status_code, r.request_id, [m.id for m in r.parsed]) for r in raw] == [
        (200, "one", [MESSAGE["id"]]),
        (200, "empty", []),
    ]


# Against the dev server ---------------------------------------------------------------------------------


@slow
def test_sync_yields_every_message_once_in_order_old_then_new(clann_server: DevServer) -> None:
    with clann_server.client("alice") as chat:
        session = chat.create_session("Live", "alice")
        old = [chat.append_message(session, "user", f"old {n}").id for n in range(3)]
        start = threading.Event()
        writer = appending(clann_server, session.id, [f"new {n}" for n in range(12)], start)
        got = []
        for each in chat.follow_messages(session, wait=5, page_size=4):
            got.append(each)
            start.set()
            if len(got) == 15:
                break
        writer.join(10)
        assert [m.id for m in got] == [m.id for m in chat.list_messages(session)]
        assert [m.id for m in got[:3]] == old
        assert [m.content for m in got[3:]] == [f"new {n}" for n in range(12)]


@slow
async def test_async_yields_only_what_comes_after_after_once_in_order(
    clann_server: DevServer, clann_async_client: AsyncChatClient
) -> None:
    chat = clann_async_client
    session = await chat.create_session("Live", "alice")
    seen = await chat.append_message(session, "user", "seen already")

    async def write() -> None:
        for n in range(10):
            await chat.append_message(session, "assistant", f"new {n}")

    got: list[ChatMessage] = []
    writer = asyncio.create_task(write())
    async for each in chat.follow_messages(session, after=seen, wait=5):
        got.append(each)
        if len(got) == 10:
            break
    await writer
    assert [m.content for m in got] == [f"new {n}" for n in range(10)]
    assert [m.id for m in got] == [m.id for m in (await chat.list_messages(session))[1:]]


@slow
def test_an_after_of_another_session_ends_it_with_bad_request(clann_client: ChatClient) -> None:
    one = clann_client.create_session("One", "alice")
    other = clann_client.create_session("Other", "alice")
    stranger = clann_client.append_message(other, "user", "elsewhere")
    with pytest.raises(ClannBadRequestError):
        next(clann_client.follow_messages(one, after=stranger, wait=1))


@slow
def test_a_session_deleted_while_followed_ends_it_with_not_found(clann_server: DevServer) -> None:
    with clann_server.client("alice") as chat:
        session = chat.create_session("Doomed", "alice")
        first = chat.append_message(session, "user", "hello")
        follow = chat.follow_messages(session, wait=5)
        assert next(follow) == first

        def delete() -> None:
            time.sleep(0.2)  # the follow is waiting in its next poll by then, or will find the session gone
            with clann_server.client("alice") as other:
                other.delete_session(session)

        deleter = threading.Thread(target=delete)
        deleter.start()
        with pytest.raises(ClannNotFoundError):
            next(follow)
        deleter.join()


@slow
def test_an_idle_follow_against_the_dev_server_sends_one_request_per_wait(clann_server: DevServer) -> None:
    with clann_server.client("alice") as chat:
        session = chat.create_session("Quiet", "alice")
        answers = chat.with_raw_response.follow_messages(session, wait=1)
        assert next(answers).parsed.data == ()
        started = time.monotonic()  # the first answer: each later request is sent a wait after the one before
        for _ in range(2):
            assert next(answers).parsed.data == ()
        answers.close()
        assert time.monotonic() - started >= 2 * 0.9


@slow
def test_the_follow_rides_out_a_restart_of_the_dev_server_resuming_after_the_last_message(tmp_path: Path) -> None:
    database = tmp_path / "chat.sqlite3"
    stack = contextlib.ExitStack()
    server = stack.enter_context(dev_server(database=database))
    chat = server.client("alice", timeout=2.0)
    session = chat.create_session("Restarted", "alice")
    before = chat.append_message(session, "user", "before the restart")
    follow = chat.follow_messages(session, wait=2)
    assert next(follow) == before
    port = server.port
    stack.close()  # the server stops; the follow's next poll finds nothing listening, and backs off
    got: list[ChatMessage] = []
    reader = threading.Thread(target=lambda: got.extend(next(follow) for _ in range(2)), daemon=True)
    reader.start()
    time.sleep(0.3)
    with dev_server(database=database, port=port) as again, again.client("alice") as writer:
        after = [writer.append_message(session, "assistant", f"after {n}").id for n in range(2)]
        reader.join(30)
        assert [m.id for m in got] == after
        assert [m.id for m in writer.list_messages(session)] == [before.id, *after]
    follow.close()
    chat.close()


@slow
def test_a_follow_whose_request_is_held_when_the_server_stops_resumes_soon_after_the_restart(tmp_path: Path) -> None:
    # The stopping server answers the held request 503 with Retry-After: 1, not an empty page, which
    # would have the follow wait out a whole `wait` (30 s) before asking again.
    database = tmp_path / "chat.sqlite3"
    stack = contextlib.ExitStack()
    server = stack.enter_context(dev_server(database=database))
    chat = server.client("alice")
    session = chat.create_session("Held", "alice")
    follow = chat.follow_messages(session, wait=30)
    got: list[ChatMessage] = []
    reader = threading.Thread(target=lambda: got.append(next(follow)), daemon=True)
    reader.start()
    port = server.port
    time.sleep(1.0)  # the follow's first request is sent at once, and held: the session is quiet
    stack.close()
    assert not got, "answered by the stop: a 503 is retried, not yielded"
    with dev_server(database=database, port=port) as again, again.client("alice") as writer:
        sent = writer.append_message(session, "assistant", "after the restart")
        reader.join(20)  # well under the 30 s an empty answer would have cost
        assert [m.id for m in got] == [sent.id]
    follow.close()
    chat.close()


# Stopping it ------------------------------------------------------------------------------------------------


class Holding:
    """A server that reads each request and never answers it: how long the client holds on is the test."""

    def __init__(self) -> None:
        self.asked = threading.Event()
        self.hung_up = threading.Event()

    def __call__(self, exchange: Exchange) -> None:
        exchange.read_request()
        self.asked.set()
        # The client's side closing is the only way this ends (or the test's server stopping).
        if exchange.sock.recv(1) == b"":
            self.hung_up.set()


@slow
async def test_cancelling_the_task_stops_it_and_closes_the_connection_it_waited_on() -> None:
    holding = Holding()
    with Server(holding) as server:
        async with AsyncChatClient(server.url, token="t") as chat:

            async def follow() -> None:
                async for _ in chat.follow_messages(SESSION_ID, wait=30):
                    pass

            task = asyncio.create_task(follow())
            assert await asyncio.to_thread(holding.asked.wait, 10)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert await asyncio.to_thread(holding.hung_up.wait, 10)
        assert server.connections == 1


@slow
def test_closing_the_client_from_another_thread_ends_a_sync_follow_at_its_next_request() -> None:
    asked = threading.Event()

    def held_then_empty(exchange: Exchange) -> None:
        exchange.read_request()
        asked.set()
        exchange.wait(0.3)  # as a server holds a poll while no message comes
        exchange.send(response(200, message_page([])))

    with Server(held_then_empty) as server:
        chat = ChatClient(server.url, token="t")
        ended: list[BaseException] = []

        def follow() -> None:
            try:
                for _ in chat.follow_messages(SESSION_ID, wait=1):
                    pass
            except BaseException as error:  # what ended it is the test's to see
                ended.append(error)

        thread = threading.Thread(target=follow, daemon=True)
        thread.start()
        assert asked.wait(10)
        chat.close()
        thread.join(10)
        assert [type(error).__name__ for error in ended] == ["ClannUsageError"]
        assert "ChatClient, or the client it was copied from, is closed" in str(ended[0])
        assert "attempts" not in str(ended[0]), "a close is not a network failure to retry"
        assert server.connections == 1, "no request after the close"


async def test_an_async_follow_whose_client_is_closed_under_its_held_request_ends_saying_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    asked = threading.Event()

    def held(exchange: Exchange) -> None:
        exchange.read_request()
        asked.set()
        exchange.wait(5)  # held: the close comes first
        exchange.send(response(200, message_page([])))

    with Server(held) as server:
        chat = AsyncChatClient(server.url, token="t")

        async def follow() -> None:
            async for _ in chat.follow_messages(SESSION_ID, wait=10):
                pass

        task = asyncio.create_task(follow())
        assert await asyncio.to_thread(asked.wait, 10)
        await chat.aclose()
        with pytest.raises(ClannUsageError, match="AsyncChatClient, or the client it was copied from, is closed"):
            await asyncio.wait_for(task, 10)
    assert not [r for r in caplog.records if ": retry " in r.getMessage()], "a close is not retried"


@slow
@pytest.mark.parametrize("how", ["break", "close"])
async def test_leaving_the_loop_or_closing_it_sends_nothing_more(how: str) -> None:
    requests: list[bytes] = []

    def answer(exchange: Exchange) -> None:
        while request := exchange.read_request():
            requests.append(request)
            n = len(requests)
            body = message_page([message(n)])
            exchange.send(response(200, body).replace(b"Connection: close", b"Connection: keep-alive"))

    with Server(answer) as server:
        async with AsyncChatClient(server.url, token="t") as chat:
            follow = chat.follow_messages(SESSION_ID, wait=1)
            if how == "break":
                async for _ in follow:
                    break
            else:
                await anext(follow)
            await follow.aclose()
            with pytest.raises(StopAsyncIteration):
                await anext(follow)
        assert len(requests) == 1


# Timeouts and pace -----------------------------------------------------------------------------------------


@slow
def test_the_read_timeout_outlasts_the_wait_so_a_held_request_is_not_taken_for_a_dead_one() -> None:
    asked: list[float] = []

    def slow_empty(exchange: Exchange) -> None:
        exchange.read_request()
        asked.append(time.monotonic())
        exchange.wait(1.0)  # the server holds the poll for its wait, longer than the client's timeout
        exchange.send(response(200, message_page([])))

    with Server(slow_empty) as server, ChatClient(server.url, token="t", timeout=0.3, max_retries=0) as chat:
        answers = chat.with_raw_response.follow_messages(SESSION_ID, wait=1)
        assert next(answers).parsed.data == ()
        answers.close()
    assert len(asked) == 1, "answered, not timed out and retried"


@slow
def test_an_idle_follow_sends_at_most_one_request_per_wait_even_when_answered_at_once() -> None:
    # A server that does not hold requests (one without `wait`) answers empty at once.
    answered: list[float] = []

    def empty(exchange: Exchange) -> None:
        exchange.read_request()
        answered.append(time.monotonic())
        exchange.send(response(200, message_page([])))

    with Server(empty) as server, ChatClient(server.url, token="t") as chat:
        answers = chat.with_raw_response.follow_messages(SESSION_ID, wait=1)
        for _ in range(3):
            assert next(answers).parsed.data == ()
        answers.close()
    gaps = [later - earlier for earlier, later in itertools.pairwise(answered)]
    assert len(gaps) == 2
    assert all(gap >= 0.9 for gap in gaps), gaps


@slow
def test_a_long_follow_remembers_a_bounded_number_of_messages() -> None:
    # A bot follows for days: what the follow keeps to refuse a server's repeats must not grow with it.
    import json
    import tracemalloc
    from datetime import UTC, datetime, timedelta

    import httpx2

    start = datetime(2026, 11, 26, tzinfo=UTC)

    def answer(request: httpx2.Request) -> httpx2.Response:
        after = request.url.params.get("after")
        first = 0 if after is None else int(after[-8:]) + 1
        page = [
            {**message(n), "created_at": (start + timedelta(seconds=n)).isoformat().replace("+00:00", "Z")}
            for n in range(first, first + 100)
        ]
        return httpx2.Response(200, content=json.dumps(message_page(page)).encode())

    http = httpx2.Client(transport=httpx2.MockTransport(answer))
    with ChatClient("http://127.0.0.1:9", token="t", http_client=http) as chat:
        follow = chat.follow_messages(SESSION_ID)
        tracemalloc.start()  # from the start: what is kept, then forgotten, is counted both ways
        try:
            for _ in range(12_000):
                next(follow)
            before = tracemalloc.get_traced_memory()[0]
            for _ in range(12_000):
                next(follow)
            grown = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
        follow.close()
    assert grown < 400_000, f"12,000 more messages kept {grown:,} bytes"
