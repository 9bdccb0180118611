"""A page of messages in its common form, decoded from the body in C by msgspec, for `_parse` to check.

msgspec reads the body straight into the five columns `_parse` checks, a third of what
`json.loads` costs to make dicts that would be taken apart again. It decides no more
than the shapes: each message an object with five strings (others ignored, as `_parse`
ignores them), `has_more` a boolean, `last_id` a string or null. Every value is then
checked by `_parse`, as a page `json.loads` decoded is.

Anything else is None here, and `_parse` reads the body with `json.loads`, naming what
is wrong: a field missing or of another type, and JSON that msgspec refuses where
`json.loads` takes it (a lone surrogate, a byte order mark, UTF-16, NaN). Where both take
a body they read the same strings, a repeated key's last value included. msgspec skips
unknown fields without decoding them, so it also reads what `json.loads` cannot hold
(an integer of more than `sys.get_int_max_str_digits()` digits, nesting a few levels
deeper): JSON all the same. Not UTF-8 is not JSON: it is refused here first.

Imported with the first page read, not with pyclann: msgspec costs an import that a
program that never lists messages need not pay.
"""

from __future__ import annotations

from operator import attrgetter
from typing import TypeAlias

import msgspec

Columns: TypeAlias = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]]
"""A page's IDs, sessions, roles, contents and times, each in the order of the page."""


class _Message(msgspec.Struct, gc=False):  # strings only: no cycle for the collector to look for
    id: str
    session: str
    role: str
    content: str
    created_at: str


class _MessagePage(msgspec.Struct, gc=False):
    data: list[_Message]
    has_more: bool
    last_id: str | None


_PAGE = msgspec.json.Decoder(_MessagePage)
_FIELDS = [attrgetter(name) for name in _Message.__struct_fields__]


def message_page(body: bytes) -> tuple[Columns, bool, str | None] | None:
    """A page's columns, its `has_more` and its `last_id`; None when it is not in the common form."""
    if not body.isascii():
        try:  # msgspec checks the UTF-8 of the strings it keeps, not of those it skips: json.loads checks all
            body.decode("utf-8", "surrogatepass")  # as json.loads decodes bytes
        except UnicodeDecodeError:
            return None
    try:
        page = _PAGE.decode(body)
    except (ValueError, RecursionError):  # msgspec.DecodeError is a ValueError, as is a UnicodeDecodeError
        return None
    # A column at a time, read in C: tuples of a record's fields would be ten thousand more for the collector.
    ids, sessions, roles, contents, times = (tuple(map(field, page.data)) for field in _FIELDS)
    return (ids, sessions, roles, contents, times), page.has_more, page.last_id
