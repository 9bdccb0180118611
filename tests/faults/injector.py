"""Faults between a client and the real dev server: an httpx transport that wraps the real one.

Each attempt draws, from a seeded `random.Random`, whether to fail and how:

    refused   the connection is refused; nothing is forwarded
    reset     the connection is reset before the request is forwarded
    dropped   the server commits, then the response is lost
    timeout   the server commits, then the response comes too late: a read timeout
    429, 503  answered at once "by the server", with Retry-After
    502       the server commits, then "a proxy" answers with an HTML page

The same seed gives the same faults in the same order, so a failure replays.
"""

from __future__ import annotations

import json
import random
from collections import Counter

import httpx

KINDS = ("refused", "reset", "dropped", "timeout", "429", "503", "502")
_FORWARDED = {"dropped", "timeout", "502"}
_HTML = b"<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"


class _Faults:
    def __init__(self, seed: int, rate: float) -> None:
        self.rng = random.Random(seed)
        self.rate = rate
        self.injected: Counter[str] = Counter()
        self.attempts = 0

    def pick(self) -> str | None:
        self.attempts += 1
        if self.rng.random() >= self.rate:
            return None
        kind = self.rng.choice(KINDS)
        self.injected[kind] += 1
        return kind

    @staticmethod
    def before(kind: str | None, request: httpx.Request) -> httpx.Response | None:
        """Raise or answer for a fault that strikes before forwarding."""
        if kind == "refused":
            raise httpx.ConnectError("injected: connection refused", request=request)
        if kind == "reset":
            raise httpx.ReadError("injected: connection reset by peer", request=request)
        if kind in ("429", "503"):
            status = int(kind)
            body = {"type": "about:blank", "title": "busy", "status": status, "detail": "injected: try again"}
            headers = {"Content-Type": "application/problem+json", "Retry-After": "1", "X-Request-Id": "injected"}
            return httpx.Response(status, headers=headers, content=json.dumps(body).encode(), request=request)
        return None

    @staticmethod
    def after(kind: str | None, request: httpx.Request, response: httpx.Response) -> httpx.Response:
        """Raise or replace the response for a fault that strikes after the server committed."""
        if kind == "dropped":
            raise httpx.ReadError("injected: response lost", request=request)
        if kind == "timeout":
            raise httpx.ReadTimeout("injected: response came too late", request=request)
        if kind == "502":
            return httpx.Response(502, headers={"Content-Type": "text/html"}, content=_HTML, request=request)
        return response


class FaultyTransport(httpx.BaseTransport, _Faults):
    def __init__(self, inner: httpx.BaseTransport, seed: int, rate: float) -> None:
        _Faults.__init__(self, seed, rate)
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        kind = self.pick()
        early = self.before(kind, request)
        if early is not None:
            return early
        response = self.inner.handle_request(request)
        if kind in _FORWARDED:
            response.read()
            response.close()
        return self.after(kind, request, response)

    def close(self) -> None:
        self.inner.close()


class AsyncFaultyTransport(httpx.AsyncBaseTransport, _Faults):
    def __init__(self, inner: httpx.AsyncBaseTransport, seed: int, rate: float) -> None:
        _Faults.__init__(self, seed, rate)
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        kind = self.pick()
        early = self.before(kind, request)
        if early is not None:
            return early
        response = await self.inner.handle_async_request(request)
        if kind in _FORWARDED:
            await response.aread()
            await response.aclose()
        return self.after(kind, request, response)

    async def aclose(self) -> None:
        await self.inner.aclose()
