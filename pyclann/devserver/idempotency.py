"""Idempotent writes: a write sent again with its Idempotency-Key is answered from its record.

Every write (POST, PATCH, DELETE) runs in one transaction with its record:
the same key (per user, method and path) with the same body replays the
stored status, body and `Location` with `Idempotent-Replayed: true`; with
another body it is 422 `idempotency-key-reused`. Only successes are recorded,
in the write's own transaction, so a failed request wrote nothing and may be
sent again. Records expire `Store.replay_ttl` after the first request and are
then deleted. Deleting a session purges the records of the writes to it
(their bodies, Locations and digests): replaying one of them is 410
`replay-purged`. The DELETE's own record holds no content and is kept, so a
retried DELETE is answered with its replayed 204.

openapi.yaml also documents 409 `idempotency-in-flight`, for a request whose
key belongs to a request still being carried out. A write, from looking its
key up to committing its record, runs on the event loop without ever
awaiting, on the one SQLite connection, so no other request can run while it
is half done: without a delay, the second request simply finds the first's
record. With a write delay (`ChatApp.write_delay`, `clann-devserver
--write-delay`), each write waits before it is carried out, its key held in
flight meanwhile, so that tests can meet the 409 on demand.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .operations import Result
from .problems import Problem
from .replies import Reply, reply
from .store import Replay, Store


@dataclass(frozen=True)
class Key:
    """Where an Idempotency-Key applies: its user, method and path."""

    user: str
    key: str
    method: str
    path: str


def digest(body: Any) -> str:
    """The SHA-256 of a body's canonical JSON, so that key order and spacing do not make it another body."""
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class Idempotency:
    """Carries out writes in a transaction with their records."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._in_flight: set[Key] = set()

    async def carry_out(
        self,
        key: Key | None,
        body: Any,
        run: Callable[[], Result],
        answer: Callable[[Result], Reply],
        request_id: str,
        *,
        delay: float = 0.0,
    ) -> Reply:
        """Run a write, or replay the first answer to its key.

        Args:
            key: The request's key and scope, or None without an Idempotency-Key.
            body: The request's JSON body (None for a DELETE).
            run: The write itself.
            answer: Turns the write's result into the checked response; raising
                rolls the write back.
            request_id: This request's ID, for a replayed answer.
            delay: Seconds to wait, the key in flight, before a write that is not a replay.

        Raises:
            Problem: 409 while a request with the same key is in flight; 410 or 422 for a
                key whose record cannot be replayed to this request.
        """
        if key is not None and key in self._in_flight:
            raise Problem(
                "idempotency-in-flight",
                "a request with this Idempotency-Key is still being carried out; send it again later",
            )
        if delay > 0 and (key is None or self._record(key) is None):
            if key is not None:
                self._in_flight.add(key)
            try:
                await asyncio.sleep(delay)
            finally:
                if key is not None:
                    self._in_flight.discard(key)
        return self._carry_out_now(key, body, run, answer, request_id)

    def _record(self, key: Key) -> Replay | None:
        with self.store.atomic():
            self.store.forget_expired_replays()
            return self.store.find_replay(key.user, key.key, key.method, key.path)

    def _carry_out_now(
        self,
        key: Key | None,
        body: Any,
        run: Callable[[], Result],
        answer: Callable[[Result], Reply],
        request_id: str,
    ) -> Reply:
        with self.store.atomic():
            body_digest = None
            if key is not None:
                self.store.forget_expired_replays()
                earlier = self.store.find_replay(key.user, key.key, key.method, key.path)
                body_digest = digest(body)
                if earlier is not None:
                    return _replay(earlier, body_digest, request_id)
            result = run()
            answered = answer(result)
            if key is not None:
                assert result.session is not None, "a write names the session it wrote to"
                record = Replay(body_digest, result.status, result.body or None, result.location, purged=False)
                self.store.save_replay(key.user, key.key, key.method, key.path, result.session, record)
        return answered


def _replay(earlier: Replay, body_digest: str, request_id: str) -> Reply:
    if earlier.purged:
        raise Problem(
            "replay-purged",
            "the request with this Idempotency-Key was carried out, but its session has since been deleted",
        )
    if earlier.body_digest != body_digest:
        raise Problem("idempotency-key-reused", "this Idempotency-Key was already used with another request body")
    return reply(earlier.status, earlier.response or b"", request_id, location=earlier.location, replayed=True)
