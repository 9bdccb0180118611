"""Every ChatClient path, recorded from the dev server (`make record`) and replayed offline.

Each test runs twice, through ChatClient and AsyncChatClient, into its own
cassette. Bodies are fixed strings (requests are matched on them); IDs always
come from responses. Each test scopes its sessions to a tree of its own, so the
tests do not see each other's sessions on the shared recording server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest

from pyclann import (
    AsyncChatClient,
    ChatClient,
    ChatMessage,
    ChatSession,
    ClannAuthError,
    ClannBadRequestError,
    ClannNotFoundError,
    ClannPermissionError,
    ClannUnprocessableError,
    RawResponse,
    RecordId,
    Role,
)
from tests.recording import ALICE_TOKEN, BASE_URL, BOB_TOKEN

pytestmark = pytest.mark.vcr


class Chat:
    """One client of either kind, with awaitable methods, so that each test is written once."""

    def __init__(self, kind: str, token: str | None) -> None:
        # What the client sends, as it sends it (a cassette lists every recorded request, not the ones sent).
        self.sent: list[httpx2.Request] = []
        self.client: ChatClient | AsyncChatClient
        self.http: httpx2.Client | httpx2.AsyncClient
        if kind == "sync":
            self.http = httpx2.Client(event_hooks={"request": [self.sent.append]})
            self.client = ChatClient(BASE_URL, token=token or "", max_retries=0, http_client=self.http)
        else:

            async def note(request: httpx2.Request) -> None:
                self.sent.append(request)

            self.http = httpx2.AsyncClient(event_hooks={"request": [note]})
            self.client = AsyncChatClient(BASE_URL, token=token or "", max_retries=0, http_client=self.http)
        self.kind = kind
        self.raw = _Raw(self)

    def sent_to(self, method: str, suffix: str) -> list[str]:
        """The path and query of each request sent with `method` to a path ending in `suffix`."""
        return [str(r.url.raw_path, "ascii") for r in self.sent if r.method == method and r.url.path.endswith(suffix)]

    async def raw_pages(self, method: str, *args: Any, **kwargs: Any) -> list[RawResponse[Any]]:
        found = getattr(self.client.with_raw_response, method)(*args, **kwargs)
        if isinstance(self.client, AsyncChatClient):
            return [page async for page in found]
        return list(found)

    def __getattr__(self, method: str) -> Any:
        async def call(*args: Any, **kwargs: Any) -> Any:
            result = getattr(self.client, method)(*args, **kwargs)
            return await result if isinstance(self.client, AsyncChatClient) else result

        return call

    async def each(self, method: str, *args: Any, **kwargs: Any) -> list[Any]:
        """Everything an iter_* method yields."""
        found = getattr(self.client, method)(*args, **kwargs)
        if isinstance(self.client, AsyncChatClient):
            return [item async for item in found]
        return list(found)

    async def take(self, method: str, n: int, *args: Any, **kwargs: Any) -> list[Any]:
        """The first `n` items an iter_* method yields, and no more advanced."""
        found = getattr(self.client, method)(*args, **kwargs)
        taken = []
        for _ in range(n):
            taken.append(await anext(found) if isinstance(self.client, AsyncChatClient) else next(found))
        return taken

    async def close(self) -> None:
        # The http clients are the test's own, so they are closed here, not by the pyclann clients.
        if isinstance(self.http, httpx2.AsyncClient):
            await self.http.aclose()
        else:
            self.http.close()


class _Raw:
    def __init__(self, chat: Chat) -> None:
        self.chat = chat

    def __getattr__(self, method: str) -> Any:
        async def call(*args: Any, **kwargs: Any) -> Any:
            result = getattr(self.chat.client.with_raw_response, method)(*args, **kwargs)
            return await result if isinstance(self.chat.client, AsyncChatClient) else result

        return call


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
    assert session.created_at == session.updated_at
    assert await alice.get_session(session.id) == session
    asked = await alice.append_message(session.id, Role.USER, "Where should we stay?")
    answered = await alice.append_message(session, Role.ASSISTANT, "Near the Latin Quarter.")
    assert (asked.session, asked.role, answered.role) == (session.id, Role.USER, Role.ASSISTANT)
    assert await alice.list_messages(session.id) == [asked, answered]
    assert await alice.get_message(session, answered.id) == answered
    renamed = await alice.update_session(session, title="Galway in March")
    assert (renamed.title, renamed.tree, renamed.created_at) == ("Galway in March", tree, session.created_at)
    assert renamed.updated_at > answered.created_at
    listed = await alice.list_sessions("alice", tree=tree)
    assert listed == [renamed]
    await alice.delete_session(session.id)
    assert await alice.list_sessions("alice", tree=tree) == []
    for method, args in [("get_session", (session,)), ("list_messages", (session,)), ("get_message", (session, asked))]:
        with pytest.raises(ClannNotFoundError):
            await getattr(alice, method)(*args)


async def test_sessions_most_recently_updated_first_and_messages_oldest_first(alice: Chat) -> None:
    tree = f"ordering-{alice.kind}"
    first = await alice.create_session("first", "alice", tree=tree)
    second = await alice.create_session("second", "alice", tree=tree)
    third = await alice.create_session("third", "alice", tree=tree)
    assert [s.id for s in await alice.list_sessions("alice", tree=tree)] == [third.id, second.id, first.id]
    for text in ("one", "two", "three"):
        await alice.append_message(first.id, Role.USER, text)
    assert [s.id for s in await alice.list_sessions("alice", tree=tree)] == [first.id, third.id, second.id]
    await alice.update_session(second, title="second, renamed")
    assert [s.id for s in await alice.list_sessions("alice", tree=tree)] == [second.id, first.id, third.id]
    messages = await alice.list_messages(first.id)
    assert [m.content for m in messages] == ["one", "two", "three"]
    assert [m.created_at for m in messages] == sorted(m.created_at for m in messages)


async def test_tree_scopes_the_listing_and_can_be_moved_or_cleared(alice: Chat) -> None:
    oak = await alice.create_session("oak", "alice", tree=f"oak-{alice.kind}")
    elm = await alice.create_session("elm", "alice", tree=f"elm-{alice.kind}")
    loose = await alice.create_session("no tree", "alice")
    assert [s.id for s in await alice.list_sessions("alice", tree=f"oak-{alice.kind}")] == [oak.id]
    assert {oak.id, elm.id, loose.id} <= {s.id for s in await alice.list_sessions("alice")}
    assert loose.tree is None
    moved = await alice.update_session(elm, tree=f"oak-{alice.kind}")
    assert moved.title == "elm"
    assert [s.id for s in await alice.list_sessions("alice", tree=f"oak-{alice.kind}")] == [elm.id, oak.id]
    cleared = await alice.update_session(oak, tree=None)
    assert (cleared.tree, cleared.title) == (None, "oak")
    assert [s.id for s in await alice.list_sessions("alice", tree=f"oak-{alice.kind}")] == [elm.id]
    for session in (oak, elm, loose):
        await alice.delete_session(session.id)


async def test_listings_walk_every_page_and_iterators_fetch_lazily(alice: Chat) -> None:
    tree = f"pages-{alice.kind}"
    sessions = [await alice.create_session(f"s{n}", "alice", tree=tree) for n in range(5)]
    session = sessions[0]
    appended = [await alice.append_message(session, Role.USER, f"m{n}") for n in range(230)]
    assert await alice.list_messages(session) == appended
    listings = alice.sent_to("GET", "/messages")
    assert len(listings) == 3
    assert all("limit=100" in p for p in listings)
    assert f"after={RecordId.parse(appended[99].id).ulid}" in listings[1]
    first_five = await alice.take("iter_messages", 5, session, page_size=5)
    assert first_five == appended[:5]
    assert len(alice.sent_to("GET", "/messages")) == 4, "taking five items sent one request"
    after = await alice.each("iter_messages", session, after=appended[99], page_size=50)
    assert after == appended[100:]
    assert await alice.each("iter_messages", session, after=appended[-1]) == []
    newest_first = await alice.each("iter_sessions", "alice", tree=tree, page_size=2)
    assert [s.id for s in newest_first] == [session.id] + [s.id for s in reversed(sessions[1:])]
    assert len(alice.sent_to("GET", "/sessions")) == 3
    pages = await alice.raw_pages("iter_sessions", "alice", tree=tree, page_size=2)
    assert [len(page.parsed) for page in pages] == [2, 2, 1]
    assert all(isinstance(page, RawResponse) and page.status_code == 200 and page.request_id for page in pages)
    for each in sessions:
        await alice.delete_session(each)


async def test_after_must_be_a_message_of_the_session(alice: Chat) -> None:
    one = await alice.create_session("one", "alice")
    other = await alice.create_session("other", "alice")
    elsewhere = await alice.append_message(other, Role.USER, "elsewhere")
    with pytest.raises(ClannBadRequestError, match="after"):
        await alice.each("iter_messages", one, after=elsewhere)
    for session in (one, other):
        await alice.delete_session(session)


async def test_a_repeated_idempotency_key_replays_instead_of_writing_again(alice: Chat) -> None:
    session = await alice.create_session("replays", "alice", idempotency_key=f"create-{alice.kind}")
    again = await alice.raw.create_session("replays", "alice", idempotency_key=f"create-{alice.kind}")
    assert (again.parsed, again.status_code, again.idempotent_replayed) == (session, 201, True)
    key = f"append-{alice.kind}"
    first = await alice.raw.append_message(session, Role.USER, "once", idempotency_key=key)
    second = await alice.raw.append_message(session, Role.USER, "once", idempotency_key=key)
    assert second.parsed == first.parsed
    assert (first.idempotent_replayed, second.idempotent_replayed) == (False, True)
    assert second.request_id != first.request_id
    assert [m.content for m in await alice.list_messages(session)] == ["once"]
    with pytest.raises(ClannUnprocessableError) as reused:
        await alice.append_message(session, Role.USER, "another body", idempotency_key=key)
    assert reused.value.problem_type == "tag:clann.dev,2026:problem/idempotency-key-reused"
    assert reused.value.idempotency_key == key
    assert reused.value.may_have_landed is False
    await alice.delete_session(session, idempotency_key=f"delete-{alice.kind}")
    replayed = await alice.raw.delete_session(session, idempotency_key=f"delete-{alice.kind}")
    assert (replayed.status_code, replayed.idempotent_replayed) == (204, True)
    with pytest.raises(ClannNotFoundError) as gone:
        await alice.append_message(session, Role.USER, "once", idempotency_key=key)
    assert gone.value.status_code == 410, "the replay's content was purged with the session"


async def test_deleting_twice_is_not_found(alice: Chat) -> None:
    session = await alice.create_session("short-lived", "alice")
    await alice.delete_session(session.id)
    with pytest.raises(ClannNotFoundError) as caught:
        await alice.delete_session(session.id)
    ulid = RecordId.parse(session.id).ulid
    assert caught.value.detail == f"chat session {ulid} does not exist"
    assert caught.value.request_id
    assert caught.value.problem_type == "tag:clann.dev,2026:problem/not-found"
    assert caught.value.may_have_landed is False


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
    message = await alice.append_message(session, Role.USER, "private")
    for method, args in [
        ("get_session", (session,)),
        ("list_messages", (session,)),
        ("get_message", (session, message)),
        ("append_message", (session, Role.USER, "hi alice")),
        ("update_session", (session,)),
        ("delete_session", (session,)),
    ]:
        kwargs = {"title": "mine now"} if method == "update_session" else {}
        with pytest.raises(ClannNotFoundError):
            await getattr(bob, method)(*args, **kwargs)
    with pytest.raises(ClannPermissionError, match="may not act for user 'alice'"):
        await bob.list_sessions("alice")
    with pytest.raises(ClannPermissionError):
        await bob.create_session("impostor", "alice")
    assert await alice.list_messages(session.id) == [message]
    assert (await alice.get_session(session)).title == "alice's"
    await alice.delete_session(session.id)


async def test_invalid_fields_are_unprocessable_naming_each(alice: Chat) -> None:
    session = await alice.create_session("validation", "alice")
    with pytest.raises(ClannUnprocessableError) as empty:
        await alice.create_session("", "alice")
    assert [e["field"] for e in empty.value.errors] == ["title"]
    assert "title: " in str(empty.value)
    with pytest.raises(ClannUnprocessableError) as role:
        await alice.append_message(session.id, "tool", "calling a tool")
    assert role.value.errors == [{"field": "role", "message": "must be one of user, assistant, system, got 'tool'"}]
    with pytest.raises(ClannUnprocessableError) as long:
        await alice.append_message(session.id, Role.USER, "x" * 131_073)
    assert long.value.errors == [{"field": "content", "message": "must be at most 131072 characters"}]
    for title, tree in [("\x1c", None), ("\ufeff", None), ("fine", "travel\n")]:
        with pytest.raises(ClannUnprocessableError) as pattern:
            await alice.create_session(title, "alice", tree=tree)
        assert [e["field"] for e in pattern.value.errors] == ["tree" if tree else "title"]
    with pytest.raises(ClannUnprocessableError):
        await alice.update_session(session, title=" \t ")
    assert await alice.list_messages(session.id) == []
    assert (await alice.get_session(session)).title == "validation"
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


async def test_every_id_form_hits_the_same_request(alice: Chat) -> None:
    session = await alice.create_session("id forms", "alice")
    ulid = RecordId.parse(session.id).ulid
    message: ChatMessage = await alice.append_message(session.id, Role.USER, "hi")
    forms: list[str | ChatSession] = [session.id, ulid.lower(), session, f"chat_session:⟨{ulid}⟩"]
    found = [await alice.get_session(form) for form in forms]
    assert found == [found[0]] * len(forms)
    assert found[0].id == session.id
    by_message = [await alice.get_message(session, form) for form in (message.id, message, message.id.lower())]
    assert by_message == [message] * 3
    assert alice.sent_to("GET", ulid) == [f"/api/chat/sessions/{ulid}"] * len(forms)
    await alice.delete_session(session)
