"""One HTTP/1.1 connection: uvicorn's httptools protocol, with the deadlines and limits it lacks.

uvicorn reads a request's head with no deadline and, on httptools, with no
size limit, and answers what httptools cannot parse with a `text/plain` 400 of
its own. This protocol class, given to uvicorn as `Config(http=...)`, adds:

* A deadline for each request's head: a connection must finish it (request
  line and header fields) within `Limits.head_timeout` seconds of opening, or
  of its previous answer. Past it, a connection that had begun a request is
  answered 408; one that had sent nothing is closed. (The body's deadline is
  the app's, in `wire.read_body`; an idle connection's is uvicorn's
  `timeout_keep_alive`.)
* Limits on the head: the request target at most `MAX_TARGET` bytes (414), the
  header section at most `MAX_HEADER_SECTION` (431). The parser is never fed
  more of an unfinished head than the two limits and a little more, so a
  200 MB header costs the server no more memory than a short one.
* A limit on open connections (uvicorn's `limit_concurrency`), kept when a
  connection opens rather than at each request's head as uvicorn would (which
  counts half-open connections, so that a few hundred of them answer every
  other client 503). A connection past the limit closes one that is only
  waiting, lingering ones first, then the one that has waited longest for a
  request's head: a client that sends its request at once never waits, so a
  slow one is the one to lose. Only when every connection has a request in
  progress is the new one answered 503.
* Trailers dropped, as RFC 9110 §6.5.1 lets a recipient do: uvicorn would add
  them to the request's headers while its handler runs, without limit. What a
  body's framing may carry without a byte of body (a trailer section, a chunk
  line) is held to `MAX_HEADER_SECTION` too (431): httptools holds a field
  until it ends, so an endless one would fill memory.
* Upgrade ignored, as RFC 9110 §7.8 lets a server that takes none do. httptools
  treats a request with `Connection: upgrade` and `Upgrade` (or any CONNECT) as
  the end of HTTP on the connection: it skips the request's body, and what
  follows is no longer parsed as this request's. Here the request keeps its
  body, framed by its Content-Length or Transfer-Encoding like any other, and
  the connection goes on with the request after it.
* problem+json with an `X-Request-Id`, logged in the app's format, for every
  answer made here: a request httptools refuses (an unknown method, a byte
  that is not ASCII in the target, a bad character in a header, a bad
  Content-Length, Content-Length with Transfer-Encoding), and the answers above. The
  connection is then closed, and what its client still sends is read and
  dropped for a moment (a lingering close), so that a client still sending
  reads the answer instead of a reset.

Answers still made below the app, and why they are not shaped: `100 Continue`
is an interim response (the request's final answer carries its X-Request-Id);
a connection closed for being idle, or to make room for another, is closed
without an answer, as no request is waiting for one; uvicorn's own 500, for an
app that failed to answer, cannot happen with `app.ChatApp`, which answers
every request it is given.

Why a subclass of uvicorn's httptools protocol, and not h11 with
`h11_max_incomplete_event_size`: h11 would bound the head, but it costs time
that the 1 ms budget of an append cannot spare (`python -m bench.devserver`:
1,226 appends a second on h11, 1,450 on httptools with this class, which is
within 2% of httptools without it), and h11's refusals are uvicorn's
`text/plain` too. The subclass relies on uvicorn's callbacks and on its
request cycle's state (`more_body`, `response_started`, `response_complete`,
`disconnected`, `message_event`), which this package's tests exercise on the
uvicorn that `requirements-dev.txt` pins.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

import httptools
from ulid import ULID
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

from .problems import PROBLEM_JSON, Problem

log = logging.getLogger("pyclann.devserver")

# openapi.yaml's limits on a request's head: the target (path and query), and the
# header section: its field lines, each counted as `name: value` and CRLF (see
# `header_section_size`), and not the blank line that ends them, which every
# request has and the contract does not count.
MAX_TARGET = 16 << 10
MAX_HEADER_SECTION = 64 << 10
# The most of an unfinished head the parser is fed: both limits, the method and
# version, and the blank line. Past it, the answer is 414 or 431 without reading more.
_MAX_HEAD = MAX_TARGET + MAX_HEADER_SECTION + 64
# After an answer made here, what the client still sends is dropped, for at most
# this long and this much, before the connection closes.
_LINGER_SECONDS = 2.0
_LINGER_BYTES = 1 << 20
_MAX_LOGGED_TARGET = 200
# The fields that frame a request's body, by the lower-case names uvicorn gives them.
_FRAMING = (b"content-length", b"transfer-encoding")
# File descriptors left for the database, the listening socket, the event loop
# and the standard streams when the connection limit is taken from RLIMIT_NOFILE.
_SPARE_DESCRIPTORS = 64


def default_max_connections() -> int:
    """The most connections to hold: 1,000, or fewer if this process may not open that many files."""
    try:
        import resource
    except ImportError:  # Windows
        return 1000
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 1000
    return max(16, min(1000, soft - _SPARE_DESCRIPTORS))


def header_section_size(fields: list[tuple[bytes, bytes]]) -> int:
    """The size `MAX_HEADER_SECTION` limits: each field line as `name: value` and CRLF.

    The value is the field value of RFC 9110 §5.5, without the white space
    around it, so `name:value` and `name:  value ` count as `name: value` does:
    the limit is on what the request says, not on how it spaces it. (httptools
    drops the white space before a value, not after. The bytes fed to the
    parser are bounded apart, by `_MAX_HEAD`.)
    """
    return sum(len(name) + len(value.rstrip(b" \t")) + 4 for name, value in fields)


@dataclass(frozen=True)
class Limits:
    """The server's deadlines, in seconds, and its limit on connections.

    Attributes:
        head_timeout: For a request's head, from the connection's opening or its previous answer.
        body_timeout: For a request's body, from when the app starts to read it (see `wire.read_body`).
        keep_alive: How long an idle connection is kept (uvicorn's `timeout_keep_alive`).
        graceful_shutdown: How long a stopping server waits for requests in progress
            (uvicorn's `timeout_graceful_shutdown`); then it cancels them.
        max_connections: The most connections held open (uvicorn's `limit_concurrency`).
    """

    head_timeout: float = 10.0
    body_timeout: float = 30.0
    keep_alive: int = 5
    graceful_shutdown: int = 5
    max_connections: int = field(default_factory=default_max_connections)


class _Refused(Exception):
    """Raised in a parser callback to stop parsing; the answer is in `ClannProtocol._refusal`."""


class ClannProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, with deadlines and limits for the head and for connections.

    Use `protocol_class`, which gives each server its own limits and its own
    record of the connections that a new one may close.
    """

    limits: ClassVar[Limits] = Limits()
    # Connections with nothing in progress, each in the order it began to wait:
    # those answered here and lingering, and those waiting for a request's head.
    lingering: ClassVar[dict[ClannProtocol, None]] = {}
    waiting: ClassVar[dict[ClannProtocol, None]] = {}
    warned: ClassVar[float] = 0.0  # when the limit on connections was last logged: at most once a second

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        # The limit is kept in `connection_made`; uvicorn's own check, at each head, is turned off.
        self.max_connections = self.limit_concurrency
        self.limit_concurrency = None
        self._reading_head = True  # from a request's end (or the connection's start) to the next head's end
        self._began = False  # whether a byte of the next request has arrived
        self._head_bytes = 0
        self._head_timer: asyncio.TimerHandle | None = None
        self._linger_timer: asyncio.TimerHandle | None = None
        self._linger_left = _LINGER_BYTES
        self._refusal: Problem | None = None  # the answer of a callback that raised `_Refused`
        self._deferred: Problem | None = None  # an answer that waits for the answers before it
        self._replaying = False  # while the head of `_parse_past_upgrade` is parsed
        self._framing_bytes = 0  # read in a body since its last byte of body or chunk
        self._trailer_bytes = 0  # the request's trailer section, counted as `header_section_size` counts
        self._method = "-"
        self._since = time.perf_counter()
        self.url = b""  # uvicorn sets it when a request begins; an answer made before then logs no target

    # -- the connection's life --------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if self.max_connections is not None and len(self.connections) > self.max_connections:
            idle = next(iter(self.lingering), None) or next(iter(self.waiting), None)
            if idle is None:
                detail = f"the server holds {self.max_connections} connections, each with a request in progress"
                self._answer(Problem("unavailable", detail, headers={"Retry-After": "1"}))
                return
            if time.monotonic() - type(self).warned > 1:
                type(self).warned = time.monotonic()
                log.warning("%d connections open, the limit: closing idle ones to make room", self.max_connections)
            idle._close()
        self._wait_for_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_waiting()
        self.lingering.pop(self, None)
        if self._linger_timer is not None:
            self._linger_timer.cancel()
            self._linger_timer = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._linger_timer is not None:
            self._linger_left -= len(data)
            if self._linger_left < 0:
                self._close()
            return
        if self._deferred is not None:
            return  # the parser has failed; what follows is dropped, as in a lingering close
        self._unset_keepalive_if_required()
        while data:
            if self._reading_head:
                room = _MAX_HEAD - self._head_bytes
                if room <= 0:
                    self._refuse(self._head_too_large())
                    return
                chunk, data = (data[:room], data[room:]) if len(data) > room else (data, b"")
                self._head_bytes += len(chunk)
            else:
                chunk, data = data, b""
                self._framing_bytes += len(chunk)
            if not self._feed(chunk):
                return
            if not self._reading_head and self._framing_bytes > MAX_HEADER_SECTION:
                # A chunk's bytes reset the count as they are parsed, so those of the last read after
                # them went uncounted: what httptools holds stays under the limit and one read.
                detail = f"over {MAX_HEADER_SECTION} bytes of trailer fields or chunk framing came without any body"
                self._refuse(Problem("headers-too-large", detail))
                return
            if self._reading_head and len(self.url) > MAX_TARGET:
                # httptools hands on the target as it arrives: no need to wait for the rest of the head.
                self._refuse(self._head_too_large())
                return

    def _feed(self, chunk: bytes) -> bool:
        """Parse a chunk; whether to go on with the rest of what arrived."""
        # A stack: after an upgrade, the head that frames the skipped body, then the rest of the chunk.
        # Views, so that a chunk of many small upgrade requests is not copied once for each of them.
        pending = [memoryview(chunk)]
        while pending:
            data = pending.pop()
            try:
                self.parser.feed_data(data)
            except httptools.HttpParserUpgrade as upgrade:
                pending.append(data[upgrade.args[0] :])
                pending.append(memoryview(self._parse_past_upgrade()))
            except httptools.HttpParserError as error:
                problem, self._refusal = self._refusal, None
                if problem is None:
                    problem = self._unparsable(error)
                self._refuse(problem)
                return False
        return True

    def _parse_past_upgrade(self) -> bytes:
        """Give the request just read, taken by httptools for an upgrade, a parser for its body; its head.

        httptools has skipped the body, and would read what follows as a new request.
        Its successor is fed a head of the request's own framing fields, which
        frame the body as they would have without the upgrade, with no callbacks
        (`_replaying`), and goes on to the requests after it.
        """
        version = self.parser.get_http_version().encode("ascii")
        framing = [b"%s: %s\r\n" % field for field in self.headers if field[0] in _FRAMING]
        self.parser = httptools.HttpRequestParser(self)
        self.parser.set_dangerous_leniencies(lenient_data_after_close=True)  # as uvicorn sets its own
        self._replaying = True
        # Not the request's method: CONNECT would be taken for an upgrade again. llhttp frames a
        # request's body by these fields whatever its method.
        return b"".join([b"POST / HTTP/%s\r\n" % version, *framing, b"\r\n"])

    def _unparsable(self, error: httptools.HttpParserError) -> Problem:
        reason = str(error)
        if isinstance(error, httptools.HttpParserCallbackError):
            # A failure in uvicorn's callbacks: httptools could not split the target, say.
            cause = error.__context__
            log.warning("a request could not be read: %r", cause)
            reason = str(cause) if isinstance(cause, httptools.HttpParserError) else "its head could not be read"
        return Problem("malformed-request", f"the request is not valid HTTP/1.1: {reason[:200]}")

    def _head_too_large(self) -> Problem:
        if len(self.url) > MAX_TARGET:
            return Problem("uri-too-long", f"the request target is over {MAX_TARGET} bytes")
        return Problem("headers-too-large", f"the request's header section is over {MAX_HEADER_SECTION} bytes")

    # -- httptools' callbacks -----------------------------------------------------

    def on_message_begin(self) -> None:
        if self._replaying:
            return
        super().on_message_begin()
        self._began = True

    def on_url(self, url: bytes) -> None:
        if not self._replaying:
            super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._replaying:
            return
        if self._reading_head:
            super().on_header(name, value)
            return
        # A trailer: dropped (see the module's docstring), and counted as a header section is.
        self._trailer_bytes += header_section_size([(name, value)])
        if self._trailer_bytes > MAX_HEADER_SECTION:
            detail = f"the trailer section is over {MAX_HEADER_SECTION} bytes"
            raise self._refusing(Problem("headers-too-large", detail))

    def on_body(self, body: bytes) -> None:
        self._framing_bytes = 0
        super().on_body(body)

    def on_chunk_header(self) -> None:
        self._framing_bytes = 0

    def on_chunk_complete(self) -> None:
        self._framing_bytes = 0

    def on_headers_complete(self) -> None:
        if self._replaying:
            self._replaying = False  # the replayed head is over: what follows is the request's body
            return
        self._reading_head = False
        self._framing_bytes = self._trailer_bytes = 0
        self._began = False
        self._stop_waiting()
        method = self.parser.get_method().decode("ascii")
        self._method = method
        if len(self.url) > MAX_TARGET:
            detail = f"the request target is {len(self.url)} bytes; at most {MAX_TARGET} are accepted"
            raise self._refusing(Problem("uri-too-long", detail))
        size = header_section_size(self.headers)
        if size > MAX_HEADER_SECTION:
            detail = f"the header section is {size} bytes; at most {MAX_HEADER_SECTION} are accepted"
            raise self._refusing(Problem("headers-too-large", detail))
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        if self.parser.should_upgrade():
            return  # httptools skipped the body: the request ends once `_parse_past_upgrade` has read it
        super().on_message_complete()
        self._reading_head = True
        self._head_bytes = 0

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.transport.is_closing() or not self.cycle.response_complete:
            return  # closing, or the next pipelined request is under way
        if self._deferred is not None:
            problem, self._deferred = self._deferred, None
            self._answer(problem)
        else:
            self._wait_for_head()

    def _refusing(self, problem: Problem) -> _Refused:
        self._refusal = problem
        return _Refused()

    # -- waiting for a head -------------------------------------------------------

    def _wait_for_head(self) -> None:
        self._stop_waiting()
        self._head_timer = self.loop.call_later(self.limits.head_timeout, self._head_timed_out)
        self.waiting[self] = None
        self._since = time.perf_counter()

    def _stop_waiting(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        self.waiting.pop(self, None)

    def _head_timed_out(self) -> None:
        self._head_timer = None
        self.waiting.pop(self, None)
        if self._began:
            detail = f"the request's head did not arrive within {self.limits.head_timeout:g} s"
            self._refuse(Problem("request-timeout", detail))
        else:
            self._close()

    # -- answers made here ----------------------------------------------------------

    def _refuse(self, problem: Problem) -> None:
        """Answer `problem` to the request being read, after any answers still owed before it."""
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            if not cycle.more_body:
                # A pipelined request after one still being answered: its turn comes after that answer.
                self._deferred = problem
                self.flow.pause_reading()
                return
            # The request in progress broke off in its body: its handler hears that the client left,
            # and this is that request's answer.
            cycle.disconnected = True
            cycle.message_event.set()
            if cycle.response_started:
                self._close()
                return
        self._answer(problem)

    def _answer(self, problem: Problem) -> None:
        """Write `problem` as the answer, and close the connection after a lingering close."""
        waited = time.perf_counter() - self._since
        self._stop_waiting()
        self._unset_keepalive_if_required()
        if self.transport.is_closing():
            return
        request_id = str(ULID())
        body = problem.body(request_id)
        lines = [STATUS_LINE[problem.status]]
        headers = list(self.server_state.default_headers)
        headers += [(name.lower().encode(), value.encode()) for name, value in problem.headers.items()]
        headers += [
            (b"x-request-id", request_id.encode()),
            (b"content-type", PROBLEM_JSON.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        lines += [b"%s: %s\r\n" % header for header in headers]
        self.transport.write(b"".join([*lines, b"\r\n", body]))
        target = self.url[:_MAX_LOGGED_TARGET].decode("ascii", "backslashreplace") if self.url else "-"
        # The app's format; the time is from when the connection began to wait for this request.
        log.info("%s %s %d %s %.1fms user=-", self._method, target, problem.status, request_id, waited * 1000)
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.flow.resume_reading()
        self._linger_timer = self.loop.call_later(_LINGER_SECONDS, self._close)
        self.lingering[self] = None

    def _close(self) -> None:
        self._stop_waiting()
        self.lingering.pop(self, None)
        if not self.transport.is_closing():
            self.transport.close()


def protocol_class(limits: Limits) -> type[ClannProtocol]:
    """A protocol class for one server: `limits`, and its own record of connections."""

    class Protocol(ClannProtocol):
        pass

    Protocol.limits = limits
    Protocol.lingering = {}
    Protocol.waiting = {}
    return Protocol
