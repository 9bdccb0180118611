"""The requests each method sends, and the arguments refused before any is sent (pyclann._operations)."""

from __future__ import annotations

import json
import uuid
from enum import Enum
from typing import Any

import pytest

import pyclann
from pyclann import (
    AsyncChatClient,
    ChatClient,
    ChatMessage,
    ChatSession,
    ClannInvalidArgumentError,
    ClannInvalidIdError,
    Role,
)
from tests.helpers import (
    MESSAGE,
    MESSAGE_ID,
    MESSAGE_ULID,
    METHODS,
    PATHS,
    SESSION,
    SESSION_ID,
    SESSION_METHODS,
    TOKEN,
    ULID,
    WRITES,
    MakeClient,
    Recorder,
    async_client,
    call,
    echo,
    invoke,
    message_page,
    respond,
    session_page,
    success,
    sync_client,
)

SESSIONS = "/api/chat/sessions"

# method -> (arguments, keyword arguments, HTTP method, path, query, JSON body)
REQUESTS: dict[str, tuple[tuple[Any, ...], dict[str, Any], str, str, dict[str, str], Any]] = {
    "list_sessions": (
        ("alice", "oak"),
        {},
        "GET",
        SESSIONS,
        {"created_by": "alice", "tree": "oak", "limit": "100"},
        None,
    ),
    "iter_sessions": (
        ("alice",),
        {"page_size": 7},
        "GET",
        SESSIONS,
        {"created_by": "alice", "limit": "7"},
        None,
    ),
    "create_session": (
        ("Planning", "alice", "oak"),
        {},
        "POST",
        SESSIONS,
        {},
        {"title": "Planning", "created_by": "alice", "tree": "oak"},
    ),
    "get_session": ((ULID,), {}, "GET", f"{SESSIONS}/{ULID}", {}, None),
    "update_session": (
        (ULID,),
        {"title": "Renamed", "tree": None},
        "PATCH",
        f"{SESSIONS}/{ULID}",
        {},
        {"title": "Renamed", "tree": None},
    ),
    "delete_session": ((ULID,), {}, "DELETE", f"{SESSIONS}/{ULID}", {}, None),
    "list_messages": ((ULID,), {}, "GET", f"{SESSIONS}/{ULID}/messages", {"limit": "100"}, None),
    "iter_messages": (
        (ULID,),
        {"after": MESSAGE_ID, "page_size": 3},
        "GET",
        f"{SESSIONS}/{ULID}/messages",
        {"after": MESSAGE_ULID, "limit": "3"},
        None,
    ),
    "append_message": (
        (ULID, Role.ASSISTANT, " exact  text\n"),
        {},
        "POST",
        f"{SESSIONS}/{ULID}/messages",
        {},
        {"role": "assistant", "content": " exact  text\n"},
    ),
    "get_message": ((ULID, MESSAGE_ULID), {}, "GET", f"{SESSIONS}/{ULID}/messages/{MESSAGE_ULID}", {}, None),
}


@pytest.mark.parametrize("method", REQUESTS)
async def test_each_method_sends_the_request_the_contract_describes(method: str) -> None:
    args, kwargs, verb, path, query, body = REQUESTS[method]
    # Listings answer an empty page: the records of a canned page are not of the tree or after the message asked for.
    empty = {"list_sessions": session_page([]), "iter_sessions": session_page([])}.get(method)
    empty = message_page([]) if method in ("list_messages", "iter_messages") else empty
    recorder = Recorder(echo(method) if empty is None else respond(200, empty))
    await call(async_client(recorder), method, *args, **kwargs)
    [request] = recorder.requests
    assert (request.method, request.url.path, dict(request.url.params)) == (verb, path, query)
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Accept"] == "application/json"
    assert request.headers["Accept-Encoding"] == "gzip, deflate"
    if body is None:
        assert request.content == b""
    else:
        assert request.headers["Content-Type"] == "application/json"
        assert json.loads(request.content) == body
    assert ("Idempotency-Key" in request.headers) is (method in WRITES)


async def test_an_absent_tree_is_left_out_and_update_sends_only_what_is_given() -> None:
    recorder = Recorder(respond(200, session_page([])), echo("create_session"), echo("update_session"))
    client = async_client(recorder)
    await call(client, "list_sessions", "alice")
    await call(client, "create_session", "T", "alice")
    await call(client, "update_session", SESSION_ID, title="Only the title")
    listing, create, update = recorder.requests
    assert "tree" not in listing.url.params
    assert json.loads(create.content) == {"title": "T", "created_by": "alice"}
    assert json.loads(update.content) == {"title": "Only the title"}


async def test_update_with_tree_none_clears_the_tree_and_keeps_the_title() -> None:
    recorder = Recorder(success("update_session"))
    await call(async_client(recorder), "update_session", SESSION_ID, tree=None)
    assert json.loads(recorder.requests[0].content) == {"tree": None}


async def test_update_with_nothing_to_change_sends_nothing() -> None:
    recorder = Recorder(success("update_session"))
    with pytest.raises(ClannInvalidArgumentError, match="title=, tree= or both"):
        await call(async_client(recorder), "update_session", SESSION_ID)
    assert recorder.requests == []


@pytest.mark.parametrize(
    "content",
    [
        "héllo wörld",
        "  leading and trailing  ",
        "line\nbreaks\r\n\ttabs",
        "nul\x00 and \x7f",
        "emoji 😀 and 中文",
        "\u2028",
    ],
)
async def test_content_is_sent_exactly(content: str) -> None:
    recorder = Recorder(echo("append_message"))
    await call(async_client(recorder), "append_message", SESSION_ID, "user", content)
    assert json.loads(recorder.requests[0].content)["content"] == content


async def test_a_role_the_client_does_not_know_is_sent_as_given() -> None:
    recorder = Recorder(echo("append_message"))
    await call(async_client(recorder), "append_message", SESSION_ID, "tool", "x")
    assert json.loads(recorder.requests[0].content)["role"] == "tool"


async def test_every_request_names_pyclann_in_its_user_agent() -> None:
    recorder = Recorder(success("get_session"))
    await call(async_client(recorder), "get_session", SESSION_ID)
    assert recorder.requests[0].headers["User-Agent"].endswith(f"pyclann/{pyclann.__version__}")


# IDs ---------------------------------------------------------------------------------------------

ACCEPTED_SESSION_IDS = {
    "full": SESSION_ID,
    "bare": ULID,
    "bare lower case": ULID.lower(),
    "full lower case": SESSION_ID.lower(),
    "table upper case": f"CHAT_SESSION:{ULID}",
    "angle-escaped": f"chat_session:⟨{ULID}⟩",
    "backtick-escaped": f"chat_session:`{ULID}`",
}


@pytest.mark.parametrize("form", ACCEPTED_SESSION_IDS)
@pytest.mark.parametrize("method", PATHS.values(), ids=PATHS.keys())
async def test_every_accepted_session_id_form_reaches_the_same_path(method: str, form: str) -> None:
    recorder = Recorder(success(method))
    rest = SESSION_METHODS[method]
    kwargs = {"title": "x"} if method == "update_session" else {}
    await call(async_client(recorder), method, ACCEPTED_SESSION_IDS[form], *rest, **kwargs)
    assert recorder.requests[0].url.raw_path.decode().split("?")[0].startswith(f"{SESSIONS}/{ULID}")


@pytest.mark.parametrize("method", SESSION_METHODS)
async def test_a_chat_session_is_accepted_as_session_id(method: str) -> None:
    session = ChatSession.from_dict(SESSION)
    recorder = Recorder(echo(method))
    kwargs = {"title": "x"} if method == "update_session" else {}
    await call(async_client(recorder), method, session, *SESSION_METHODS[method], **kwargs)
    assert recorder.requests[0].url.path.startswith(f"{SESSIONS}/{ULID}")


BAD_SESSION_IDS: dict[str, Any] = {
    "empty": "",
    "blank": "   ",
    "leading space": f" {SESSION_ID}",
    "a message ID": MESSAGE_ID,
    "another table": f"user:{ULID}",
    "short": ULID[:-1],
    "long": ULID + "A",
    "over 128 bits": "8" + ULID[1:],
    "U is not Crockford": ULID[:-1] + "U",
    "a path": f"{ULID}/messages",
    "a parent path": f"../{ULID}",
    "a query": f"{ULID}?x=1",
    "a fragment": f"{ULID}#frag",
    "dots": "..",
    "an extra part": f"{SESSION_ID}:extra",
    "mismatched escapes": f"chat_session:⟨{ULID}`",
    "a final newline": f"{ULID}\n",
    "KELVIN SIGN": ULID[:-1] + "\u212a",
    "LONG S": ULID[:-1] + "\u017f",
    "fullwidth digits": "\uff10\uff11" + ULID[2:],
}


@pytest.mark.parametrize("bad", BAD_SESSION_IDS.values(), ids=BAD_SESSION_IDS.keys())
@pytest.mark.parametrize("method", PATHS.values(), ids=PATHS.keys())
async def test_a_bad_session_id_raises_before_any_request(method: str, bad: Any) -> None:
    recorder = Recorder(echo(method))
    kwargs = {"title": "x"} if method == "update_session" else {}
    with pytest.raises(ClannInvalidIdError) as caught:
        await call(async_client(recorder), method, bad, *SESSION_METHODS[method], **kwargs)
    assert isinstance(caught.value, ValueError)
    if isinstance(bad, str) and bad.strip():
        assert ascii(bad) in str(caught.value)  # ascii(): a look-alike shows as its code point
    assert recorder.requests == []


@pytest.mark.parametrize("bad", [None, 42, b"01JD", ChatMessage.from_dict(MESSAGE)], ids=repr)
@pytest.mark.parametrize("method", PATHS.values(), ids=PATHS.keys())
async def test_a_session_id_of_the_wrong_type_raises_type_error(method: str, bad: Any) -> None:
    recorder = Recorder(echo(method))
    kwargs = {"title": "x"} if method == "update_session" else {}
    with pytest.raises(TypeError, match=f"session_id must be a str or a ChatSession, got {type(bad).__name__}"):
        await call(async_client(recorder), method, bad, *SESSION_METHODS[method], **kwargs)
    assert recorder.requests == []


@pytest.mark.parametrize(
    "message_id",
    [MESSAGE_ID, MESSAGE_ULID, MESSAGE_ULID.lower(), f"chat_message:`{MESSAGE_ULID}`", ChatMessage.from_dict(MESSAGE)],
)
async def test_every_accepted_message_id_form_reaches_the_same_path(message_id: Any) -> None:
    recorder = Recorder(success("get_message"))
    await call(async_client(recorder), "get_message", SESSION_ID, message_id)
    assert recorder.requests[0].url.path == f"{SESSIONS}/{ULID}/messages/{MESSAGE_ULID}"


@pytest.mark.parametrize(
    "after",
    [MESSAGE_ID, MESSAGE_ULID, MESSAGE_ULID.lower(), ChatMessage.from_dict(MESSAGE)],
    ids=["full", "bare", "lower", "ChatMessage"],
)
async def test_after_takes_a_message_id_in_any_form(after: Any) -> None:
    recorder = Recorder(respond(200, message_page([])))
    await call(async_client(recorder), "iter_messages", SESSION_ID, after=after)
    assert recorder.requests[0].url.params["after"] == MESSAGE_ULID


@pytest.mark.parametrize(
    ("name", "args", "kwargs"),
    [
        ("message_id", (SESSION_ID, SESSION_ID), {}),
        ("message_id", (SESSION_ID, MESSAGE_ULID[:-1] + "\u212a"), {}),
        ("after", (SESSION_ID,), {"after": SESSION_ID}),
        ("after", (SESSION_ID,), {"after": "latest"}),
    ],
)
async def test_a_bad_message_id_is_named_and_raises_before_any_request(
    name: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    method = "get_message" if name == "message_id" else "iter_messages"
    recorder = Recorder(success(method))
    with pytest.raises(ClannInvalidIdError, match=f"^{name}: "):
        await call(async_client(recorder), method, *args, **kwargs)
    assert recorder.requests == []


@pytest.mark.parametrize("method", ["iter_sessions", "iter_messages"])
async def test_an_iterators_arguments_are_checked_when_it_is_made_not_when_walked(method: str) -> None:
    recorder = Recorder(success(method))
    client = async_client(recorder)
    first = "\ud800" if method == "iter_sessions" else "not an id"
    with pytest.raises(ClannInvalidArgumentError):
        getattr(client, method)(first)
    with pytest.raises(ClannInvalidArgumentError):
        getattr(client, method)(METHODS[method][0][0], page_size=0)
    assert recorder.requests == []


# Page sizes --------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 50, 100])
@pytest.mark.parametrize("method", ["iter_sessions", "iter_messages"])
async def test_page_size_from_1_to_100_is_sent_as_limit(method: str, size: int) -> None:
    recorder = Recorder(success(method))
    await call(async_client(recorder), method, METHODS[method][0][0], page_size=size)
    assert recorder.requests[0].url.params["limit"] == str(size)


@pytest.mark.parametrize("size", [0, -1, 101, 10**9])
@pytest.mark.parametrize("method", ["iter_sessions", "iter_messages"])
async def test_page_size_out_of_range_raises_before_any_request(method: str, size: int) -> None:
    recorder = Recorder(success(method))
    with pytest.raises(ClannInvalidArgumentError, match="page_size must be 1 to 100"):
        await call(async_client(recorder), method, METHODS[method][0][0], page_size=size)
    assert recorder.requests == []


@pytest.mark.parametrize("size", [1.0, "10", True])
@pytest.mark.parametrize("method", ["iter_sessions", "iter_messages"])
async def test_page_size_of_the_wrong_type_is_a_type_error(method: str, size: Any) -> None:
    recorder = Recorder(success(method))
    with pytest.raises(TypeError, match="page_size must be an int"):
        await call(async_client(recorder), method, METHODS[method][0][0], page_size=size)
    assert recorder.requests == []


# Text that cannot be sent, and wrong types ---------------------------------------------------------

SURROGATE = "a\ud800b"
SURROGATE_CASES: list[tuple[str, str, tuple[Any, ...], dict[str, Any]]] = [
    ("created_by", "list_sessions", (SURROGATE,), {}),
    ("tree", "list_sessions", ("alice", SURROGATE), {}),
    ("created_by", "iter_sessions", (SURROGATE,), {}),
    ("title", "create_session", (SURROGATE, "alice"), {}),
    ("created_by", "create_session", ("T", "\udfff"), {}),
    ("tree", "create_session", ("T", "alice", SURROGATE), {}),
    ("title", "update_session", (SESSION_ID,), {"title": SURROGATE}),
    ("tree", "update_session", (SESSION_ID,), {"tree": SURROGATE}),
    ("role", "append_message", (SESSION_ID, SURROGATE, "x"), {}),
    ("content", "append_message", (SESSION_ID, "user", SURROGATE), {}),
]


@pytest.mark.parametrize(("field", "method", "args", "kwargs"), SURROGATE_CASES)
async def test_a_lone_surrogate_raises_naming_the_field_before_any_request(
    field: str, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    recorder = Recorder(success(method))
    with pytest.raises(ClannInvalidArgumentError, match=f"^{field} holds a lone surrogate") as caught:
        await call(async_client(recorder), method, *args, **kwargs)
    assert not isinstance(caught.value, ClannInvalidIdError)
    assert "nothing was sent" in str(caught.value)
    assert recorder.requests == []


@pytest.mark.parametrize(
    ("method", "args", "kwargs", "says"),
    [
        ("list_sessions", (None,), {}, "created_by must be a str"),
        ("list_sessions", ("alice", 5), {}, "tree must be a str or None"),
        ("iter_sessions", (b"alice",), {}, "created_by must be a str"),
        ("create_session", (b"title", "alice"), {}, "title must be a str"),
        ("create_session", ("T", "alice", ["oak"]), {}, "tree must be a str or None"),
        ("update_session", (SESSION_ID,), {"title": None}, "title must be a str"),
        ("update_session", (SESSION_ID,), {"tree": 5}, "tree must be a str or None"),
        ("append_message", (SESSION_ID, Role.USER, None), {}, "content must be a str"),
        ("append_message", (SESSION_ID, 1, "x"), {}, "role must be a str"),
        ("append_message", (SESSION_ID, "user", "x"), {"idempotency_key": 5}, "idempotency_key must be a str"),
        ("delete_session", (SESSION_ID,), {"idempotency_key": b"k"}, "idempotency_key must be a str"),
        ("get_session", (12345,), {}, "session_id must be a str or a ChatSession, got int"),
        ("delete_session", (None,), {}, "session_id must be a str or a ChatSession, got NoneType"),
        ("get_message", (SESSION_ID, b"x"), {}, "message_id must be a str or a ChatMessage, got bytes"),
        ("iter_messages", (SESSION_ID,), {"after": 5}, "after must be a str or a ChatMessage, got int"),
    ],
)
async def test_wrong_argument_types_raise_type_error_before_any_request(
    method: str, args: tuple[Any, ...], kwargs: dict[str, Any], says: str
) -> None:
    recorder = Recorder(success(method))
    with pytest.raises(TypeError, match=says):
        await call(async_client(recorder), method, *args, **kwargs)
    assert recorder.requests == []


# Idempotency keys --------------------------------------------------------------------------------


@pytest.mark.parametrize("method", WRITES)
async def test_the_callers_idempotency_key_is_sent(method: str) -> None:
    recorder = Recorder(success(method))
    await invoke(async_client(recorder), method, idempotency_key="order-42:attempt~1")
    assert recorder.keys == ["order-42:attempt~1"]


@pytest.mark.parametrize("method", WRITES)
async def test_without_a_key_each_call_makes_a_new_one(method: str) -> None:
    recorder = Recorder(success(method))
    client = async_client(recorder)
    await invoke(client, method)
    await invoke(client, method)
    first, second = recorder.keys
    assert first is not None
    assert second is not None
    assert first != second
    made = uuid.UUID(first)
    assert (made.version, made.variant, str(made)) == (4, uuid.RFC_4122, first)


@pytest.mark.parametrize("key", ["", "has space", "tab\t", "é", "\ud800", "x" * 256])
@pytest.mark.parametrize("method", [PATHS["write"]])
async def test_a_key_the_contract_refuses_raises_before_any_request(method: str, key: str) -> None:
    recorder = Recorder(success(method))
    with pytest.raises(ClannInvalidArgumentError, match="idempotency_key must be 1 to 255 visible ASCII"):
        await invoke(async_client(recorder), method, idempotency_key=key)
    assert recorder.requests == []


async def test_the_longest_key_the_contract_allows_is_sent() -> None:
    recorder = Recorder(success("append_message"))
    key = "!" + "~" * 254
    await invoke(async_client(recorder), "append_message", idempotency_key=key)
    assert recorder.keys == [key]


def test_both_clients_take_the_same_keyword_only_idempotency_key() -> None:
    import inspect

    for cls in (ChatClient, AsyncChatClient):
        for method in WRITES:
            parameter = inspect.signature(getattr(cls, method)).parameters["idempotency_key"]
            assert parameter.kind is inspect.Parameter.KEYWORD_ONLY
            assert parameter.default is None


class User(str, Enum):  # noqa: UP042 - the (str, Enum) whose str() is not its value, on purpose
    ALICE = "alice"


class Who(str, Enum):  # noqa: UP042 - as above
    USER = "user"


async def test_a_str_subclass_is_sent_as_the_string_it_holds() -> None:
    # str() of these says 'User.ALICE': the query once carried it, and the role 'Who.USER'.
    recorder = Recorder(respond(200, session_page([])), echo("append_message"))
    client = async_client(recorder)
    await call(client, "list_sessions", User.ALICE)
    await call(client, "append_message", SESSION_ID, Who.USER, "hi")
    assert dict(recorder.requests[0].url.params)["created_by"] == "alice"
    assert json.loads(recorder.requests[1].content)["role"] == "user"


# max_items ---------------------------------------------------------------------------------------

LISTINGS_AND_WALKS = ["list_sessions", "list_messages", "iter_sessions", "iter_messages"]


@pytest.mark.parametrize("method", LISTINGS_AND_WALKS)
async def test_max_items_below_0_raises_before_any_request(method: str) -> None:
    recorder = Recorder(success(method))
    with pytest.raises(ClannInvalidArgumentError, match="max_items must be 0 or more, got -1"):
        await call(async_client(recorder), method, METHODS[method][0][0], max_items=-1)
    assert recorder.requests == []


@pytest.mark.parametrize("most", [1.0, "10", True])
@pytest.mark.parametrize("method", LISTINGS_AND_WALKS)
async def test_max_items_of_another_type_raises_type_error(method: str, most: object) -> None:
    recorder = Recorder(success(method))
    with pytest.raises(TypeError, match="max_items must be an int or None"):
        await call(sync_client(recorder), method, METHODS[method][0][0], max_items=most)
    assert recorder.requests == []


@pytest.mark.parametrize("method", LISTINGS_AND_WALKS)
async def test_max_items_0_reads_nothing_and_sends_nothing(make_client: MakeClient, method: str) -> None:
    recorder = Recorder(success(method))
    assert await call(make_client(recorder), method, METHODS[method][0][0], max_items=0) == []
    assert recorder.requests == []


@pytest.mark.parametrize("method", LISTINGS_AND_WALKS)
async def test_max_items_below_the_page_size_asks_for_no_more(make_client: MakeClient, method: str) -> None:
    recorder = Recorder(success(method))
    found = await call(make_client(recorder), method, METHODS[method][0][0], max_items=1)
    assert len(found) == 1
    assert recorder.requests[0].url.params["limit"] == "1"
