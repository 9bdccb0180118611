"""How a follow polls: the settings of its long polls, and how it paces them; no I/O.

`follow_messages` sends one long poll after another (`GET .../messages?after=<last>&wait=<s>`),
each through the client's own call path, with three settings changed: the read
timeout outlasts the wait (the server holds the request that long before it answers
an empty page), failures that may heal are retried for as long as the follow runs
(the retry policy of `pyclann._retry`: capped exponential backoff with jitter,
`Retry-After` honoured), and `total_timeout` does not apply, as a follow has no end.
An answer that is empty and early (a server that does not hold requests) is
followed by a pause, so that an idle follow sends at most one
request per wait.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Final, TypeVar

import httpx2

from ._types import NOT_GIVEN

if TYPE_CHECKING:
    from ._base_client import _BaseClient

C = TypeVar("C", bound="_BaseClient")

DEFAULT_WAIT: Final = 30
"""Seconds a follow asks the server to hold each request while no message comes: the contract's longest."""
# Retries of one poll: as many as it takes. The follow ends when its caller stops it, or on a
# failure that cannot heal (401, 403, 404, a body that breaks the contract, a Retry-After over the cap).
_FOREVER: Final = 2**62


def poller(client: C, wait: int) -> C:
    """A copy of `client` for a follow's polls: a read timeout `wait` seconds longer, retries without end."""
    timeout = client._settings.timeout
    longer = httpx2.Timeout(
        connect=timeout.connect,
        read=None if timeout.read is None else timeout.read + wait,
        write=timeout.write,
        pool=timeout.pool,
    )
    return client._copy(longer, _FOREVER, None, NOT_GIVEN, None)


class Pace:
    """When the next poll may be sent: at once after messages, a whole wait after the last poll's start when idle."""

    __slots__ = ("_sent", "_wait")

    def __init__(self, wait: int) -> None:
        self._wait = wait
        self._sent = 0.0

    def sending(self) -> None:
        """Note that a poll is being sent now."""
        self._sent = time.monotonic()

    def rest(self, empty: bool) -> float:
        """Seconds to wait before the next poll, after an answer that was `empty` or not."""
        return max(self._sent + self._wait - time.monotonic(), 0.0) if empty else 0.0
