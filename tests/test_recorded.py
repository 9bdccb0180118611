"""Every ChatClient path, recorded from the dev server (`make record`) and replayed offline.

Each test runs twice, through ChatClient and AsyncChatClient, into its own
cassette. Bodies are fixed strings (requests are matched on them); IDs always
come from responses. Each test scopes its sessions to a tree of its own, so the
tests do not see each other's sessions on the shared recording server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from vcr.cassette import Cassette

from pyclann import (
    AsyncChatClient,
    ChatClient,
    ClannAuthError,
    ClannNotFoundError,
    ClannPermissionError,
    ClannUnprocessableError,
    RecordId,
    Role,
)
from tests.helpers import call
from tests.recording import ALICE_TOKEN, BASE_URL, BOB_TOKEN

pytestmark = pytest.mark.vcr


class Chat:
    """One client of either kind, with awaitable methods."""

    def __init__(self, kind: str, token: str | None) -> None:
        cls = ChatClient if kind == "sync" else AsyncChatClient
        self.client: ChatClient | AsyncChatClient = cls(BASE_URL, token=token or "", max_retries=0)
        self.kind = kind

    def __getattr__(self, method: str) -> Any:
        return lambda *args, **kwargs: call(self.client, method, *args, **kwargs)

    async def close(self) -> None:
        if isinstance(self.client, AsyncChatClient):
            await self.client.aclose()
        else:
            self.client.close()


@pytest.fixture(params=["sync", "async"])
async def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def alice(kind: str) -> AsyncIterator[Chat]:
    chat = Chat(kind, ALICE_TOKEN)
    yield chat
    await chat.close()


@pytest.fixture
async def bob(kind: str) -> AsyncIterator[Chat]:
    chat = Chat(kind, BOB_TOKEN)
    yield chat
    await chat.close()


async def test_a_whole_conversation(alice: Chat) -> None:
    tree = f"conversation-{alice.kind}"
    session = await alice.create_session("Trip to Galway", "alice", tree=tree)
    assert (session.title, session.created_by, session.tree) == ("Trip to Galway", "alice", tree)
    assert session.created_at.tzinfo is not None
    asked = await alice.append_message(session.id, Role.USER, "Where should we stay?")
    answered = await alice.append_message(session.id, Role.ASSISTANT, "Near the Latin Quarter.")
    assert (asked.session, asked.role, answered.role) == (session.id, Role.USER, Role.ASSISTANT)
    messages = await alice.list_messages(session.id)
    assert messages == [asked, answered]
    listed = await alice.list_sessions("alice", tree=tree)
    assert [s.id for s in listed] == [session.id]
    assert listed[0].updated_at == answered.created_at
    await alice.delete_session(session.id)
    assert await alice.list_sessions("alice", tree=tree) == []
    with pytest.raises(ClannNotFoundError):
        await alice.list_messages(session.id)


async def test_sessions_most_recently_updated_first_and_messages_oldest_first(alice: Chat) -> None:
    tree = f"ordering-{alice.kind}"
    first = await alice.create_session("first", "alice", tree=tree)
    second = await alice.create_session("second", "alice", tree=tree)
    assert [s.id for s in await alice.list_sessions("alice", tree=tree)] == [second.id, first.id]
    for text in ("one", "two", "three"):
        await alice.append_message(first.id, Role.USER, text)
    assert [s.id for s in await alice.list_sessions("alice", tree=tree)] == [first.id, second.id]
    messages = await alice.list_messages(first.id)
    assert [m.content for m in messages] == ["one", "two", "three"]
    assert [m.created_at for m in messages] == sorted(m.created_at for m in messages)


async def test_tree_scopes_the_listing(alice: Chat) -> None:
    oak = await alice.create_session("oak", "alice", tree=f"oak-{alice.kind}")
    elm = await alice.create_session("elm", "alice", tree=f"elm-{alice.kind}")
    loose = await alice.create_session("no tree", "alice")
    assert [s.id for s in await alice.list_sessions("alice", tree=f"oak-{alice.kind}")] == [oak.id]
    every = [s.id for s in await alice.list_sessions("alice", tree=None)]
    assert {oak.id, elm.id, loose.id} <= set(every)
    assert loose.tree is None
    for session in (oak, elm, loose):
        await alice.delete_session(session.id)


async def test_deleting_twice_is_not_found(alice: Chat) -> None:
    session = await alice.create_session("short-lived", "alice")
    await alice.delete_session(session.id)
    with pytest.raises(ClannNotFoundError) as caught:
        await alice.delete_session(session.id)
    ulid = RecordId.parse(session.id).ulid
    assert caught.value.detail == f"chat session {ulid} does not exist"
    assert caught.value.request_id
    with pytest.raises(ClannNotFoundError):
        await alice.list_messages(session.id)


@pytest.mark.parametrize(
    ("token", "detail"), [(None, "a bearer token is required"), ("wrong-token", "not valid")], ids=["missing", "wrong"]
)
async def test_a_missing_or_wrong_token_is_an_auth_error(kind: str, token: str | None, detail: str) -> None:
    chat = Chat(kind, token)
    with pytest.raises(ClannAuthError) as caught:
        await chat.list_sessions("alice")
    await chat.close()
    assert detail in caught.value.detail
    assert caught.value.status_code == 401


async def test_another_users_session_is_not_found_and_acting_for_them_is_forbidden(alice: Chat, bob: Chat) -> None:
    session = await alice.create_session("alice's", "alice")
    with pytest.raises(ClannNotFoundError):
        await bob.list_messages(session.id)
    with pytest.raises(ClannNotFoundError):
        await bob.append_message(session.id, Role.USER, "hi alice")
    with pytest.raises(ClannNotFoundError):
        await bob.delete_session(session.id)
    with pytest.raises(ClannPermissionError, match="may not act for user 'alice'"):
        await bob.list_sessions("alice")
    with pytest.raises(ClannPermissionError):
        await bob.create_session("impostor", "alice")
    assert await alice.list_messages(session.id) == []
    await alice.delete_session(session.id)


async def test_invalid_fields_are_unprocessable_with_the_servers_detail(alice: Chat) -> None:
    session = await alice.create_session("validation", "alice")
    with pytest.raises(ClannUnprocessableError) as empty:
        await alice.create_session("", "alice")
    assert {e["field"] for e in empty.value.errors} == {"title"}
    with pytest.raises(ClannUnprocessableError) as role:
        await alice.append_message(session.id, "tool", "calling a tool")
    assert role.value.errors == [{"field": "role", "message": "must be one of user, assistant, system, got 'tool'"}]
    with pytest.raises(ClannUnprocessableError) as long:
        await alice.append_message(session.id, Role.USER, "x" * 131_073)
    assert long.value.errors == [{"field": "content", "message": "must be at most 131072 characters"}]
    assert await alice.list_messages(session.id) == []
    await alice.delete_session(session.id)


CONTENTS = [
    "héllo wörld ✓ 中文 日本語",
    "emoji 👩‍👩‍👧‍👦 🚀 🇮🇪",
    "مرحبا بالعالم — שלום עולם",
    "line one\nline two\r\n\ttabbed",
    "   leading and trailing spaces   ",
    "quotes \" ' \\ and nul-free control \u0007",
    "a" * 100_000,
]


async def test_content_round_trips_exactly(alice: Chat) -> None:
    session = await alice.create_session("round trip", "alice")
    appended = [await alice.append_message(session.id, Role.USER, text) for text in CONTENTS]
    assert [m.content for m in appended] == CONTENTS
    assert [m.content for m in await alice.list_messages(session.id)] == CONTENTS
    await alice.delete_session(session.id)


async def test_full_id_and_bare_ulid_hit_the_same_request(alice: Chat, vcr: Cassette) -> None:
    session = await alice.create_session("id forms", "alice")
    ulid = RecordId.parse(session.id).ulid
    await alice.append_message(session.id, Role.USER, "hi")
    by_id = await alice.list_messages(session.id)
    by_ulid = await alice.list_messages(ulid.lower())
    assert by_id == by_ulid
    listings = [r for r in vcr.requests if r.method == "GET" and r.path.endswith("/messages")]
    assert len(listings) == 2
    assert listings[0].path == listings[1].path == f"/api/chat/sessions/{ulid}/messages"
    await alice.delete_session(session)
