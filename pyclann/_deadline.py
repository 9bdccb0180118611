"""An attempt's deadline on every socket operation of the sync HTTP client pyclann makes.

httpx2 bounds each socket read, not an exchange: a server that sends its response
one byte every half second holds a sync call for ever, whatever its timeout. The
async client bounds a whole attempt with a cancel scope; a sync call cannot be
cancelled, so instead every read and write is given only the time the attempt
has left, and none is started once it is out: the sockets of the client pyclann
makes (`pyclann._http`) ask `left` before each operation. A user's own
`http_client` is never touched.
"""

from __future__ import annotations

import time
from contextvars import ContextVar
from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # Not imported at run time here: httpcore2 costs ~25 ms, and `import httpx2` does not import it either.
    import httpcore2

_DEADLINE: ContextVar[float | None] = ContextVar("pyclann_attempt_deadline", default=None)


class attempt:  # lower case: used as `with attempt(deadline):`, as a function would be
    """Socket operations in this block end by `deadline` (a `time.monotonic()` value).

    A class, not a generator: it is entered on every attempt, and a @contextmanager costs several times more.
    """

    __slots__ = ("_deadline", "_token")

    def __init__(self, deadline: float | None) -> None:
        self._deadline = deadline

    def __enter__(self) -> None:
        self._token = _DEADLINE.set(self._deadline)

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        _DEADLINE.reset(self._token)


def left(timeout: float | None, expired: type[httpcore2.TimeoutException]) -> float | None:
    """What is left of `timeout` (an operation's own limit) by the attempt's deadline, if one is set.

    Raises:
        httpcore2.TimeoutException: `expired`, if the attempt's time has run out.
    """
    deadline = _DEADLINE.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise expired("the attempt's time ran out")
    return left if timeout is None else min(timeout, left)
