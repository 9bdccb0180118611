"""Another HTTP transport for `AsyncChatClient`: aiohttp, for many calls at once.

httpx's own async connection pool is the ceiling when many calls wait on the
network at once: at concurrency 50 against a server that takes 20 ms per
answer, `make bench` measures it at about a third of what the same httpx
client does over aiohttp's pool. With the `aiohttp` extra installed
(`pip install "pyclann[aiohttp]"`, which brings `httpx-aiohttp`):

    from pyclann import AsyncChatClient
    from pyclann.transport import aiohttp_client

    async with aiohttp_client() as http, AsyncChatClient(url, token, http_client=http) as chat:
        ...

It is an `httpx.AsyncClient` like any other, so everything pyclann does (its
timeouts, retries, bounded reading of bodies) is the same; as for any
`http_client=` you pass, closing the `AsyncChatClient` leaves it open, so close
it yourself (`async with`, as above). Nothing here is imported until it is called.
"""

from __future__ import annotations

from typing import Any

import httpx

from ._config import DEFAULT_TIMEOUT

__all__ = ["INSTALL_HINT", "aiohttp_client"]

INSTALL_HINT = 'aiohttp_client needs the aiohttp extra: pip install "pyclann[aiohttp]"'


def aiohttp_client(*, timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT, **options: Any) -> httpx.AsyncClient:
    """An `httpx.AsyncClient` whose connections are aiohttp's, for `AsyncChatClient(http_client=...)`.

    Args:
        timeout: As `AsyncChatClient` takes it; defaults to pyclann's own (30 s, 5 s to connect).
        options: Anything else `httpx.AsyncClient` takes, such as `limits=`.

    Returns:
        The client (an `httpx_aiohttp.HttpxAiohttpClient`); close it when you are done with it.

    Raises:
        ModuleNotFoundError: If the aiohttp extra is not installed (its message says how to install it).
    """
    try:
        from httpx_aiohttp import HttpxAiohttpClient
    except ModuleNotFoundError as error:
        raise ModuleNotFoundError(INSTALL_HINT, name=error.name) from error
    return HttpxAiohttpClient(timeout=timeout, **options)
