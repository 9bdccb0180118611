"""pyclann.models: frozen, hashable records with datetimes, to and from the wire's JSON form."""

from __future__ import annotations

import copy
import json
import pickle
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from unittest.mock import ANY

import pytest

from pyclann import ChatMessage, ChatSession, ClannInvalidArgumentError, CustomRole, Role
from tests.helpers import MESSAGE, SESSION, message, session

RECORDS: list[tuple[type[ChatSession] | type[ChatMessage], dict[str, Any]]] = [
    (ChatSession, SESSION),
    (ChatSession, {**SESSION, "tree": "oak", "created_at": "2026-11-26T09:00:00Z"}),
    (ChatMessage, MESSAGE),
    (ChatMessage, {**MESSAGE, "role": "tool", "content": "  exact\ttext\n😀"}),
]


@pytest.mark.parametrize(("cls", "record"), RECORDS)
def test_to_dict_gives_the_wire_form_back(cls: type[ChatSession] | type[ChatMessage], record: dict[str, Any]) -> None:
    assert cls.from_dict(record).to_dict() == record


@pytest.mark.parametrize(("cls", "record"), RECORDS)
def test_from_dict_of_to_dict_is_the_same_record(
    cls: type[ChatSession] | type[ChatMessage], record: dict[str, Any]
) -> None:
    model = cls.from_dict(record)
    again = cls.from_dict(json.loads(json.dumps(model.to_dict())))
    assert again == model
    assert hash(again) == hash(model)


def test_to_dict_writes_times_as_rfc_3339_in_utc_with_a_z() -> None:
    moment = datetime(2026, 11, 26, 11, 0, 0, 250000, tzinfo=timezone(timedelta(hours=2)))
    made = ChatSession(SESSION["id"], "t", "alice", None, moment, moment)
    as_dict = made.to_dict()
    assert as_dict["created_at"] == "2026-11-26T09:00:00.250000Z"
    assert json.loads(json.dumps(as_dict)) == as_dict
    assert ChatSession.from_dict(as_dict) == made


def test_to_dict_writes_a_known_role_as_its_plain_string() -> None:
    as_dict = ChatMessage.from_dict(MESSAGE).to_dict()
    assert type(as_dict["role"]) is str
    assert json.dumps(as_dict["role"]) == '"user"'


@pytest.mark.parametrize(
    ("cls", "record", "says"),
    [
        (ChatSession, {**SESSION, "id": "chat_message:01JDXV3C5Z0K8Y8T6W3M2Q9R4N"}, "field 'id'"),
        (ChatSession, {**SESSION, "created_at": "2026-W48-4T09:00:00Z"}, "field 'created_at'"),
        (ChatSession, {k: v for k, v in SESSION.items() if k != "title"}, "field 'title' is missing"),
        (ChatMessage, {**MESSAGE, "content": None}, "field 'content'"),
        (ChatMessage, {**MESSAGE, "session": "nope"}, "field 'session'"),
        (ChatMessage, [MESSAGE], "expected a chat message object"),
    ],
)
def test_from_dict_of_a_bad_record_names_the_field(
    cls: type[ChatSession] | type[ChatMessage], record: Any, says: str
) -> None:
    with pytest.raises(ClannInvalidArgumentError, match=says) as caught:
        cls.from_dict(record)
    assert str(caught.value).startswith(f"not a {'chat session' if cls is ChatSession else 'chat message'}: ")
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(("cls", "record"), [(ChatSession, SESSION), (ChatMessage, MESSAGE)])
def test_models_are_frozen(cls: type[ChatSession] | type[ChatMessage], record: dict[str, Any]) -> None:
    model: Any = cls.from_dict(record)
    assert set(record) <= set(cls.__struct_fields__)
    for name in cls.__struct_fields__:
        before = getattr(model, name)
        with pytest.raises(AttributeError):
            setattr(model, name, "changed")
        with pytest.raises(AttributeError):
            delattr(model, name)
        assert getattr(model, name) == before
    with pytest.raises(AttributeError):
        model.new_attribute = 1


@pytest.mark.parametrize(("cls", "record"), [(ChatSession, SESSION), (ChatMessage, MESSAGE)])
def test_a_record_equals_only_a_record_of_its_class(
    cls: type[ChatSession] | type[ChatMessage], record: dict[str, Any]
) -> None:
    model = cls.from_dict(record)
    assert model == cls.from_dict(record)
    assert model != tuple(record.values()), "not a tuple of its values"  # type: ignore[comparison-overlap]
    assert model == ANY, "an unknown type decides for itself (NotImplemented), as mock.ANY does"
    assert f"{model}" == "%s" % model == repr(model)  # noqa: UP031 - the %-form a tuple would break
    assert model.__replace__(id=model.id) == model
    assert model.__replace__(created_at=model.created_at.replace(year=2000)) != model
    with pytest.raises(TypeError):
        assert model < model  # type: ignore[operator]  # records have no order
    with pytest.raises(TypeError):
        assert "alice" in model  # type: ignore[operator]  # nor are they containers


def test_models_are_hashable_values() -> None:
    first, same, other = session(1), session(1), session(2)
    sessions = {ChatSession.from_dict(first), ChatSession.from_dict(same), ChatSession.from_dict(other)}
    assert len(sessions) == 2
    messages = {ChatMessage.from_dict(message(1)): "a", ChatMessage.from_dict(message(1)): "b"}
    assert list(messages.values()) == ["b"]


@pytest.mark.parametrize(("cls", "record"), [(ChatSession, SESSION), (ChatMessage, MESSAGE)])
def test_models_pickle_and_copy_to_equal_values(
    cls: type[ChatSession] | type[ChatMessage], record: dict[str, Any]
) -> None:
    model = cls.from_dict(record)
    for again in (pickle.loads(pickle.dumps(model)), copy.copy(model), copy.deepcopy(model)):
        assert again == model
        assert type(again) is cls


def test_times_are_aware_datetimes_in_utc() -> None:
    model = ChatSession.from_dict({**SESSION, "updated_at": "2026-11-26T10:00:00+01:00"})
    assert model.updated_at == datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    assert model.updated_at.tzinfo is UTC
    assert isinstance(model.created_at, datetime)


def test_a_record_made_by_hand_needs_aware_times() -> None:
    # A naive time was once kept, and written to the wire as local time: 12:00 in New York became 17:00Z.
    naive, aware = datetime(2026, 11, 26, 12, 0), datetime(2026, 11, 26, 12, 0, tzinfo=timezone(timedelta(hours=-5)))
    with pytest.raises(ClannInvalidArgumentError, match="ChatMessage: created_at must be timezone-aware"):
        ChatMessage(MESSAGE["id"], MESSAGE["session"], "user", "hi", naive)
    with pytest.raises(ClannInvalidArgumentError, match="ChatSession: updated_at must be timezone-aware"):
        ChatSession(SESSION["id"], "t", "alice", None, aware, naive)
    with pytest.raises(TypeError, match="ChatMessage: created_at must be a datetime, not str"):
        ChatMessage(MESSAGE["id"], MESSAGE["session"], "user", "hi", "2026-11-26T12:00:00Z")  # type: ignore[arg-type]
    made = ChatMessage(MESSAGE["id"], MESSAGE["session"], "user", "hi", aware)
    assert made.created_at.tzinfo is UTC, "kept in UTC, as a record read from the wire is"
    assert made.to_dict()["created_at"] == "2026-11-26T17:00:00Z"
    assert ChatMessage.from_dict(made.to_dict()) == made


def test_a_record_made_by_hand_is_checked_as_from_dict_checks_it() -> None:
    # Once accepted, and refused only when read back: far from where the fixture made it.
    now = datetime(2026, 11, 26, tzinfo=UTC)
    with pytest.raises(ClannInvalidArgumentError, match="ChatSession: id must be a session's full ID: 'garbage'"):
        ChatSession("garbage", "t", "alice", None, now, now)
    with pytest.raises(ClannInvalidArgumentError, match="ChatMessage: session must be a session's full ID"):
        ChatMessage(MESSAGE["id"], MESSAGE["id"], "user", "hi", now)
    with pytest.raises(TypeError, match="ChatSession: title must be a str, not int"):
        ChatSession(SESSION["id"], 5, "alice", None, now, now)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="ChatSession: tree must be a str or None, not list"):
        ChatSession(SESSION["id"], "t", "alice", ["oak"], now, now)  # type: ignore[arg-type]
    made = ChatSession(SESSION["id"], "t", "alice", None, now, now)
    assert ChatSession.from_dict(made.to_dict()) == made


def test_records_match_by_position_and_by_keyword() -> None:
    one = ChatMessage.from_dict(message(1))
    match one:
        case ChatMessage(its_id, its_session, its_role, its_content):
            found = (its_id, its_session, its_role, its_content)
    assert found == (one.id, one.session, Role.USER, "message 1")
    match one.role:
        case Role.USER:
            pass
        case _:
            pytest.fail("a known role did not match its Role")
    match ChatSession.from_dict(session(1)):
        case ChatSession(title="session 1", tree=tree):
            assert tree is None
        case _:
            pytest.fail("a session did not match its own title")


def test_the_known_roles() -> None:
    assert [role.value for role in Role] == ["user", "assistant", "system"]
    assert Role("assistant") is Role.ASSISTANT
    assert isinstance(Role.USER, str)
    assert f"{Role.SYSTEM}" == "system"


def test_a_record_changed_by_copy_replace_is_checked_as_one_made_by_hand() -> None:
    made = ChatMessage.from_dict(MESSAGE)
    with pytest.raises(ClannInvalidArgumentError, match="ChatMessage: id must be a message's full ID"):
        made.__replace__(id=SESSION["id"])
    with pytest.raises(ClannInvalidArgumentError, match="created_at must be timezone-aware"):
        made.__replace__(created_at=datetime(2026, 1, 1))
    later = made.__replace__(created_at=datetime(2026, 1, 1, 1, tzinfo=timezone(timedelta(hours=1))))
    assert later.created_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert later.created_at.tzinfo is UTC


def test_a_record_made_by_hand_takes_a_custom_role_and_keeps_it() -> None:
    now = datetime(2026, 11, 26, tzinfo=UTC)
    tool = ChatMessage(MESSAGE["id"], MESSAGE["session"], CustomRole("tool"), "hi", now)
    assert tool.role == "tool"
    assert ChatMessage.from_dict(tool.to_dict()) == tool
