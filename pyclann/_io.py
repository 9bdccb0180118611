"""The I/O in which the two clients differ: each async primitive here, beside its sync twin.

`_async_client` calls the async ones (`_io.async_sleep`, `_io.async_attempt`, ...);
`scripts/unasync.py` maps each to its twin (`_io.sleep`, `_io.attempt`, ...) in the
generated `_sync_client`. Nothing else of a call differs between the clients.
"""

from __future__ import annotations

import contextlib
import time
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

import httpx2

from . import _deadline
from .errors import ClannUsageError

if TYPE_CHECKING:
    import httpcore2  # not at run time: `import pyclann` need not import it

_UNSHAPED = contextlib.nullcontext()


def async_http_client() -> tuple[httpx2.AsyncClient, bool]:
    """An HTTP client of pyclann's own, and whether its sockets end by an attempt's deadline (never, here)."""
    from ._async_transport import new_client  # here: it imports httpcore2, which `import pyclann` need not

    return new_client(), False


def http_client() -> tuple[httpx2.Client, bool]:
    """An HTTP client of pyclann's own, and whether its sockets end by an attempt's deadline (always, here)."""
    from ._transport import new_client  # here: it imports httpcore2, which `import pyclann` need not

    return new_client(), True


def async_network_backend() -> httpcore2.AsyncNetworkBackend:
    """The sockets of an async client of pyclann's own: asyncio's transports, a fifth cheaper than anyio's."""
    from ._asyncio_backend import AsyncioBackend

    return AsyncioBackend()


def network_backend() -> httpcore2.NetworkBackend:
    """The sockets of a sync client of pyclann's own: each operation ends by the attempt's deadline."""
    from ._http import DeadlineBackend

    return DeadlineBackend()


def async_attempt(left: float | None, shaped: bool) -> tuple[AbstractContextManager[Any], float | None]:
    """The block an attempt runs in, ending it after `left` seconds: a cancel scope, which needs no deadline."""
    import anyio  # here, not at the top: it costs an import that sync programs never need

    return anyio.fail_after(left), None


def attempt(left: float | None, shaped: bool) -> tuple[AbstractContextManager[Any], float | None]:
    """The block an attempt runs in, and its deadline: a sync call cannot be cancelled, so each read checks it.

    The attempt's time runs from here, its start: connecting, sending and the headers count.
    Only sockets shaped by pyclann read the deadline; a user's client is spared the context variable.
    """
    deadline = None if left is None else time.monotonic() + left
    return (_deadline.attempt(deadline) if shaped else _UNSHAPED), deadline


async def async_sleep(seconds: float) -> None:
    """Wait between attempts, letting other tasks run."""
    import anyio

    await anyio.sleep(seconds)


def sleep(seconds: float) -> None:
    """Wait between attempts."""
    time.sleep(seconds)


def async_running_loop() -> object | None:
    """The running asyncio event loop, which a client's connections belong to; None under another (trio, say)."""
    import asyncio

    try:
        return asyncio.get_running_loop()
    except RuntimeError:  # not asyncio: httpx2's own checks apply
        return None


def running_loop() -> object | None:
    """None: a sync client belongs to no event loop."""
    return None


async def async_close(http: httpx2.AsyncClient) -> None:
    """Close an HTTP client's connections, in the event loop they belong to."""
    try:
        await http.aclose()
    except RuntimeError as error:  # "Event loop is closed": its connections belong to another loop
        raise ClannUsageError(
            f"aclose: {error}; an AsyncChatClient's connections belong to the event loop it was first"
            " used in: close it there"
        ) from None


def close(http: httpx2.Client) -> None:
    """Close an HTTP client's connections."""
    http.close()
