"""Long polling (`wait` on the messages listing), through real HTTP against a running dev server.

A held request is answered when a message is appended to its session, when
its `wait` runs out, when its session is deleted, and when the server stops;
a request whose page already has a message is answered without being held.
No test asserts how long anything took: each waits until the server reports
its requests held (`Bell.held`) before it acts, and a client's timeout only
stops a test that would otherwise hang.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx2
import pytest

from pyclann.devserver.problems import TYPE_PREFIX
from pyclann.devserver.server import Limits, RunningServer, running

from .helpers import ALICE, BOB, SESSIONS, TOKENS

# Stops a test that would otherwise hang; never a measure of anything.
PATIENCE = 60.0
# A held listing waits this long, and its client gives up before: a listing answered only
# because its wait ran out (the look at the end sees the new message, or the 404, too)
# fails its test instead of passing late.
WAIT = 30
CLIENT_PATIENCE = 20.0
# A stop that did not answer the held requests would cancel them after this, with a 503.
GRACE = 20


@pytest.fixture
def server(db: Path) -> Iterator[RunningServer]:
    with running(db, TOKENS, limits=Limits(graceful_shutdown=GRACE)) as started:
        yield started


@pytest.fixture
def client(server: RunningServer) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=server.url, headers=ALICE, timeout=PATIENCE) as made:
        yield made


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=8) as made:
        yield made


def new_session(client: httpx2.Client) -> str:
    response = client.post(SESSIONS, json={"title": "T", "created_by": "alice"})
    assert response.status_code == 201, response.text
    return str(response.json()["id"]).partition(":")[2]


def append(client: httpx2.Client, session: str, content: str = "x") -> dict[str, Any]:
    response = client.post(f"{SESSIONS}/{session}/messages", json={"role": "user", "content": content})
    assert response.status_code == 201, response.text
    return dict(response.json())


def listing(server: RunningServer, session: str, **params: Any) -> httpx2.Response:
    """One listing on a connection of its own, as each follower has."""
    with httpx2.Client(base_url=server.url, headers=ALICE, timeout=CLIENT_PATIENCE) as own:
        return own.get(f"{SESSIONS}/{session}/messages", params=params)


def until(condition: Callable[[], bool]) -> None:
    """Return once `condition()` holds; fail the test if it never does."""
    deadline = time.monotonic() + PATIENCE
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.005)


def held(server: RunningServer, count: int) -> None:
    until(lambda: server.app.bell.held == count)


def test_a_held_listing_is_answered_with_the_message_appended(
    server: RunningServer, client: httpx2.Client, pool: ThreadPoolExecutor
) -> None:
    session = new_session(client)
    first = append(client, session, "first")
    waiting = pool.submit(listing, server, session, after=first["id"], wait=WAIT)
    held(server, 1)
    second = append(client, session, "second")
    response = waiting.result(PATIENCE)
    assert response.status_code == 200
    assert response.json() == {"data": [second], "has_more": False, "first_id": second["id"], "last_id": second["id"]}


def test_without_after_a_held_listing_of_an_empty_session_gets_its_first_message(
    server: RunningServer, client: httpx2.Client, pool: ThreadPoolExecutor
) -> None:
    session = new_session(client)
    waiting = pool.submit(listing, server, session, wait=WAIT)
    held(server, 1)
    message = append(client, session)
    assert waiting.result(PATIENCE).json()["data"] == [message]


def test_a_listing_that_has_messages_is_answered_without_being_held(
    server: RunningServer, client: httpx2.Client
) -> None:
    session = new_session(client)
    first, second = append(client, session), append(client, session)
    # Held, it would be answered only when its 30 s ran out, past the client's own timeout.
    with httpx2.Client(base_url=server.url, headers=ALICE, timeout=10) as own:
        response = own.get(f"{SESSIONS}/{session}/messages", params={"after": first["id"], "wait": 30})
    assert response.json()["data"] == [second]


def test_when_wait_runs_out_the_answer_is_an_empty_page(server: RunningServer, client: httpx2.Client) -> None:
    session = new_session(client)
    last = append(client, session)
    response = listing(server, session, after=last["id"], wait=1)
    assert response.status_code == 200
    assert response.json() == {"data": [], "has_more": False, "first_id": None, "last_id": None}


def test_an_append_to_another_session_leaves_a_listing_held(
    server: RunningServer, client: httpx2.Client, pool: ThreadPoolExecutor
) -> None:
    watched, other = new_session(client), new_session(client)
    waiting = pool.submit(listing, server, watched, wait=WAIT)
    held(server, 1)
    append(client, other)
    append(client, other)
    assert not waiting.done()
    message = append(client, watched)
    assert waiting.result(PATIENCE).json()["data"] == [message]


def test_deleting_the_session_answers_its_held_listings_404(
    server: RunningServer, client: httpx2.Client, pool: ThreadPoolExecutor
) -> None:
    session = new_session(client)
    waiting = [pool.submit(listing, server, session, wait=WAIT) for _ in range(3)]
    held(server, 3)
    assert client.delete(f"{SESSIONS}/{session}").status_code == 204
    for each in waiting:
        response = each.result(PATIENCE)
        assert response.status_code == 404
        assert response.json()["type"] == f"{TYPE_PREFIX}not-found"


def test_a_reset_answers_held_listings_404(
    server: RunningServer, client: httpx2.Client, pool: ThreadPoolExecutor
) -> None:
    session = new_session(client)
    waiting = pool.submit(listing, server, session, wait=WAIT)
    held(server, 1)
    server.app.reset()
    assert waiting.result(PATIENCE).status_code == 404


def test_stopping_the_server_answers_every_held_listing_at_once_to_ask_again_shortly(db: Path) -> None:
    # Without the answer at the start of the stop, uvicorn's graceful shutdown would wait GRACE
    # seconds for them, and then cancel them: each would get a 503 without Retry-After.
    with ThreadPoolExecutor(max_workers=10) as pool:
        with running(db, TOKENS, limits=Limits(graceful_shutdown=GRACE)) as server:
            with httpx2.Client(base_url=server.url, headers=ALICE) as client:
                session = new_session(client)
                last = append(client, session)
            waiting = [pool.submit(listing, server, session, after=last["id"], wait=WAIT) for _ in range(10)]
            held(server, 10)
        for each in waiting:
            response = each.result(PATIENCE)
            assert response.status_code == 503
            assert response.headers["retry-after"] == "1"
            assert response.headers["connection"] == "close"


def test_one_append_wakes_all_of_1000_held_listings(server: RunningServer, client: httpx2.Client) -> None:
    # Each listing on a connection of its own, in plain HTTP/1.1: a pool of 1,000 connections in
    # one httpx2 client would cost the test more than the server.
    session = new_session(client)
    count = 1000
    target = f"{SESSIONS}/{session}/messages?wait={WAIT}"
    head = f"GET {target} HTTP/1.1\r\nHost: x\r\nAuthorization: {ALICE['Authorization']}\r\n\r\n".encode()

    async def follow() -> dict[str, Any]:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        try:
            writer.write(head)
            answer = await reader.readuntil(b"\r\n\r\n")
            fields = dict(line.lower().partition(b":")[::2] for line in answer.split(b"\r\n")[1:] if line)
            length = int(fields[b"content-length"])
            assert answer.startswith(b"HTTP/1.1 200 ")
            return dict(json.loads(await reader.readexactly(length)))
        finally:
            writer.close()

    async def follow_all() -> list[dict[str, Any]]:
        return await asyncio.wait_for(asyncio.gather(*(follow() for _ in range(count))), CLIENT_PATIENCE + WAIT)

    results: Future[list[dict[str, Any]]] = Future()
    thread = threading.Thread(target=lambda: results.set_result(asyncio.run(follow_all())))
    thread.start()
    held(server, count)
    message = append(client, session)
    pages = results.result(PATIENCE)
    thread.join()
    assert [page["data"] for page in pages] == [[message]] * count


@pytest.mark.parametrize("wait", ["-1", "31", "1.5", "2e1", "soon", "", "30s"])
def test_a_wait_that_is_not_an_integer_from_0_to_30_is_a_400_naming_wait(
    server: RunningServer, client: httpx2.Client, wait: str
) -> None:
    session = new_session(client)
    response = client.get(f"{SESSIONS}/{session}/messages", params={"wait": wait})
    assert response.status_code == 400
    problem = response.json()
    assert problem["type"] == f"{TYPE_PREFIX}invalid-parameter"
    assert problem["detail"].startswith("wait: ")


def test_wait_0_answers_an_empty_page_at_once(client: httpx2.Client) -> None:
    session = new_session(client)
    response = client.get(f"{SESSIONS}/{session}/messages", params={"wait": 0})
    assert response.json()["data"] == []


def test_another_users_session_is_404_before_any_wait(server: RunningServer, client: httpx2.Client) -> None:
    session = new_session(client)
    with httpx2.Client(base_url=server.url, headers=BOB, timeout=10) as bob:
        response = bob.get(f"{SESSIONS}/{session}/messages", params={"wait": 30})
    assert response.status_code == 404


def test_a_client_that_goes_away_is_no_longer_held(server: RunningServer, client: httpx2.Client) -> None:
    session = new_session(client)
    request = f"GET {SESSIONS}/{session}/messages?wait=30 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer token-a\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=PATIENCE) as sock:
        sock.sendall(request.encode())
        held(server, 1)
    held(server, 0)
