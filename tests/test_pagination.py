"""Walking a long session against a live dev server: every page bounded, every message once, fetched lazily."""

from __future__ import annotations

from collections.abc import Generator, Iterator

import httpx2
import pytest

from pyclann import ChatClient, ChatMessage, ChatSession
from pyclann.testing import DevServer, dev_server

MESSAGES = 2_500
PAGE_BYTES = 1024 * 1024


class Sent:
    """Each GET of a listing the client sent, with the size of its answer."""

    def __init__(self) -> None:
        self.sizes: list[int] = []

    def __call__(self, response: httpx2.Response) -> None:
        if response.request.method == "GET" and response.request.url.path.endswith("/messages"):
            self.sizes.append(int(response.headers["content-length"]))


@pytest.fixture(scope="module")
def long_session() -> Iterator[tuple[DevServer, ChatSession, list[ChatMessage]]]:
    with dev_server() as server, server.client() as chat:
        session = chat.create_session("long", "alice")
        written = [chat.append_message(session, "user", f"message {n}") for n in range(MESSAGES)]
        yield server, session, written


@pytest.fixture
def watched(long_session: tuple[DevServer, ChatSession, list[ChatMessage]]) -> Iterator[tuple[ChatClient, Sent]]:
    """A client whose every listing response is noted; its connections closed after the test."""
    server, _, _ = long_session
    sent = Sent()
    with httpx2.Client(event_hooks={"response": [sent]}) as http:
        yield ChatClient(server.url, token=server.tokens["alice"], http_client=http), sent


def test_list_messages_returns_all_in_order_over_bounded_pages(
    long_session: tuple[DevServer, ChatSession, list[ChatMessage]], watched: tuple[ChatClient, Sent]
) -> None:
    _, session, written = long_session
    chat, sent = watched
    assert chat.list_messages(session) == written
    assert len(sent.sizes) == MESSAGES // 100
    assert max(sent.sizes) <= PAGE_BYTES


def test_iter_messages_after_the_1000th_yields_exactly_the_rest(
    long_session: tuple[DevServer, ChatSession, list[ChatMessage]], watched: tuple[ChatClient, Sent]
) -> None:
    _, session, written = long_session
    chat, _ = watched
    assert list(chat.iter_messages(session, after=written[999].id)) == written[1000:]
    assert list(chat.iter_messages(session, after=written[-1])) == []


def test_taking_five_messages_sends_one_request(
    long_session: tuple[DevServer, ChatSession, list[ChatMessage]], watched: tuple[ChatClient, Sent]
) -> None:
    _, session, written = long_session
    chat, sent = watched
    messages = chat.iter_messages(session)
    assert [next(messages) for _ in range(5)] == written[:5]
    assert len(sent.sizes) == 1
    assert isinstance(messages, Generator)  # typed as an Iterator, which has no close()
    messages.close()
    assert len(sent.sizes) == 1
