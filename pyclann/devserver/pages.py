"""Pages of a listing: at most `limit` records and at most 1 MiB, and the cursor of the next one.

A page ends early, with `has_more: true`, rather than pass 1 MiB; its first
record always fits (the largest message is under 800 KB as JSON). Each record
is serialized once, and the page is the records' bytes joined.

A sessions cursor is the walk's start (the time of the last write when its
first page was read), the last session's `updated_at` (as of then) and ULID,
and a tag of the listing it belongs to (its owner and tree), base64url without
padding: opaque to clients, `^[A-Za-z0-9_-]+$`, 122 characters. A cursor of
another listing is a 400. The 72-character cursors of earlier servers (no
start) and the 110-character ones of 2.1.0's first builds (no tag) are still
taken: a walk from the first reads each page as of its own time, as those
servers did.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Iterable
from typing import Any

from .problems import Problem

MAX_PAGE = 1 << 20
# The page's bytes besides its records: the envelope, with the longest cursor or IDs.
_ENVELOPE = 512
_TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z"
_POSITION = re.compile(rf"(?:({_TIME}) )?({_TIME}) ([0-7][0-9A-HJKMNP-TV-Z]{{25}})(?: ([0-9a-f]{{8}}))?", re.ASCII)
_NOT_OURS = "cursor: not a cursor of this listing; pass a page's next_cursor as it is, to the listing that gave it"


def listing_tag(created_by: str, tree: str | None) -> str:
    """A short tag of a listing (its owner and tree), so that a cursor is taken only by the listing that gave it."""
    return hashlib.blake2b(f"{created_by}\0{tree or ''}".encode(), digest_size=4).hexdigest()


def encode_cursor(as_of: str, updated_at: str, ulid: str, tag: str) -> str:
    return base64.urlsafe_b64encode(f"{as_of} {updated_at} {ulid} {tag}".encode()).rstrip(b"=").decode()


def decode_cursor(cursor: str, tag: str) -> tuple[str | None, tuple[str, str]]:
    """The walk's start (None in an earlier server's cursor) and `(updated_at, ulid)`; a 400 for anything else.

    Args:
        cursor: The cursor as the client sent it.
        tag: The `listing_tag` of the listing asked for; a cursor with another's is refused.
    """
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, ValueError):
        text = ""
    found = _POSITION.fullmatch(text)
    if found is None or (found[4] is not None and found[4] != tag):
        raise Problem("invalid-parameter", _NOT_OURS)
    return found[1], (found[2], found[3])


def session_page(sessions: Iterable[dict[str, Any]], limit: int, as_of: str, tag: str) -> bytes:
    """A SessionPage: up to `limit` of `sessions` (which may hold one more, to tell that more follow)."""
    items, records, has_more = _fill(sessions, limit)
    cursor = None
    if has_more:
        last = records[-1]
        cursor = encode_cursor(as_of, last["updated_at"], last["id"].partition(":")[2], tag)
    tail = {"has_more": has_more, "next_cursor": cursor}
    return _page(items, tail)


def message_page(messages: Iterable[dict[str, Any]], limit: int) -> bytes:
    """A MessagePage: up to `limit` of `messages` (which may hold one more, to tell that more follow)."""
    items, records, has_more = _fill(messages, limit)
    tail = {
        "has_more": has_more,
        "first_id": records[0]["id"] if records else None,
        "last_id": records[-1]["id"] if records else None,
    }
    return _page(items, tail)


def _fill(records: Iterable[dict[str, Any]], limit: int) -> tuple[list[bytes], list[dict[str, Any]], bool]:
    items: list[bytes] = []
    kept: list[dict[str, Any]] = []
    room = MAX_PAGE - _ENVELOPE
    for record in records:
        if len(kept) == limit:
            return items, kept, True
        item = json.dumps(record, ensure_ascii=False).encode()
        room -= len(item) + 2
        if room < 0 and kept:
            return items, kept, True
        items.append(item)
        kept.append(record)
    return items, kept, False


def _page(items: list[bytes], tail: dict[str, Any]) -> bytes:
    # Spaced as json.dumps spaces the records, so that the page reads as one document.
    page = b'{"data": [' + b", ".join(items) + b"], " + json.dumps(tail).encode()[1:]
    assert len(page) <= MAX_PAGE or len(items) == 1, "a page passed 1 MiB"
    return page
