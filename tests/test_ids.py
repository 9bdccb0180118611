"""pyclann.ids: every accepted form of a record ID, and nothing else, ASCII only."""

from __future__ import annotations

import pytest

from pyclann import MESSAGE_TABLE, SESSION_TABLE, ClannError, ClannInvalidIdError, RecordId

ULID = "01JDXV3C5Z0K8Y8T6W3M2Q9R4N"


@pytest.mark.parametrize(
    "text",
    [
        f"chat_session:{ULID}",
        f"chat_session:{ULID.lower()}",
        f"CHAT_SESSION:{ULID}",
        f"chat_session:⟨{ULID}⟩",
        f"chat_session:`{ULID}`",
        f"chat_session:`{ULID.lower()}`",
    ],
)
def test_full_and_escaped_forms_parse_to_the_same_id(text: str) -> None:
    parsed = RecordId.parse(text)
    assert parsed == RecordId(SESSION_TABLE, ULID)
    assert str(parsed) == f"chat_session:{ULID}"


def test_a_bare_ulid_in_either_case_needs_its_table() -> None:
    assert RecordId.parse(ULID.lower(), SESSION_TABLE) == RecordId(SESSION_TABLE, ULID)
    assert RecordId.parse(ULID, MESSAGE_TABLE) == RecordId(MESSAGE_TABLE, ULID)
    with pytest.raises(ClannInvalidIdError, match="name its table"):
        RecordId.parse(ULID)


def test_another_tables_id_is_refused_by_name() -> None:
    with pytest.raises(ClannInvalidIdError, match="is a chat_message ID, not a chat_session ID"):
        RecordId.parse(f"chat_message:{ULID}", SESSION_TABLE)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        " ",
        "chat_session:",
        f"chat_session:{ULID[:-1]}",
        f"chat_session:{ULID}A",
        f"a/b:{ULID}",
        "I" * 26,  # I, L, O and U are not Crockford base-32
        "8" + ULID[1:],  # over 128 bits
        f"chat_session:{ULID}\n",
        f"{ULID}\n",
        f" {ULID}",
        f"chat_session:⟨{ULID}`",
        f"chat_session:{ULID}:extra",
    ],
)
def test_malformed_ids_name_the_value_and_the_accepted_forms(bad: str) -> None:
    with pytest.raises(ClannInvalidIdError) as caught:
        RecordId.parse(bad, SESSION_TABLE)
    assert ascii(bad) in str(caught.value)  # ascii(): a look-alike shows as its code point
    assert "accepted: '<table>:<ULID>'" in str(caught.value)
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, ClannError)


# Characters that case-insensitive or Unicode-aware matching would take for ASCII ones:
# each beside the genuine ID it imitates.
LOOK_ALIKES = {
    "KELVIN SIGN for K": (ULID[:-1] + "K", ULID[:-1] + "\u212a"),
    "LONG S for s, in the table": (f"chat_session:{ULID}", f"chat_\u017fession:{ULID}"),
    "LONG S for S": (ULID[:-1] + "S", ULID[:-1] + "\u017f"),
    "fullwidth digit": (ULID, "\uff10" + ULID[1:]),
    "Arabic-Indic digit": (ULID, "\u0660" + ULID[1:]),
    "dotless i in the table": (f"chat_session:{ULID}", f"chat_sess\u0131on:{ULID}"),
    "Cyrillic a in the table": (f"chat_session:{ULID}", f"ch\u0430t_session:{ULID}"),
}


@pytest.mark.parametrize(("genuine", "fake"), LOOK_ALIKES.values(), ids=LOOK_ALIKES.keys())
def test_non_ascii_look_alikes_are_refused(genuine: str, fake: str) -> None:
    assert RecordId.parse(genuine, SESSION_TABLE).ulid.isascii()
    with pytest.raises(ClannInvalidIdError):
        RecordId.parse(fake, SESSION_TABLE)


def test_a_huge_value_is_refused_with_a_bounded_message() -> None:
    with pytest.raises(ClannInvalidIdError) as caught:
        RecordId.parse("x" * 1_000_000, SESSION_TABLE)
    assert len(str(caught.value)) < 400


def test_non_strings_are_refused() -> None:
    with pytest.raises(TypeError, match="as a str, got NoneType"):
        RecordId.parse(None, SESSION_TABLE)  # type: ignore[arg-type]
