"""Credentials a server echoed back, redacted from everything pyclann keeps or writes of its answer.

A server or a proxy may quote the request it got: in a header, in a problem's words,
in a body that is not JSON, in a malformed response that httpx2's parser then quotes
in its error. The token and cookies the request carried are replaced by `[redacted]`
wherever they appear: as sent, written with JSON escapes (`\\u0073k-...`), or cut
short at the end of a body kept only in part, percent-encoded (a URL quoting it), or
in UTF-16 or UTF-32 (which `json.loads`, and so `ErrorResponse.json()`, reads too).
The credentials are those of every request of the exchange, redirects included: a
cross-origin hop drops the token, but the server may still quote it from the first.
Base64 and other encodings a server might apply are not looked for.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Final
from urllib.parse import quote

import httpx2

REDACTED: Final = b"[redacted]"
_REDACTED_TEXT: Final = REDACTED.decode()
# The shortest start of a credential redacted where a body was cut: shorter ones are too common to mean it.
_SHORTEST_CUT: Final = 4
_SHORTEST_SECRET: Final = 8
# A JSON string, escapes and all: read one at a time, so no depth of nesting and no error elsewhere in
# the body (NaN, a BOM, a lone surrogate) keeps a credential written with escapes from being found.
_STRING: Final = rb'"(?:[^"\\]|\\.)*"'


def secrets(response: httpx2.Response) -> list[bytes]:
    """The credentials the requests of `response`'s exchange carried, redirects included, longest first."""
    try:
        requests = [earlier.request for earlier in response.history] + [response.request]
    except RuntimeError:  # a response made by hand, answering no request
        return []
    return _carried(requests)


def secrets_of_error(error: BaseException, sent: httpx2.Request | None) -> list[bytes]:
    """The credentials of the request pyclann `sent`, and of the one an httpx2 error is about (a redirect's)."""
    try:
        request = error.request if isinstance(error, httpx2.RequestError) else None
    except RuntimeError:  # raised without its request
        request = None
    return _carried(found for found in (sent, request) if found is not None)


def _carried(requests: Iterable[httpx2.Request]) -> list[bytes]:
    found: set[bytes] = set()
    for request in requests:
        for name, value in request.headers.raw:
            name = name.lower()
            if name in (b"authorization", b"proxy-authorization"):
                found.update((value, value.partition(b" ")[2].strip()))  # "Bearer <token>", and the token
            elif name == b"cookie":
                # "a=1; b=2", the older "a=1, b=2", and a cookie without a name: each value on its own.
                for part in re.split(rb"[;,]", value):
                    name_, equals, cookie = part.partition(b"=")
                    cookie = (cookie if equals else name_).strip()
                    found.update((cookie, cookie.strip(b'"')))  # a quoted value is echoed with or without quotes
    # A value shorter than 8 characters (a cookie `lang=en`, a test's token "t") is no credential worth the
    # name, and looking for it would blank every "t" or "en" of what a server or httpx2 says.
    return sorted((secret for secret in found if len(secret) >= _SHORTEST_SECRET), key=len, reverse=True)


def text(value: str, found: list[bytes]) -> str:
    """`value` with each credential in `found` replaced (they are ASCII, so they read the same in any decoding)."""
    for secret in found:
        value = value.replace(secret.decode("ascii", "replace"), _REDACTED_TEXT)
    return value


def raw(value: bytes, found: list[bytes]) -> bytes:
    """`value` (a header's, as sent) with each credential in `found` replaced where it stands as sent."""
    for secret in found:
        value = value.replace(secret, REDACTED)
    return value


def body(value: bytes, found: list[bytes]) -> bytes:
    """`value` with each credential replaced: as sent, in the forms the module names, or cut short at its end."""
    if not found:
        return value
    for secret in found:
        for form in _forms(secret):
            value = value.replace(form, REDACTED)
    if b"\\" in value:  # JSON may write a credential with escapes, which decoding it would undo
        value = re.sub(_STRING, lambda string: _string(string[0], found), value, flags=re.DOTALL)
    for secret in found:
        for size in range(len(secret) - 1, _SHORTEST_CUT - 1, -1):
            if value.endswith(secret[:size]):
                return value[:-size] + REDACTED
    return value


def _forms(secret: bytes) -> set[bytes]:
    text_ = secret.decode("ascii", "replace")
    wide = {text_.encode(codec) for codec in ("utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")}
    return {secret, quote(secret, safe="").encode(), quote(secret).encode(), *wide}


def _string(string: bytes, found: list[bytes]) -> bytes:
    """A JSON string with a credential in what it decodes to, written again with it redacted."""
    try:
        decoded = json.loads(string)  # as `ErrorResponse.json()` would read it
    except ValueError:
        return string
    cleaned = text(decoded, found)
    return string if cleaned == decoded else json.dumps(cleaned).encode()


def chain(error: BaseException, found: list[bytes]) -> None:
    """Redact the words of `error` and of every error below it (httpx2's, httpcore2's, h11's quote the wire)."""
    if not found:
        return
    seen: set[int] = set()
    link: BaseException | None = error
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        link.args = tuple(_arg(arg, found) for arg in link.args)
        link = link.__cause__ or link.__context__


def _arg(arg: object, found: list[bytes]) -> object:
    if isinstance(arg, str):
        return text(arg, found)
    if isinstance(arg, bytes | bytearray):
        return body(bytes(arg), found)
    return arg
