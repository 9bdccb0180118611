"""Reading a request off the wire, within the contract's limits, in time linear in its size.

* The request target is at most 16 KiB (414) and the header section at most
  64 KiB (431), checked on the head uvicorn hands over. uvicorn (h11) holds at
  most `server.MAX_HEAD` of a head that has not ended, so a longer one never
  reaches the app: it is refused by uvicorn itself (see `server`).
* The body is at most 1 MiB: a larger `Content-Length` is refused before any
  of the body is held, and a chunked body is counted as it streams and refused
  as soon as it passes the limit, so that no more than the limit is ever held.
* The body must arrive within `BODY_TIMEOUT` seconds of when its reading starts,
  else 408 and the connection is closed: a client that sends a head and then
  a trickle, or nothing, does not hold its connection for ever.
* JSON is at most 32 levels deep, measured before it is parsed, so that a deep
  body meets a 400 and not Python's recursion limit.
* A query parameter given twice is refused, found with one pass over the query.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any
from urllib.parse import unquote_plus

from .problems import Problem, echo, some

Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]

MAX_BODY = 1 << 20
# openapi.yaml's limits on a request's head: the target (path and query), and the
# header section: its field lines, each counted as `name: value` and CRLF (see
# `check_head`), and not the blank line that ends them, which every request has.
MAX_TARGET = 16 << 10
MAX_HEADER_SECTION = 64 << 10
# The most of a refused body that is read and dropped so that its sender gets the 413.
DRAIN_LIMIT = 8 << 20
MAX_DEPTH = 32
BODY_TIMEOUT = 30.0
JSON = "application/json"
# A Content-Length the server can hold: httptools lets leading zeros through, and
# `int()` refuses more than 4,300 digits with a ValueError.
_LENGTH = re.compile(r"[0-9]{1,18}", re.ASCII)

# A control character in a field value (RFC 9110 §5.5 allows HTAB alone), and the fields that frame a body.
_CONTROL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_FRAMING = {b"content-length": 1, b"transfer-encoding": 2}
# Headers whose every copy would be read: a second copy makes the request ambiguous.
_SINGLE_HEADERS = frozenset({"authorization", "content-type", "content-length", "idempotency-key"})
# A JSON string, or what is left of the text after an unterminated one. Everything
# after the opening quote is optional, so a match can never fail and be retried
# from a later quote, which would take time quadratic in the length of the text.
_STRING = re.compile(r'"[^"\\]*(?:\\.?[^"\\]*)*"?', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_INNERMOST = re.compile(r"\[\]|\{\}")
# An escaped UTF-16 surrogate: the only way JSON text can smuggle a lone one in.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def check_head(raw_path: bytes, query: bytes, fields: Iterable[tuple[bytes, bytes]]) -> None:
    """Refuse a head the contract does not take, before anything else is read of the request.

    A 414 for a target over `MAX_TARGET` bytes; a 431 for a header section over
    `MAX_HEADER_SECTION`; a 400 that closes the connection for a control character
    in a field value (RFC 9110 §5.5), or for a body framed both by Content-Length and
    Transfer-Encoding (RFC 9112 §6.3: a recipient may read either, so a proxy in
    front may have read the other). uvicorn (h11) lets both through.

    The target is the path as sent and, after a `?`, the query. A field line counts as
    `name: value` and CRLF whatever the spacing around its value, which uvicorn has
    already dropped (RFC 9110 §5.5): the limit is on what the request says.
    """
    target = len(raw_path) + (len(query) + 1 if query else 0)
    if target > MAX_TARGET:
        raise Problem("uri-too-long", f"the request target is {target} bytes; at most {MAX_TARGET} are accepted")
    fields = list(fields)
    section = sum(len(name) + len(value) + 4 for name, value in fields)
    if section > MAX_HEADER_SECTION:
        detail = f"the header section is {section} bytes; at most {MAX_HEADER_SECTION} are accepted"
        raise Problem("headers-too-large", detail)
    framing = 0
    for name, value in fields:
        if _CONTROL.search(value):
            detail = (
                f"the request is not valid HTTP/1.1: header {echo(name.decode('latin-1'))} holds a control character"
            )
            raise Problem("malformed-request", detail, headers={"Connection": "close"})
        framing |= _FRAMING.get(name.lower(), 0)
    if framing == 3:
        detail = "the request is not valid HTTP/1.1: its body is framed both by Content-Length and Transfer-Encoding"
        raise Problem("malformed-request", detail, headers={"Connection": "close"})


def headers_of(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """The request's headers by lower-case name; a Problem for a repeated one the server reads."""
    headers: dict[str, str] = {}
    for name_bytes, value_bytes in raw:
        name = name_bytes.decode("latin-1").lower()
        if name in headers and name in _SINGLE_HEADERS:
            raise Problem("invalid-parameter", f"header {name} given more than once")
        headers[name] = value_bytes.decode("latin-1")
    return headers


def parse_query(raw: bytes) -> dict[str, str]:
    """The query string's parameters by name; a Problem for one given twice or not UTF-8."""
    query: dict[str, str] = {}
    repeated: dict[str, None] = {}
    for piece in raw.split(b"&"):
        if not piece:
            continue
        name_bytes, _, value_bytes = piece.partition(b"=")
        try:
            name = unquote_plus(name_bytes.decode("ascii"), errors="strict")
            value = unquote_plus(value_bytes.decode("ascii"), errors="strict")
        except UnicodeDecodeError:
            raise Problem("invalid-parameter", "the query string is not percent-encoded UTF-8") from None
        if name in query:
            repeated[name] = None
        query[name] = value
    if repeated:
        raise Problem("invalid-parameter", f"query parameter(s) given more than once: {some(list(repeated))}")
    return query


async def read_body(
    receive: Receive, headers: dict[str, str], limit: int = MAX_BODY, time_limit: float = BODY_TIMEOUT
) -> bytes:
    """The whole body, or a 413 once it is known to be over `limit` bytes, holding at most `limit` of it.

    A client such as httpx2 sends its whole body before it reads the answer, and
    would meet a reset connection instead of the 413 if the server closed on it
    mid-upload. So a body up to `DRAIN_LIMIT` is read to its end and dropped,
    and the 413 keeps the connection; past that, or when the client waits for
    `100 Continue` before sending, the 413 comes at once and closes the connection.
    Reading, and dropping, stops after `time_limit` seconds with a 408 that closes the connection.
    """
    try:
        async with asyncio.timeout(time_limit):
            return await _read_body(receive, headers, limit)
    except TimeoutError:
        detail = f"the body did not arrive within {time_limit:g} s"
        raise Problem("request-timeout", detail, headers={"Connection": "close"}) from None


async def _read_body(receive: Receive, headers: dict[str, str], limit: int) -> bytes:
    declared = headers.get("content-length")
    size = int(declared) if declared is not None and _LENGTH.fullmatch(declared) else None
    if size is not None and size > limit:
        detail = f"the body is {size} bytes; at most {limit} are accepted"
        if size > DRAIN_LIMIT or headers.get("expect", "").lower() == "100-continue":
            raise _too_large(detail, close=True)
        await _drain(receive, DRAIN_LIMIT)
        raise _too_large(detail, close=False)
    chunks: list[bytes] = []
    received = 0
    more = True
    while more:
        chunk, more = await _next_chunk(receive)
        received += len(chunk)
        if received > limit:
            detail = f"the body is over {limit} bytes"
            drained = await _drain(receive, DRAIN_LIMIT - received) if more else True
            raise _too_large(detail, close=not drained)
        chunks.append(chunk)
    return b"".join(chunks)


async def _next_chunk(receive: Receive) -> tuple[bytes, bool]:
    message = await receive()
    if message["type"] != "http.request":
        # The client went away; nothing will read the answer.
        raise Problem("malformed-request", "the client disconnected before sending the whole body")
    return message.get("body", b""), bool(message.get("more_body", False))


async def _drain(receive: Receive, budget: int) -> bool:
    """Read and drop the rest of a body; whether it ended within `budget` bytes."""
    more = True
    while more:
        chunk, more = await _next_chunk(receive)
        budget -= len(chunk)
        if budget < 0:
            return False
    return True


def _too_large(detail: str, *, close: bool) -> Problem:
    # Closing spares the server the rest of an upload it has refused.
    return Problem("body-too-large", detail, headers={"Connection": "close"} if close else {})


def parse_json(body: bytes, content_type: str | None) -> Any:
    """The JSON value of a request body; a 400 `malformed-request` if it is not one we accept."""
    media_type = (content_type or "").partition(";")[0].strip().lower()
    if media_type != JSON:
        raise Problem("malformed-request", f"the body must be {JSON}, got {echo(media_type or 'no content type')}")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Problem("malformed-request", f"the body is not UTF-8 (byte {error.start})") from None
    wrong = nesting_problem(text, MAX_DEPTH)
    if wrong is not None:
        raise Problem("malformed-request", wrong)
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except ValueError as error:
        raise Problem("malformed-request", f"the body is not valid JSON: {str(error)[:120]}") from None
    if _SURROGATE_ESCAPE.search(text):
        try:
            # A lone surrogate decodes from a JSON escape but is not text: it cannot be stored or sent back.
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise Problem("malformed-request", "the body is not valid JSON: it holds a lone surrogate") from None
    return value


def nesting_problem(text: str, limit: int) -> str | None:
    """What is wrong with how JSON text nests arrays and objects, if it is deeper than `limit` or unbalanced.

    Strings are dropped and only brackets kept; each pass then removes every
    innermost pair, so balanced brackets vanish in exactly as many passes as
    they are deep. Brackets that stop shrinking do not pair up, which JSON's
    always do. At most `limit` passes over at most the body: linear, and no
    recursion, so the parser that runs next never meets a deep body.
    """
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    for _ in range(limit):
        if not brackets:
            return None
        brackets, removed = _INNERMOST.subn("", brackets)
        if not removed:
            return "the body is not valid JSON: its brackets do not pair up"
    return f"the body is JSON nested more than {limit} levels deep" if brackets else None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")
