"""pyclann: the Python SDK for the Clann chat API.

from pyclann import ChatClient

with ChatClient("http://127.0.0.1:8765", token="dev-token-alice") as chat:
    session = chat.create_session("Planning", created_by="alice")
    chat.append_message(session.id, "user", "Hello!")
"""

from typing import TYPE_CHECKING

from ._async_client import AsyncRawChatClient
from ._sync_client import RawChatClient
from ._types import NOT_GIVEN, NotGiven
from ._version import __version__
from .client import DEFAULT_MAX_RESPONSE_SIZE, DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT, AsyncChatClient, ChatClient
from .errors import (
    ClannAPIError,
    ClannAuthError,
    ClannBadRequestError,
    ClannConfigError,
    ClannConflictError,
    ClannConnectionError,
    ClannError,
    ClannInvalidArgumentError,
    ClannInvalidIdError,
    ClannNotFoundError,
    ClannPermissionError,
    ClannRateLimitError,
    ClannResponseError,
    ClannServerError,
    ClannTimeoutError,
    ClannUnprocessableError,
    ClannUsageError,
)
from .models import ChatMessage, ChatSession, CustomRole, MessageRole, Role
from .pages import MessagePage, SessionPage

if TYPE_CHECKING:
    from ._raw import ErrorResponse, RawResponse
    from .ids import MESSAGE_TABLE, SESSION_TABLE, RecordId

__all__ = [
    "DEFAULT_MAX_RESPONSE_SIZE",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "MESSAGE_TABLE",
    "NOT_GIVEN",
    "SESSION_TABLE",
    "AsyncChatClient",
    "AsyncRawChatClient",
    "ChatClient",
    "ChatMessage",
    "ChatSession",
    "ClannAPIError",
    "ClannAuthError",
    "ClannBadRequestError",
    "ClannConfigError",
    "ClannConflictError",
    "ClannConnectionError",
    "ClannError",
    "ClannInvalidArgumentError",
    "ClannInvalidIdError",
    "ClannNotFoundError",
    "ClannPermissionError",
    "ClannRateLimitError",
    "ClannResponseError",
    "ClannServerError",
    "ClannTimeoutError",
    "ClannUnprocessableError",
    "ClannUsageError",
    "CustomRole",
    "ErrorResponse",
    "MessagePage",
    "MessageRole",
    "NotGiven",
    "RawChatClient",
    "RawResponse",
    "RecordId",
    "Role",
    "SessionPage",
    "__version__",
]

# Imported when first named, not with pyclann: each module defines an attrs class, and attrs alone costs
# `import pyclann` about a sixth of what httpx2 does. Hidden from type checkers, which see the imports above
# (a module-level __getattr__ would make them accept any name as an attribute of pyclann).
_LAZY = {
    "MESSAGE_TABLE": "ids",
    "SESSION_TABLE": "ids",
    "RecordId": "ids",
    "ErrorResponse": "_raw",
    "RawResponse": "_raw",
}

if not TYPE_CHECKING:

    def __getattr__(name: str) -> object:
        if name not in _LAZY:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        import importlib

        value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
        globals()[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*globals(), *__all__})
