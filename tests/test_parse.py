"""Reading records from response bodies (pyclann._parse): what a 2xx must hold, and what is welcome besides."""

from __future__ import annotations

import json
from collections import OrderedDict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pyclann import ChatMessage, ChatSession, ClannResponseError, Role, _parse
from pyclann._parse import FieldError
from pyclann.testing import instant_retries
from tests import helpers
from tests.helpers import MESSAGE, SESSION, SESSION_ID, ULID, MakeClient, Recorder, invoke, respond


def _body(value: object) -> bytes:
    return json.dumps(value).encode()


def session(value: object) -> ChatSession:
    return _parse.record(ChatSession, _body(value))


def message(value: object) -> ChatMessage:
    return _parse.record(ChatMessage, _body(value))


def session_page(value: object) -> tuple[list[ChatSession], str | None]:
    return _parse.session_page(_body(value))


def message_page(value: object) -> tuple[list[ChatMessage], str | None]:
    items, _, _, cursor = _parse.message_page(_body(value))
    return items, cursor


def test_a_session_is_read_field_by_field() -> None:
    assert session(SESSION) == ChatSession(
        id=SESSION_ID,
        title="Planning",
        created_by="alice",
        tree=None,
        created_at=datetime(2026, 11, 26, 9, 0, 0, 1, tzinfo=UTC),
        updated_at=datetime(2026, 11, 26, 9, 5, tzinfo=UTC),
    )
    assert session({**SESSION, "tree": "oak"}).tree == "oak"


def test_a_message_is_read_field_by_field() -> None:
    assert message(MESSAGE) == ChatMessage(
        id=MESSAGE["id"],
        session=SESSION_ID,
        role=Role.USER,
        content="Hello",
        created_at=datetime(2026, 11, 26, 9, 5, tzinfo=UTC),
    )


def test_roles_are_the_servers_strings_and_known_ones_equal_their_role() -> None:
    assert message(MESSAGE).role == Role.USER
    assert message({**MESSAGE, "role": "system"}).role == Role.SYSTEM
    assert {message(MESSAGE).role: 1}[Role.USER] == 1, "a Role and its string hash alike"
    tool = message({**MESSAGE, "role": "tool"})
    assert tool.role == "tool"
    assert type(tool.role) is str


def test_unknown_fields_are_welcome_and_ignored() -> None:
    extra = {"tokens": 12, "meta": {"a": [1]}, "id_v2": None}
    assert message({**MESSAGE, **extra}) == message(MESSAGE)
    assert session({**SESSION, **extra}) == session(SESSION)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-26T09:00:00Z", datetime(2026, 11, 26, 9, 0, tzinfo=UTC)),
        ("2026-11-26t09:00:00z", datetime(2026, 11, 26, 9, 0, tzinfo=UTC)),
        ("2026-11-26T09:00:00.5Z", datetime(2026, 11, 26, 9, 0, 0, 500000, tzinfo=UTC)),
        # RFC 3339 sets no bound on the fraction's digits; msgspec rounds them to microseconds.
        ("2026-11-26T09:00:00.123456789Z", datetime(2026, 11, 26, 9, 0, 0, 123457, tzinfo=UTC)),
        ("2026-11-26T09:00:00.1234567891Z", datetime(2026, 11, 26, 9, 0, 0, 123457, tzinfo=UTC)),
        # RFC 3339 lets a space stand for the T (its section 5.6, a note); an offset without its colon is
        # unambiguous: both are aware times, which is what a user relies on.
        ("2026-11-26 09:00:00Z", datetime(2026, 11, 26, 9, 0, tzinfo=UTC)),
        ("2026-11-26T11:00:00+0200", datetime(2026, 11, 26, 9, 0, tzinfo=UTC)),
        ("2026-11-26T11:30:00+02:30", datetime(2026, 11, 26, 9, 0, tzinfo=UTC)),
        ("2026-11-26T01:00:00-08:00", datetime(2026, 11, 26, 9, 0, tzinfo=UTC)),
        ("2026-11-26T09:00:00-00:00", datetime(2026, 11, 26, 9, 0, tzinfo=UTC)),
        ("2026-11-27T08:59:00+23:59", datetime(2026, 11, 26, 9, 0, tzinfo=UTC)),
    ],
)
def test_rfc_3339_times_are_read_and_converted_to_utc(text: str, expected: datetime) -> None:
    created = session({**SESSION, "created_at": text}).created_at
    assert created == expected
    assert created.tzinfo is UTC
    assert created.utcoffset() == timedelta(0)


NOT_RFC_3339 = {
    "ISO week date": "2026-W48-4T09:00:00Z",
    "ordinal date": "2026-330T09:00:00Z",
    "no seconds": "2026-11-26T09:00Z",
    "no offset": "2026-11-26T09:00:00",
    "basic format": "20261126T090000Z",
    "hour-only offset": "2026-11-26T09:00:00+02",
    "empty fraction": "2026-11-26T09:00:00.Z",
    "fullwidth digit": "\uff12026-11-26T09:00:00Z",
    "a date only": "2026-11-26",
    "words": "yesterday",
    "trailing newline": "2026-11-26T09:00:00Z\n",
}
OUT_OF_RANGE = {
    "year 1 at +23:59 is year 0 in UTC": "0001-01-01T00:00:00+23:59",
    "year 9999 at -23:59 is year 10000 in UTC": "9999-12-31T23:59:59-23:59",
}
NOT_A_DAY = {
    "February 30": "2026-02-30T00:00:00Z",
    "month 13": "2026-13-01T00:00:00Z",
    "hour 24": "2026-11-26T24:00:00Z",
    "offset +24:00": "2026-11-26T09:00:00+24:00",
}


@pytest.mark.parametrize("text", [*NOT_RFC_3339.values(), *NOT_A_DAY.values()], ids=[*NOT_RFC_3339, *NOT_A_DAY])
@pytest.mark.parametrize("field", ["created_at", "updated_at"])
def test_a_time_that_is_not_rfc_3339_is_refused_naming_its_field(field: str, text: str) -> None:
    with pytest.raises(FieldError, match=f"^field '{field}' is not an RFC 3339 time"):
        session({**SESSION, field: text})


@pytest.mark.parametrize("text", OUT_OF_RANGE.values(), ids=OUT_OF_RANGE.keys())
def test_a_time_outside_utcs_range_is_refused_naming_its_field(text: str) -> None:
    with pytest.raises(FieldError, match=r"^field 'created_at' is not a time in UTC's range"):
        message({**MESSAGE, "created_at": text})


@pytest.mark.parametrize(
    ("record", "says"),
    [
        ({**SESSION, "id": f"chat_message:{ULID}"}, "field 'id' must be a chat_session ID"),
        ({**SESSION, "id": "chat_session:../../admin"}, "field 'id' must be a chat_session ID"),
        ({**SESSION, "id": f"chat_session:{ULID.lower()}"}, "field 'id' must be a chat_session ID"),
        ({**SESSION, "id": ULID}, "field 'id' must be a chat_session ID"),
        ({**SESSION, "id": f"chat_session:{ULID}\n"}, "field 'id' must be a chat_session ID"),
        ({**SESSION, "id": f"chat_session:{ULID[:-1]}\u212a"}, "field 'id' must be a chat_session ID"),
        ({**SESSION, "id": 7}, "field 'id' must be a string, got int"),
        ({k: v for k, v in SESSION.items() if k != "tree"}, "field 'tree' is missing"),
        ({**SESSION, "tree": 3}, "field 'tree' must be a string or null, got int"),
        ({**SESSION, "title": ["x"]}, "field 'title' must be a string, got list"),
        ({**SESSION, "title": None}, "field 'title' must be a string, got null"),
        ({**SESSION, "created_by": True}, "field 'created_by' must be a string, got bool"),
        ({**SESSION, "updated_at": None}, "field 'updated_at' must be an RFC 3339 time, got null"),
    ],
)
def test_a_bad_session_names_its_field(record: dict[str, Any], says: str) -> None:
    with pytest.raises(FieldError, match=f"^{says}"):
        session(record)


@pytest.mark.parametrize(
    ("record", "says"),
    [
        ({**MESSAGE, "id": SESSION_ID}, "field 'id' must be a chat_message ID"),
        ({**MESSAGE, "session": MESSAGE["id"]}, "field 'session' must be a chat_session ID"),
        ({**MESSAGE, "session": "chat_session:../../admin"}, "field 'session' must be a chat_session ID"),
        ({**MESSAGE, "role": None}, "field 'role' must be a string, got null"),
        ({**MESSAGE, "content": 5}, "field 'content' must be a string, got int"),
        ({k: v for k, v in MESSAGE.items() if k != "created_at"}, "field 'created_at' is missing"),
    ],
)
def test_a_bad_message_names_its_field(record: dict[str, Any], says: str) -> None:
    with pytest.raises(FieldError, match=f"^{says}"):
        message(record)


@pytest.mark.parametrize("value", [None, [], "x", 1, [MESSAGE]])
def test_a_record_must_be_an_object(value: object) -> None:
    with pytest.raises(FieldError, match=r"^expected a chat message object"):
        message(value)


def test_a_field_of_a_page_item_is_named_with_its_index() -> None:
    page = helpers.message_page([helpers.message(1), {**helpers.message(2), "content": None}])
    with pytest.raises(FieldError, match=r"^item 1 of 'data': field 'content' must be a string, got null$"):
        message_page(page)
    with pytest.raises(FieldError, match=r"^item 0 of 'data': expected a chat message object, got list$"):
        message_page({**page, "data": [[1]]})
    with pytest.raises(FieldError, match=r"^field 'has_more' must be a boolean, got str$"):
        message_page({**helpers.message_page([]), "has_more": "no"})


def test_a_long_bad_value_is_echoed_clipped() -> None:
    with pytest.raises(FieldError) as caught:
        session({**SESSION, "id": "x" * 10_000})
    assert len(str(caught.value)) < 200


def test_a_bad_item_in_a_page_is_named_by_its_index() -> None:
    broken = {k: v for k, v in MESSAGE.items() if k != "content"}
    page = helpers.message_page([helpers.message(1), helpers.message(2), broken])
    page["last_id"] = MESSAGE["id"]
    with pytest.raises(FieldError, match=r"^item 2 of 'data': field 'content' is missing$"):
        message_page(page)


def test_pages_give_their_records_and_the_next_pages_cursor() -> None:
    sessions = [helpers.session(1), helpers.session(2)]
    assert session_page(helpers.session_page(sessions, "c-2")) == ([session(s) for s in sessions], "c-2")
    assert session_page(helpers.session_page(sessions)) == ([session(s) for s in sessions], None)
    messages = [helpers.message(1), helpers.message(2)]
    assert message_page(helpers.message_page(messages, has_more=True)) == (
        [message(m) for m in messages],
        messages[-1]["id"],
    )
    assert message_page(helpers.message_page(messages)) == ([message(m) for m in messages], None)
    assert message_page(helpers.message_page([])) == ([], None)


# Through the clients: a record that breaks the contract is a ClannResponseError naming the field.

BROKEN_RECORDS: list[tuple[str, Any, str]] = [
    ("get_session", {**SESSION, "id": f"chat_message:{ULID}"}, "field 'id' must be a chat_session ID"),
    ("get_session", {**SESSION, "id": "chat_session:../../admin"}, "field 'id' must be a chat_session ID"),
    ("create_session", {**SESSION, "created_at": "2026-W48-4T09:00:00Z"}, "field 'created_at' is not an RFC 3339"),
    ("update_session", {**SESSION, "updated_at": "0001-01-01T00:00:00+23:59"}, "field 'updated_at' is not a time"),
    ("get_message", {**MESSAGE, "session": "chat_session:../x"}, "field 'session': a message of 'chat_session:../x'"),
    ("append_message", {**MESSAGE, "created_at": "2026-330T09:00:00Z"}, "field 'created_at' is not an RFC 3339"),
    (
        "list_sessions",
        helpers.session_page([helpers.session(1), {**helpers.session(2), "updated_at": "2026-11-26T09:00"}]),
        "item 1 of 'data': field 'updated_at' is not an RFC 3339",
    ),
    (
        "iter_messages",
        {**helpers.message_page([helpers.message(1)]), "data": [{**helpers.message(1), "id": SESSION_ID}]},
        "item 0 of 'data': field 'id' must be a chat_message ID",
    ),
]


@pytest.mark.parametrize(("method", "body", "says"), BROKEN_RECORDS)
async def test_a_response_record_that_breaks_the_contract_is_a_response_error_naming_the_field(
    make_client: MakeClient, method: str, body: Any, says: str
) -> None:
    status = 201 if method in ("create_session", "append_message") else 200
    recorder = Recorder(respond(status, body, {"X-Request-Id": "req-7"}))
    with pytest.raises(ClannResponseError) as caught:
        await invoke(make_client(recorder), method)
    assert says in caught.value.detail
    assert (caught.value.status_code, caught.value.request_id) == (status, "req-7")
    assert len(recorder.requests) == 1, "a wrong body is not retried: it would come back the same"


async def test_unknown_roles_and_fields_in_a_response_are_returned(make_client: MakeClient) -> None:
    body = helpers.message_page(
        [helpers.message(1), helpers.message(2, role="tool", tool_call_id="abc", extra={"nested": [1]})]
    )
    body["cursor_v2"] = "ignored"
    messages = await invoke(make_client(Recorder(respond(200, body))), "list_messages")
    assert [m.role for m in messages] == [Role.USER, "tool"]
    assert type(messages[1].role) is str


# The record must be the one asked for.


@pytest.mark.parametrize(
    ("method", "args", "record", "says"),
    [
        ("get_session", (helpers.SESSION_ID,), helpers.session(7), "field 'id' must be 'chat_session:"),
        ("update_session", (helpers.SESSION_ID,), helpers.session(7), "field 'id' must be 'chat_session:"),
        ("get_message", (helpers.SESSION_ID, helpers.MESSAGE["id"]), helpers.message(7), "field 'id' must be"),
        (
            "append_message",
            (helpers.SESSION_ID, "user", "hi"),
            helpers.message(1, session=f"chat_session:{helpers.ulid(9)}"),
            "field 'session': a message of",
        ),
    ],
)
async def test_a_record_other_than_the_one_asked_for_is_a_response_error(
    make_client: helpers.MakeClient, method: str, args: tuple[Any, ...], record: dict[str, Any], says: str
) -> None:
    _, status, _ = helpers.METHODS[method]
    kwargs = {"title": "x"} if method == "update_session" else {}
    with pytest.raises(ClannResponseError, match=says):
        await helpers.call(make_client(helpers.Recorder(helpers.respond(status, record))), method, *args, **kwargs)


def test_from_dict_takes_any_mapping_and_str_subclasses() -> None:
    ordered = OrderedDict(helpers.MESSAGE)
    ordered["role"] = Role.USER
    assert ChatMessage.from_dict(ordered) == ChatMessage.from_dict(helpers.MESSAGE)


# One decoder for every body: what json.loads once read and msgspec skipped, or the other way round.


def _disagreeing_page() -> bytes:
    """A page json.loads refuses and msgspec reads: `+00:00` times and an unknown 5,000-digit integer."""
    data = [helpers.message(n, created_at="2026-11-26T09:05:00+00:00") for n in (1, 2)]
    text = json.dumps(helpers.message_page(data))
    return text.replace('"has_more"', '"tokens": ' + "9" * 5000 + ', "has_more"').encode()


async def test_a_page_with_offset_times_and_a_5000_digit_unknown_integer_is_read_in_one_attempt(
    make_client: MakeClient,
) -> None:
    body = _disagreeing_page()
    with pytest.raises(ValueError, match="Exceeds the limit"):
        json.loads(body)
    recorder = Recorder(respond(200, body))
    messages = await invoke(make_client(recorder), "list_messages")
    assert [m.id for m in messages] == [f"chat_message:{helpers.ulid(n)}" for n in (1, 2)]
    assert all(m.created_at == datetime(2026, 11, 26, 9, 5, tzinfo=UTC) for m in messages)
    assert len(recorder.requests) == 1


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"<html>", "not JSON"),
        (json.dumps(MESSAGE).encode() + b"x", "not JSON"),
        (json.dumps({**MESSAGE, "content": "\\ud800"}).replace("\\\\", "\\").encode(), "not JSON"),
        (json.dumps({**MESSAGE, "x": "\\ud800"}).replace("\\\\", "\\").encode(), "not JSON"),
        (json.dumps(MESSAGE).replace('"Hello"', '"\\u00ff"').replace("\\u00ff", "\xff").encode("latin-1"), "UTF-8"),
        (json.dumps({**MESSAGE, "x": []}).replace("[]", "[" * 100_000 + "]" * 100_000).encode(), "nested"),
    ],
)
async def test_a_complete_body_that_is_not_json_is_refused_after_one_attempt(
    make_client: MakeClient, body: bytes, says: str
) -> None:
    recorder = Recorder(respond(200, body))
    with pytest.raises(ClannResponseError, match=says), instant_retries():
        await invoke(make_client(recorder), "get_message")
    assert len(recorder.requests) == 1, "a complete body comes back the same: it is not retried"


async def test_a_body_cut_short_is_retried(make_client: MakeClient) -> None:
    whole = json.dumps(MESSAGE).encode()
    recorder = Recorder(respond(200, whole[:40]), respond(200, whole))
    with instant_retries():
        found = await invoke(make_client(recorder), "get_message")
    assert found == ChatMessage.from_dict(MESSAGE)
    assert len(recorder.requests) == 2


def test_a_problem_document_is_read_by_the_same_decoder() -> None:
    assert _parse.problem(b'{"type": "t", "detail": "d", "errors": [{"field": "f", "message": "m"}]}') == {
        "type": "t",
        "detail": "d",
        "errors": [{"field": "f", "message": "m"}],
    }
    assert _parse.problem(b"<html>") is None
    assert _parse.problem(b"[1]") is None
