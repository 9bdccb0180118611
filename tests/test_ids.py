from __future__ import annotations

import pytest

from pyclann import ClannError, ClannInvalidIdError, RecordId

ULID = "01JDXV3C5Z0K8Y8T6W3M2Q9R4N"


@pytest.mark.parametrize(
    "text",
    [f"chat_session:{ULID}", f"chat_session:{ULID.lower()}", f"chat_session:⟨{ULID}⟩", f"chat_session:`{ULID}`"],
)
def test_full_and_escaped_forms_parse_to_the_same_id(text: str) -> None:
    parsed = RecordId.parse(text)
    assert parsed == RecordId("chat_session", ULID)
    assert str(parsed) == f"chat_session:{ULID}"


def test_a_bare_ulid_needs_its_table() -> None:
    assert RecordId.parse(ULID.lower(), "chat_session") == RecordId("chat_session", ULID)
    with pytest.raises(ClannInvalidIdError, match="name its table"):
        RecordId.parse(ULID)


def test_another_tables_id_is_refused_by_name() -> None:
    with pytest.raises(ClannInvalidIdError, match="is a chat_message ID, not a chat_session ID"):
        RecordId.parse(f"chat_message:{ULID}", "chat_session")


@pytest.mark.parametrize("bad", ["", " ", "chat_session:", f"chat_session:{ULID[:-1]}", f"a/b:{ULID}", "I" * 26])
def test_malformed_ids_name_the_value_and_the_accepted_forms(bad: str) -> None:
    with pytest.raises(ClannInvalidIdError) as caught:
        RecordId.parse(bad, "chat_session")
    assert repr(bad) in str(caught.value)
    assert "accepted: '<table>:<ULID>'" in str(caught.value)
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, ClannError)


def test_non_strings_are_refused() -> None:
    with pytest.raises(ClannInvalidIdError, match="as a str, got NoneType"):
        RecordId.parse(None, "chat_session")  # type: ignore[arg-type]
