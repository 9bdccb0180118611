"""Reading a response body in bounded memory and time, decompressing it as it comes.

httpx2 would decompress a whole chunk at once (a 0.4 MB gzip bomb becomes 400 MB)
and read for as long as the server drips bytes. Here the raw chunks are fed in
one at a time: decompressed output is capped, and the attempt's deadline is
checked between chunks.
"""

from __future__ import annotations

import time
import zlib

import httpx2

from ._failures import BodyError, Late
from ._printable import SHORT, quoted

ERROR_BODY_LIMIT = 64 * 1024
"""An error response's body is read up to 64 KiB; a problem document is far smaller."""


class Body:
    """The body of one response, fed its raw chunks by the client reading it.

    Args:
        response: The response, its headers read, its body not.
        limit: The most decompressed bytes to keep.
        strict: Raise `BodyError` past `limit` or for a body that does not decode (a 2xx's body
            must be whole); else keep what fits and decodes (an error's body only adds detail).
        deadline: A `time.monotonic()` value past which `Late` is raised; None for none.
        decoded: The chunks are decoded already, whatever the response's `Content-Encoding`.
    """

    def __init__(
        self, response: httpx2.Response, limit: int, *, strict: bool, deadline: float | None, decoded: bool = False
    ) -> None:
        self._response = response
        self._parts: list[bytes] = []
        self._size = 0
        self._limit = limit
        self._strict = strict
        self._deadline = deadline
        self._full = False
        self._raw_fallback = False
        encoding = "" if decoded else response.headers.get("content-encoding", "")
        coding = encoding.strip().lower()
        if coding in ("", "identity"):
            self._decoder: zlib._Decompress | None = None
        elif coding in ("gzip", "x-gzip"):
            self._decoder = zlib.decompressobj(zlib.MAX_WBITS | 16)
        elif coding == "deflate":
            self._decoder = zlib.decompressobj()
            # Servers differ: zlib-wrapped, as HTTP says, or raw deflate, as some send.
            self._raw_fallback = True
        else:
            self._decoder = None
            self._fail(f"the response's Content-Encoding {quoted(encoding, SHORT)} is not one pyclann reads")

    def feed(self, chunk: bytes) -> None:
        if self._deadline is not None and time.monotonic() > self._deadline:
            raise Late("the response body was still arriving when the attempt's time ran out")
        if self._full or not chunk:
            return
        room = self._limit - self._size
        if self._decoder is not None:
            try:
                chunk = self._decompress(chunk, room)
            except zlib.error as error:
                self._fail(f"the response body does not decompress: {error}")
                return
            over = len(chunk) > room or bool(self._decoder.unconsumed_tail)
        else:
            over = len(chunk) > room
        if over:
            if self._strict:
                raise BodyError(self._response, f"the response body is over max_response_size ({self._limit} bytes)")
            chunk, self._full = chunk[:room], True
        self._parts.append(chunk)
        self._size += len(chunk)

    @property
    def full(self) -> bool:
        """Whether no more is kept: the reader stops there, and the connection is closed, not reused."""
        return self._full

    def content(self) -> bytes:
        return b"".join(self._parts) if len(self._parts) != 1 else self._parts[0]

    def _decompress(self, chunk: bytes, room: int) -> bytes:
        assert self._decoder is not None
        try:
            # One byte over the room, so that "exactly full" and "over" can be told apart.
            return self._decoder.decompress(chunk, room + 1)
        except zlib.error:
            if not (self._raw_fallback and not self._parts):
                raise
            self._raw_fallback = False
            self._decoder = zlib.decompressobj(-zlib.MAX_WBITS)
            return self._decompress(chunk, room)

    def _fail(self, detail: str) -> None:
        if self._strict:
            raise BodyError(self._response, detail)
        self._full = True  # an error's body: keep what was read, ignore the rest
