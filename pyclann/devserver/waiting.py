"""Long polling: a listing held until its session changes, its `wait` runs out, or the server stops.

A held request costs no CPU and does no database polling: it waits on a
future of its own, enlisted under its session, and a write that commits to
that session (an append, a delete) rings the session's bell, which resolves
every future enlisted there at once. Each woken request then looks again,
exactly as a new request would: a page with messages is its answer; a
deleted session is its 404. A request enlists before it first looks, so a
write that commits between its look and its wait still wakes it.

The bell may be rung from any thread (writes may run in worker threads): off
the event loop, it hands the ringing to the loop. `stop()` wakes every held
request for good, so that a stopping server answers them all at once instead
of keeping its clients (and its own graceful shutdown) waiting for up to 30 s.
A request whose client has gone away stops waiting too, so that it does not
hold its task and connection slot until its `wait` runs out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, MutableMapping
from typing import Any, TypeVar, cast

R = TypeVar("R")
# The most looks kept for sharing at once (pages, each at most 1 MiB); past it, requests look alone.
_MOST_SHARED = 16
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]


class Bell:
    """Wakes the requests held on a session when it changes, and all of them when the server stops."""

    def __init__(self) -> None:
        self._held: dict[str, set[asyncio.Future[None]]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False
        self._count = 0
        # How many rings there have been, and the looks shared since the last one.
        self._rings = 0
        self._shared_ring: tuple[str, int] | None = None
        self._shared: dict[Hashable, object] = {}

    @property
    def held(self) -> int:
        """How many requests are held now; readable from any thread."""
        return self._count

    async def hold(
        self,
        session: str,
        seconds: float,
        look: Callable[[], R],
        empty: Callable[[R], bool],
        receive: Receive | None = None,
        share: Hashable = None,
    ) -> R:
        """`look()`'s answer, once it is not empty, or the last one when `seconds` run out.

        Args:
            session: What the request waits on: the session's bare ULID.
            seconds: The most to wait; 0 looks once.
            look: Reads the answer (a page), or raises (a 404 for a deleted session).
            empty: Whether an answer is empty, so that the request keeps waiting.
            receive: The request's ASGI receive, to notice its client going away; None not to.
            share: What makes two requests' looks the same (the user, `after`, `limit`): the
                requests woken by one ring that share it look once between them. None: never shared.

        Returns:
            The first answer that is not empty; or, once `seconds` have passed, the server is
            stopping, or the client has gone away, the answer as it is then.
        """
        loop = asyncio.get_running_loop()
        self._loop = loop
        deadline = loop.time() + seconds
        gone = loop.create_task(_disconnected(receive)) if receive is not None and seconds > 0 else None
        woken = False
        try:
            while True:
                future = self._enlist(session, loop)
                try:
                    answer = self._look_after_ring(session, share, look) if woken and share is not None else look()
                    remaining = deadline - loop.time()
                    if not empty(answer) or remaining <= 0 or self._stopping or (gone is not None and gone.done()):
                        return answer
                    self._count += 1
                    try:
                        await asyncio.wait(
                            {future} if gone is None else {future, gone},
                            timeout=remaining,
                            return_when=asyncio.FIRST_COMPLETED,
                        )
                    finally:
                        self._count -= 1
                    woken = future.done()
                finally:
                    self._discharge(session, future)
        finally:
            if gone is not None:
                gone.cancel()

    @property
    def stopping(self) -> bool:
        """Whether `stop()` was called: the server is stopping, and holds no request."""
        return self._stopping

    def ring(self, session: str | None = None) -> None:
        """Wake the requests held on `session` (on every session: None), from any thread."""
        loop = self._loop
        if loop is None:
            return  # nothing was ever held
        if _on(loop):
            self._wake(session)
        elif not loop.is_closed():
            loop.call_soon_threadsafe(self._wake, session)

    def stop(self) -> None:
        """Wake every held request and hold no more: the server is stopping. Call it on the event loop."""
        self._stopping = True
        self._wake(None)

    def _enlist(self, session: str, loop: asyncio.AbstractEventLoop) -> asyncio.Future[None]:
        future: asyncio.Future[None] = loop.create_future()
        self._held.setdefault(session, set()).add(future)
        return future

    def _discharge(self, session: str, future: asyncio.Future[None]) -> None:
        futures = self._held.get(session)
        if futures is not None:
            futures.discard(future)
            if not futures:
                del self._held[session]

    def _look_after_ring(self, session: str, share: Hashable, look: Callable[[], R]) -> R:
        """`look()`, or what a request woken by the same ring on `session` looked up with `share`.

        Only the looks since the last ring are kept, and at most 16 of them; a look that raises
        (a 404) is not kept. What one look found is an answer as of after the ring, which any
        request woken by it may be given: a later append rings again, and wakes whoever still waits.
        """
        rung = (session, self._rings)
        if self._shared_ring != rung:
            self._shared_ring, self._shared = rung, {}
        if share in self._shared:
            return cast(R, self._shared[share])
        answer = look()
        if len(self._shared) < _MOST_SHARED:
            self._shared[share] = answer
        return answer

    def _wake(self, session: str | None) -> None:
        self._rings += 1
        sessions = list(self._held) if session is None else [session]
        for each in sessions:
            for future in self._held.pop(each, ()):
                if not future.done():
                    future.set_result(None)


def _on(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False


async def _disconnected(receive: Receive | None) -> None:
    """Returns once the client has gone away (a request without a body has nothing else to receive)."""
    assert receive is not None
    while (await receive())["type"] != "http.disconnect":
        pass
