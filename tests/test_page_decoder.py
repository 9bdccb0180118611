"""A page of messages read from its body (_page_decoder, then _parse): what json.loads and _parse give.

A page in the common form is decoded by msgspec, any other by json.loads; either
way a walk must see the same records, the same error, or the same refusal of a
body that is not JSON.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC
from typing import Any, TypeVar

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyclann import ChatMessage, Role
from pyclann._page_decoder import message_page as common_page
from pyclann._parse import FieldError, _message_page, _message_page_body
from tests import helpers
from tests.helpers import SESSION_ID
from tests.test_parse import _GOOD_TIMES, _messages

T = TypeVar("T")
_Outcome = tuple[str, Any]


def _outcome(read: Any, body: bytes) -> _Outcome:
    """What reading `body` gives: its records, IDs, times and cursor; the FieldError; or the JSON error's type."""
    try:
        items, ids, times, cursor = read(body)
    except FieldError as error:
        return "breaks the contract", str(error)
    except (ValueError, RecursionError) as error:
        return "not JSON", type(error).__name__
    assert all(isinstance(item, ChatMessage) for item in items)
    assert list(ids) == [item.id for item in items]
    assert times == [item.created_at for item in items]
    assert all(time.tzinfo is UTC for time in times)
    return "read", (items, [type(item.role) for item in items], cursor)


def _by_json(body: bytes) -> Any:
    return _message_page(json.loads(body), SESSION_ID)


def _by_body(body: bytes) -> Any:
    return _message_page_body(body, SESSION_ID)


def _text(value: Any, shadowed: dict[str, Any], ascii: bool) -> str:
    """JSON text of `value`; an object's keys in `shadowed` come twice, the shadowed value first."""
    if isinstance(value, dict):
        pairs = [*shadowed.items(), *value.items()]
        return "{" + ",".join(f"{json.dumps(key)}:{_text(item, {}, ascii)}" for key, item in pairs) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_text(item, shadowed, ascii) for item in value) + "]"
    return json.dumps(value, ensure_ascii=ascii)


@st.composite
def _common_messages(draw: st.DrawFn) -> dict[str, Any]:
    """A message in the common form: valid fields, of the session asked for unless now and then."""
    return {
        "id": f"chat_message:{helpers.ulid(draw(st.integers(1, 4)))}",
        "session": draw(st.sampled_from([SESSION_ID] * 9 + [f"chat_session:{helpers.ulid(9)}"])),
        "role": draw(st.sampled_from(["user", "assistant", "system", "tool", ""])),
        "content": draw(st.sampled_from(["Hello", "", "two\nlines", "é😀", "\u2028", "\x00"])),
        "created_at": draw(st.sampled_from(_GOOD_TIMES)),
    }


def _rarely(draw: st.DrawFn, usual: T, *others: T) -> T:
    """`usual` eleven times in twelve, else one of `others`."""
    return usual if draw(st.integers(0, 11)) else draw(st.sampled_from(others))


@st.composite
def _bodies(draw: st.DrawFn) -> bytes:
    """A page's body as a server might send it: mostly in the common form, now and then not, or not JSON."""
    messages = st.one_of(_common_messages(), _messages()) if draw(st.booleans()) else _common_messages()
    data = draw(st.lists(messages, max_size=5))
    page: dict[str, Any] = {"data": _rarely(draw, data, None, {}, "x")}
    more = _rarely(draw, draw(st.booleans()), None, "true", "missing")
    if more != "missing":
        page["has_more"] = more
    last = data[-1].get("id") if data and isinstance(data[-1], dict) else None
    last = _rarely(draw, last, None, helpers.MESSAGE_ID, 3, "missing")
    if last != "missing":
        page["last_id"] = last
    # An unknown field; "\udcff" stands for bytes that are not UTF-8 (in its name or value), put in below.
    unknown = [{}, {"first_id": None}, {"extra": [1, {"a": None}]}, {"note": "\udcff"}, {"\udcff": 0}]
    page.update(draw(st.sampled_from(unknown)))
    # A key given twice (json.loads keeps the last), a lone surrogate, NaN: JSON that msgspec reads otherwise.
    text = _text(page, _rarely(draw, {}, {"role": 1}, {"id": "x", "content": None}), ascii=draw(st.booleans()))
    text = _rarely(draw, text, text.replace('"Hello"', '"\\ud800"'), text.replace("null", "NaN"))
    text = _rarely(draw, text, text[: len(text) // 2], "[]", "", text + " x")
    body = text.encode(_rarely(draw, "utf-8", "utf-8-sig", "utf-16"), "surrogatepass")
    # Not UTF-8 (a byte never in it, an overlong "/"), and a surrogate encoded, which json.loads reads.
    return body.replace(b'"\\udcff"', draw(st.sampled_from([b'"\xff"', b'"\xc0\xaf"', b'"\xed\xa0\x80"'])))


@settings(max_examples=600, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(_bodies())
def test_a_page_read_from_its_body_is_what_json_loads_and_reading_it_give(body: bytes) -> None:
    assert _outcome(_by_body, body) == _outcome(_by_json, body)


def test_a_page_in_the_common_form_is_decoded_by_msgspec() -> None:
    data = [helpers.message(n, created_at=f"2026-11-26T09:05:0{n}Z") for n in range(1, 4)]
    data[1] = {**data[1], "role": "tool", "extra": {"nested": [1.5, None]}}
    body = json.dumps(helpers.message_page(data, has_more=True)).encode()
    common = common_page(body)
    assert common is not None
    columns, more, last = common
    assert columns[0] == tuple(item["id"] for item in data)
    assert columns[2] == ("user", "tool", "user")
    assert (more, last) == (True, data[-1]["id"])
    items, _, _, cursor = _by_body(body)
    assert [item.role for item in items] == [Role.USER, "tool", Role.USER]
    assert cursor == data[-1]["id"]


def test_a_page_msgspec_refuses_but_json_reads_is_read() -> None:
    lone = helpers.message(1, content="\ud800")  # a lone surrogate: JSON allows it, msgspec does not
    body = json.dumps(helpers.message_page([lone])).encode()
    assert common_page(body) is None
    items, _, _, cursor = _by_body(body)
    assert [item.content for item in items] == ["\ud800"]
    assert cursor is None


def test_a_page_whose_unknown_field_json_loads_cannot_hold_is_read() -> None:
    # 5,000 digits: valid JSON, past the int digits json.loads makes; msgspec skips the field unread.
    page = json.dumps(helpers.message_page([helpers.message(1)])).encode()
    body = page[:-1] + b', "size": ' + b"1" * 5000 + b"}"
    assert _outcome(_by_json, body) == ("not JSON", "ValueError")
    assert _outcome(_by_body, body) == _outcome(_by_body, page)
    assert _outcome(_by_body, page)[0] == "read"


def test_a_page_in_the_common_form_that_breaks_the_contract_names_what_is_wrong() -> None:
    elsewhere = f"chat_session:{helpers.ulid(9)}"
    body = json.dumps(helpers.message_page([helpers.message(1), helpers.message(2, session=elsewhere)])).encode()
    assert common_page(body) is not None
    assert _outcome(_by_body, body) == (
        "breaks the contract",
        f"item 1 of 'data': a message of {elsewhere!r}, not of {SESSION_ID!r}, the session asked for",
    )


def test_msgspec_is_imported_with_the_first_page_not_with_pyclann() -> None:
    code = "import sys, pyclann; print('msgspec' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout == "False\n"
