"""pyclann: the Python SDK for the Clann chat API.

from pyclann import ChatClient

with ChatClient("http://127.0.0.1:8765", token="dev-token-alice") as chat:
    session = chat.create_session("Planning", created_by="alice")
    chat.append_message(session.id, "user", "Hello!")
"""

from ._async_client import AsyncRawChatClient
from ._raw import ErrorResponse, RawResponse
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
from .ids import MESSAGE_TABLE, SESSION_TABLE, RecordId
from .models import ChatMessage, ChatSession, CustomRole, MessageRole, Role
from .pages import MessagePage, SessionPage

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
