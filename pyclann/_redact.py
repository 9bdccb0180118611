"""Credentials a server echoed back, redacted from everything pyclann keeps or writes of its answer.

A server or a proxy may quote the request it got: in a header, in a problem's words,
in a body that is not JSON, in a malformed response that httpx2's parser then quotes
in its error. The token and cookies the request carried are replaced by `[redacted]`
wherever they appear: as sent, written with JSON escapes (`\\u0073k-...`), or cut
short at the end of a body kept only in part. The credentials are those of every
request of the exchange, redirects included: a cross-origin hop drops the token, but
the server may still quote it from the first.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

import httpx2

from . import _parse

REDACTED: Final = b"[redacted]"
_REDACTED_TEXT: Final = REDACTED.decode()
# The shortest start of a credential redacted where a body was cut: shorter ones are too common to mean it.
_SHORTEST_CUT: Final = 4


def secrets(response: httpx2.Response) -> list[bytes]:
    """The credentials the requests of `response`'s exchange carried, redirects included, longest first."""
    try:
        requests = [earlier.request for earlier in response.history] + [response.request]
    except RuntimeError:  # a response made by hand, answering no request
        return []
    return _carried(requests)


def secrets_of_error(error: BaseException) -> list[bytes]:
    """The credentials of the request an httpx2 error is about; none if it names no request."""
    try:
        request = error.request if isinstance(error, httpx2.RequestError) else None
    except RuntimeError:  # raised without its request
        request = None
    return [] if request is None else _carried([request])


def _carried(requests: Iterable[httpx2.Request]) -> list[bytes]:
    found: set[bytes] = set()
    for request in requests:
        for name, value in request.headers.raw:
            name = name.lower()
            if name in (b"authorization", b"proxy-authorization"):
                found.update((value, value.partition(b" ")[2].strip()))  # "Bearer <token>", and the token
            elif name == b"cookie":
                for part in value.split(b";"):
                    cookie = part.partition(b"=")[2].strip()
                    found.update((cookie, cookie.strip(b'"')))  # a quoted value is echoed with or without quotes
    found.discard(b"")
    return sorted(found, key=len, reverse=True)


def text(value: str, found: list[bytes]) -> str:
    """`value` with each credential in `found` replaced (they are ASCII, so they read the same in any decoding)."""
    for secret in found:
        value = value.replace(secret.decode("ascii", "replace"), _REDACTED_TEXT)
    return value


def body(value: bytes, found: list[bytes]) -> bytes:
    """`value` with each credential replaced: as sent, written with JSON escapes, or cut short at its end."""
    if not found:
        return value
    for secret in found:
        value = value.replace(secret, REDACTED)
    if b"\\" in value:  # JSON may write a credential with escapes, which decoding it would undo
        value = _json(value, found)
    for secret in found:
        for size in range(len(secret) - 1, _SHORTEST_CUT - 1, -1):
            if value.endswith(secret[:size]):
                return value[:-size] + REDACTED
    return value


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


def _json(value: bytes, found: list[bytes]) -> bytes:
    try:
        document = _parse.document(value)
        cleaned = _cleaned(document, found)
    except (ValueError, RecursionError):
        return value  # not JSON (or cut short, or nested past reading): its escapes mean nothing to a reader
    return value if cleaned == document else _parse.encoded(cleaned)


def _cleaned(node: Any, found: list[bytes]) -> Any:
    if isinstance(node, str):
        return text(node, found)
    if isinstance(node, list):
        return [_cleaned(item, found) for item in node]
    if isinstance(node, dict):
        return {text(key, found): _cleaned(item, found) for key, item in node.items()}
    return node
