"""ChatClient and AsyncChatClient, at the import path the reference documents: `pyclann.client`.

`AsyncChatClient` is written in `_async_client`; `ChatClient` is generated from it into
`_sync_client` by `scripts/unasync.py`. What they share, without I/O, is in `_base_client`.
"""

from ._async_client import AsyncChatClient
from ._config import DEFAULT_MAX_RESPONSE_SIZE, DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT
from ._sync_client import ChatClient

__all__ = ["DEFAULT_MAX_RESPONSE_SIZE", "DEFAULT_MAX_RETRIES", "DEFAULT_TIMEOUT", "AsyncChatClient", "ChatClient"]
