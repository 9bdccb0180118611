"""Record IDs: `chat_session:01JDXV...`, the bare ULID, and the escaped forms.

A record's full ID is `<table>:<ULID>`; URL paths carry the bare ULID. Every
`session_id` pyclann takes is normalised here, so that no malformed value ever
reaches a URL.

    >>> RecordId.parse("chat_session:01jdxv3c5z0k8y8t6w3m2q9r4n")
    RecordId(table='chat_session', ulid='01JDXV3C5Z0K8Y8T6W3M2Q9R4N')
    >>> str(RecordId("chat_session", "01JDXV3C5Z0K8Y8T6W3M2Q9R4N"))
    'chat_session:01JDXV3C5Z0K8Y8T6W3M2Q9R4N'
"""

from __future__ import annotations

import re

import attrs

from .errors import ClannInvalidIdError

__all__ = ["MESSAGE_TABLE", "SESSION_TABLE", "RecordId"]

SESSION_TABLE = "chat_session"
MESSAGE_TABLE = "chat_message"

# 26 Crockford base-32 characters, in either case; a first character above 7 would
# overflow 128 bits. The classes are spelled out and ASCII-only, never IGNORECASE:
# under it, KELVIN SIGN matches `K` and LONG S matches `s`, and a look-alike would
# reach the URL.
_ULID = r"[0-7][0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{25}"
_FORMS = re.compile(
    rf"(?:(?P<table>[A-Za-z_][A-Za-z0-9_]*):(?:(?P<a>{_ULID})|⟨(?P<b>{_ULID})⟩|`(?P<c>{_ULID})`)|(?P<bare>{_ULID}))",
    re.ASCII,
)
_ACCEPTED = "'<table>:<ULID>', '<table>:⟨<ULID>⟩', '<table>:`<ULID>`' or a bare 26-character ULID"


@attrs.frozen
class RecordId:
    """A record's ID: its table and its ULID (always upper case).

    Attributes:
        table: The table, such as `chat_session`.
        ulid: The 26-character ULID, upper case.
    """

    table: str
    ulid: str

    def __str__(self) -> str:
        return f"{self.table}:{self.ulid}"

    @classmethod
    def parse(cls, value: str, table: str | None = None) -> RecordId:
        """Parse a full record ID, an escaped one or (given `table`) a bare ULID.

        Args:
            value: `chat_session:01JD...`, `chat_session:⟨01JD...⟩`,
                ``chat_session:`01JD...` `` or the bare ULID, in either letter case.
            table: The table the ID must belong to. A bare ULID needs it.

        Returns:
            The parsed ID, its ULID upper-cased.

        Raises:
            ClannInvalidIdError: If `value` is not such an ID, or names another table.
            TypeError: If `value` is not a str.
        """
        what = f"a {table} ID" if table else "a record ID"
        if not isinstance(value, str):
            raise TypeError(f"expected {what} as a str, got {type(value).__name__}")
        match = _FORMS.fullmatch(value) if len(value) < 100 else None
        if match is None:
            raise ClannInvalidIdError(f"{_echo(value)} is not {what}; accepted: {_ACCEPTED}")
        found_table = match["table"] and match["table"].lower()
        if found_table is None:
            if table is None:
                raise ClannInvalidIdError(f"{_echo(value)} is a bare ULID: name its table, as in '<table>:{value}'")
            found_table = table
        elif table is not None and found_table != table:
            raise ClannInvalidIdError(f"{_echo(value)} is a {found_table} ID, not {what}; accepted: {_ACCEPTED}")
        ulid = match["a"] or match["b"] or match["c"] or match["bare"]
        return cls(found_table, ulid.upper())


def _echo(value: str) -> str:
    # Bounded, as the value may be a whole document passed by mistake; ascii(), so that a
    # look-alike (KELVIN SIGN for K) shows as what it is.
    text = ascii(value)
    return text if len(text) <= 80 else text[:77] + "..."
