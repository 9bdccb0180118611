from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from pyclann import ChatMessage, Role
from pyclann.models import FieldError, parse_list, parse_message, parse_session
from tests.helpers import MESSAGE, SESSION


def test_times_are_timezone_aware_and_keep_their_offset() -> None:
    session = parse_session({**SESSION, "created_at": "2026-11-26T10:00:00+02:00"})
    assert session.created_at == datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    assert session.created_at.utcoffset() == timedelta(hours=2)
    assert session.updated_at.tzinfo is UTC or session.updated_at.utcoffset() == timedelta(0)
    assert isinstance(session.created_at.tzinfo, timezone)


def test_known_roles_become_role_members_and_others_stay_strings() -> None:
    assert parse_message(MESSAGE).role is Role.USER
    tool = parse_message({**MESSAGE, "role": "tool"})
    assert (tool.role, type(tool.role)) == ("tool", str)
    assert Role.ASSISTANT == "assistant"


def test_unknown_fields_are_ignored() -> None:
    assert parse_message({**MESSAGE, "tokens": 12, "meta": {"a": [1]}}) == parse_message(MESSAGE)


@pytest.mark.parametrize(
    ("record", "says"),
    [
        ({k: v for k, v in SESSION.items() if k != "tree"}, "field 'tree' is missing"),
        ({**SESSION, "title": ["x"]}, "field 'title' must be a string, got list"),
        ({**SESSION, "updated_at": None}, "field 'updated_at' must be a string, got null"),
        ({**SESSION, "created_at": "2026-13-01T00:00:00Z"}, "field 'created_at' is not an RFC 3339 time"),
    ],
)
def test_a_bad_session_names_its_field(record: dict[str, object], says: str) -> None:
    with pytest.raises(FieldError, match=says):
        parse_session(record)


def test_a_bad_item_in_a_list_is_named_by_its_index() -> None:
    with pytest.raises(FieldError, match=r"^item 2: field 'content' is missing$"):
        parse_list([MESSAGE, MESSAGE, {k: v for k, v in MESSAGE.items() if k != "content"}], parse_message)


def test_models_are_frozen_values() -> None:
    message = parse_message(MESSAGE)
    assert message == ChatMessage(**{**MESSAGE, "created_at": message.created_at})  # type: ignore[arg-type]
    assert hash(message) == hash(parse_message(MESSAGE))
    with pytest.raises(AttributeError):
        message.content = "edited"  # type: ignore[misc]
