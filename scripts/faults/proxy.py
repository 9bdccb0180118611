"""A faulting HTTP/1.1 proxy on 127.0.0.1: the real wire between a client and the dev server, broken on purpose.

    with FaultProxy(server.url, SeededFaults(seed=7, rate=0.3)) as proxy:
        chat = ChatClient(proxy.url, token=...)

It speaks HTTP/1.1 with keep-alive to its clients, and opens a fresh connection
to the upstream server for each request it forwards (asking it to close), so an
upstream keep-alive that expires never turns into a fault of its own. For each
request it asks its policy whether, and how, to fail:

    reset-before   the connection is reset (RST) before the request reaches the server
    reset-after    the server answers (it has committed); the connection is reset instead of answering
    cut-framed     the server's response, its body cut short, with a Content-Length that says so
    cut-unframed   the server's response, its body (or head) cut short, then the connection closes
    drip           the server's response, a few bytes at a time over `drip_seconds`: a client's
                   whole-attempt timeout fires long before the last byte
    429-short      answered here: 429 with a short Retry-After (seconds)
    429-over-cap   answered here: 429 with a Retry-After over pyclann's 60 s cap
    503            answered here: 503, without reaching the server
    401            answered here: 401, as if the token had stopped working mid-call

A request names its call with the `X-Fault-Tag` header (stripped before it is
forwarded); the proxy counts the requests of each tag, so a policy can decide by
(tag, n): `SeededFaults` draws each request's fault from a generator seeded with
the seed, the tag and n, so the same calls meet the same faults in every run,
whatever the order in which concurrent calls reach the proxy.
"""

from __future__ import annotations

import asyncio
import json
import random
import socket
import struct
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit

TAG_HEADER = "X-Fault-Tag"
_HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection"})
_NO_BODY_STATUSES = frozenset({204, 304})


class Kind(StrEnum):
    """The faults the proxy can inject."""

    RESET_BEFORE = "reset-before"
    RESET_AFTER = "reset-after"
    CUT_FRAMED = "cut-framed"
    CUT_UNFRAMED = "cut-unframed"
    DRIP = "drip"
    RATE_LIMITED = "429-short"
    RATE_LIMITED_OVER_CAP = "429-over-cap"
    UNAVAILABLE = "503"
    UNAUTHORIZED = "401"


FORWARDED = frozenset({Kind.RESET_AFTER, Kind.CUT_FRAMED, Kind.CUT_UNFRAMED, Kind.DRIP})
"""The faults that strike after the server has carried the request out."""


@dataclass(frozen=True)
class Fault:
    """One fault to inject, with its parameters decided.

    Attributes:
        kind: What to do.
        fraction: Where a cut falls, as a fraction of the body (or of the head, for a body-less response).
        retry_after: The `Retry-After` of a 429 or 503 answered here; None sends none.
    """

    kind: Kind
    fraction: float = 0.5
    retry_after: int | None = None


@dataclass(frozen=True)
class Seen:
    """A request as a policy sees it: its call's tag, how many requests of that tag came before, and its line."""

    tag: str
    n: int
    method: str
    target: str


Policy = Callable[[Seen], Fault | None]

DEFAULT_WEIGHTS: Mapping[Kind, float] = {
    Kind.RESET_BEFORE: 3,
    Kind.RESET_AFTER: 3,
    Kind.CUT_FRAMED: 2,
    Kind.CUT_UNFRAMED: 2,
    Kind.DRIP: 0.6,
    Kind.RATE_LIMITED: 2,
    Kind.RATE_LIMITED_OVER_CAP: 0.8,
    Kind.UNAVAILABLE: 2,
    Kind.UNAUTHORIZED: 1.2,
}


@dataclass(frozen=True)
class SeededFaults:
    """Faults drawn per request from `random.Random(f"{seed}/{tag}/{n}")`: reproducible, whatever the order.

    Attributes:
        seed: The run's seed.
        rate: The chance that a request meets a fault.
        weights: How often each kind is chosen, relative to the others.
        faulted_requests: Requests of a tag from this many on pass untouched, so that a
            caller who keeps calling again gets an answer in the end.
    """

    seed: int
    rate: float
    weights: Mapping[Kind, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    faulted_requests: int = 8

    def __call__(self, seen: Seen) -> Fault | None:
        if seen.n >= self.faulted_requests:
            return None
        rng = random.Random(f"{self.seed}/{seen.tag}/{seen.n}")
        if rng.random() >= self.rate:
            return None
        # A 401 "in the middle of a call": only a request that is not its call's first meets one.
        kinds = [kind for kind in self.weights if kind is not Kind.UNAUTHORIZED or seen.n > 0]
        kind = rng.choices(kinds, weights=[self.weights[kind] for kind in kinds])[0]
        fraction = rng.random()
        retry_after = None
        if kind is Kind.RATE_LIMITED:
            retry_after = rng.randint(1, 3)
        elif kind is Kind.RATE_LIMITED_OVER_CAP:
            retry_after = rng.randint(61, 120)
        elif kind is Kind.UNAVAILABLE:
            retry_after = rng.choice([None, 1])
        return Fault(kind, fraction, retry_after)


def scripted(faults: Mapping[tuple[str, int], Fault]) -> Policy:
    """A policy that injects `faults[(tag, n)]` into the n-th request (from 0) tagged `tag`, and nothing else."""
    return lambda seen: faults.get((seen.tag, seen.n))


@dataclass
class _Message:
    """A request or response as read off the wire: its first line, headers and whole body."""

    start: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((value for key, value in self.headers if key.lower() == lowered), None)

    def encode(self, headers: list[tuple[str, str]] | None = None) -> bytes:
        """The message framed by Content-Length, with `headers` instead of its own if given."""
        kept = [(k, v) for k, v in (self.headers if headers is None else headers) if k.lower() not in _HOP_BY_HOP]
        kept.append(("Content-Length", str(len(self.body))))
        head = self.start + "\r\n" + "".join(f"{k}: {v}\r\n" for k, v in kept) + "\r\n"
        return head.encode("latin-1") + self.body


async def _read_message(reader: asyncio.StreamReader, *, response_to: str | None = None) -> _Message | None:
    """One message; None at a clean end of stream before it began. `response_to`: the request's method."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as error:
        if not error.partial:
            return None
        raise
    start, *lines = head[:-4].decode("latin-1").split("\r\n")
    headers = [(name.strip(), value.strip()) for name, _, value in (line.partition(":") for line in lines)]
    message = _Message(start, headers, b"")
    encoding = (message.header("transfer-encoding") or "").lower()
    length = message.header("content-length")
    if "chunked" in encoding:
        message.body = await _read_chunked(reader)
    elif length is not None:
        message.body = await reader.readexactly(int(length))
    elif response_to is not None:
        status = int(start.split(" ", 2)[1])
        if not (status < 200 or status in _NO_BODY_STATUSES or response_to == "HEAD"):
            message.body = await reader.read()  # delimited by the end of the connection
    return message


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0].strip(), 16)
        if size == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers
                pass
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)


def _problem(status: int, reason: str, detail: str, extra: list[tuple[str, str]]) -> bytes:
    body = json.dumps(
        {"type": "about:blank", "title": reason, "status": status, "detail": f"fault proxy: {detail}"}
    ).encode()
    headers = [("Content-Type", "application/problem+json"), ("X-Request-Id", "fault-proxy"), *extra]
    return _Message(f"HTTP/1.1 {status} {reason}", headers, body).encode()


def _local_answer(fault: Fault) -> bytes:
    after = [] if fault.retry_after is None else [("Retry-After", str(fault.retry_after))]
    if fault.kind is Kind.UNAVAILABLE:
        return _problem(503, "Service Unavailable", "unavailable", after)
    if fault.kind is Kind.UNAUTHORIZED:
        return _problem(401, "Unauthorized", "the bearer token is not valid", [("WWW-Authenticate", "Bearer")])
    return _problem(429, "Too Many Requests", "slow down", after)


def _cut(length: int, fraction: float, low: int) -> int:
    """A cut point in [low, length - 1] at about `fraction` of the way."""
    return min(max(int(length * fraction), low), length - 1)


class FaultProxy:
    """The proxy, serving in a thread of its own on a free port of 127.0.0.1; a context manager.

    Args:
        upstream: The server's base URL (`http://127.0.0.1:<port>`).
        policy: Decides each request's fault (None: forward it untouched).
        drip_seconds: How long a dripped response takes to arrive whole.
    """

    def __init__(self, upstream: str, policy: Policy, *, drip_seconds: float = 3.0) -> None:
        parts = urlsplit(upstream)
        if parts.hostname is None or parts.port is None:
            raise ValueError(f"the upstream needs a host and a port: {upstream!r}")
        self._upstream = (parts.hostname, parts.port)
        self._policy = policy
        self._drip_seconds = drip_seconds
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}
        self._history: dict[str, list[str]] = {}
        self._injected: Counter[str] = Counter()
        self._requests = 0
        self._connections = 0
        self._drips_abandoned = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- what happened ------------------------------------------------------------

    @property
    def injected(self) -> Counter[str]:
        """The faults injected so far, by kind (as carried out: a cut of an empty body is a reset)."""
        with self._lock:
            return Counter(self._injected)

    @property
    def requests(self) -> int:
        with self._lock:
            return self._requests

    @property
    def connections(self) -> int:
        """The client connections accepted so far."""
        with self._lock:
            return self._connections

    @property
    def drips_abandoned(self) -> int:
        """The dripped responses whose client went away before their last byte (its timeout fired)."""
        with self._lock:
            return self._drips_abandoned

    def history(self) -> dict[str, tuple[str, ...]]:
        """Each tag's requests in order, each as the fault it met ("" for none)."""
        with self._lock:
            return {tag: tuple(kinds) for tag, kinds in self._history.items()}

    # -- running --------------------------------------------------------------------

    def __enter__(self) -> Self:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="fault-proxy", daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._open(), loop).result(10)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        loop, thread = self._loop, self._thread
        assert loop is not None
        assert thread is not None
        try:
            asyncio.run_coroutine_threadsafe(self._close(), loop).result(10)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)
            loop.close()

    async def _open(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _close(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    # -- one connection ---------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        with self._lock:
            self._connections += 1
        try:
            while not writer.is_closing():
                request = await _read_message(reader)
                if request is None or not await self._handle(request, writer):
                    break
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            pass  # the client went away, or sent what this proxy does not read
        except asyncio.CancelledError:
            pass  # the proxy is stopping
        finally:
            self._tasks.discard(task)
            if not writer.is_closing():
                writer.close()

    async def _handle(self, request: _Message, writer: asyncio.StreamWriter) -> bool:
        """Answer one request, faulted or not; whether the connection may carry another."""
        method, target, *_ = [*request.start.split(" "), "", ""]
        tag = request.header(TAG_HEADER) or ""
        with self._lock:
            n = self._counts.get(tag, 0)
            self._counts[tag] = n + 1
            self._requests += 1
        fault = self._policy(Seen(tag, n, method, target))
        keep_alive = (request.header("connection") or "").lower() != "close"
        if fault is not None and fault.kind not in FORWARDED:
            self._note(tag, fault.kind)
            if fault.kind is Kind.RESET_BEFORE:
                _reset(writer)
                return False
            writer.write(_local_answer(fault))
            await writer.drain()
            return keep_alive
        try:
            response = await self._forward(request, method)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            # Not a fault of the policy's: counted apart, so that a run shows it.
            self._note(tag, "upstream-error")
            _reset(writer)
            return False
        if fault is None:
            self._note(tag, "")
            writer.write(response.encode())
            await writer.drain()
            return keep_alive
        kind = fault.kind
        if kind is Kind.CUT_FRAMED and len(response.body) < 2:
            kind = Kind.RESET_AFTER  # nothing to cut: the answer is lost instead
        self._note(tag, kind)
        if kind is Kind.RESET_AFTER:
            _reset(writer)
            return False
        if kind is Kind.CUT_FRAMED:
            cut = _cut(len(response.body), fault.fraction, 1)
            writer.write(_Message(response.start, response.headers, response.body[:cut]).encode())
            await writer.drain()
            return keep_alive
        whole = response.encode()
        if kind is Kind.CUT_UNFRAMED:
            head = len(whole) - len(response.body)
            cut = head + _cut(len(response.body), fault.fraction, 0) if response.body else _cut(head, fault.fraction, 1)
            writer.write(whole[:cut])
            await writer.drain()
            writer.close()
            return False
        if not await self._drip(whole, writer):
            with self._lock:
                self._drips_abandoned += 1
        return False

    def _note(self, tag: str, kind: str) -> None:
        with self._lock:
            self._history.setdefault(tag, []).append(kind)
            if kind:
                self._injected[kind] += 1

    async def _forward(self, request: _Message, method: str) -> _Message:
        """The upstream server's whole response to `request`, sent on a connection of its own."""
        headers = [(k, v) for k, v in request.headers if k.lower() != TAG_HEADER.lower()]
        headers.append(("Connection", "close"))
        reader, writer = await asyncio.open_connection(*self._upstream)
        try:
            writer.write(request.encode(headers))
            await writer.drain()
            response = await _read_message(reader, response_to=method)
        finally:
            writer.close()
        if response is None:
            raise ConnectionError("the upstream server closed the connection without answering")
        return response

    async def _drip(self, data: bytes, writer: asyncio.StreamWriter) -> bool:
        """Send `data` in small pieces, evenly over `drip_seconds`; False if the client went away first."""
        pieces = min(len(data), 200)
        size = -(-len(data) // pieces)
        for start in range(0, len(data), size):
            await asyncio.sleep(self._drip_seconds / pieces)
            if writer.is_closing():
                return False
            writer.write(data[start : start + size])
            try:
                await writer.drain()
            except ConnectionError:
                return False
        return True


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close the connection with a RST: the client reads "connection reset by peer", not an orderly end."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
