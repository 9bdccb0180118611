"""Text pyclann writes (an error's message, a log line), made printable on any stream and clipped.

Much of what an error says came from the server or the wire: a problem's detail,
an `X-Request-Id`, a header's value, a piece of the body, an exception httpx2
raised about them. Any of it may hold what a stream cannot take (a lone
surrogate, which no encoder takes; a letter an ASCII stream cannot encode) or
should not be shown as it is (a control character, a NUL, a bidi override that
reorders the rest of the line, a newline that forges a log line), and any of it
may be very long. `printable` is the one place it all goes through: every
character outside printable ASCII is written as a Python escape (`\\xe9`,
`\\u202e`, `\\udc80`), and text beyond a limit is cut, saying how long it was.
The values themselves (`error.detail`, `error.body`, a record's fields) stay as
the server sent them; only what pyclann writes about them is escaped.
"""

from __future__ import annotations

from typing import Final

DETAIL: Final = 500
"""The most characters of a problem's detail (or of what was wrong) an error's message shows."""
SHORT: Final = 100
"""The most characters of a request ID or a header's value a message shows."""

# The C0 controls and DEL are ASCII, so `backslashreplace` alone would pass them through.
_CONTROLS: Final = {code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F)}
_ELLIPSIS: Final = "..."


def printable(text: str, limit: int = DETAIL) -> str:
    """`text`, each character outside printable ASCII escaped, at most `limit` characters long.

    Args:
        text: Anything: a server's words, a header's value, an exception's message.
        limit: The most characters returned; a longer text is cut (never inside an escape)
            and ends with `...`, then the length of the whole, as `(60000 characters)`.

    Returns:
        Text that any stream can print, whatever its encoding, on one line.
    """
    if len(text) <= limit and text.isascii() and text.isprintable():  # most text: nothing to do
        return text
    # Escaping only lengthens a character, so no more than `limit` of them can be shown.
    shown = _escaped(text[:limit])
    if len(text) <= limit and len(shown) <= limit:
        return shown
    said = f"{_ELLIPSIS} ({len(text)} characters)"
    room = max(limit - len(said), 0)
    kept: list[str] = []
    used = 0
    for char in text[:room]:
        piece = _escaped(char)
        if used + len(piece) > room:
            break
        kept.append(piece)
        used += len(piece)
    return "".join(kept) + said


def quoted(value: object, limit: int = DETAIL) -> str:
    """`value` as `repr` writes it, made printable, for an error that echoes what it was given.

    A string longer than `limit` is cut to its first `limit` characters, then says its whole
    length: the value's own, not its repr's, which adds quotes and escapes. Anything else is
    clipped as `printable` clips it.
    """
    if not isinstance(value, str):
        return printable(repr(value), limit)
    if len(value) <= limit:
        return escaped(repr(value))
    return f"{escaped(repr(value[:limit]))}{_ELLIPSIS} ({len(value)} characters)"


def escaped(text: str) -> str:
    """`text`, each character outside printable ASCII escaped, whole: for a repr, which shows all it has."""
    return text if text.isascii() and text.isprintable() else _escaped(text)


def _escaped(text: str) -> str:
    # backslashreplace writes a lone surrogate as \udc80 too, where "replace" would hide it.
    return text.translate(_CONTROLS).encode("ascii", "backslashreplace").decode("ascii")
