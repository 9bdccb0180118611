"""Contains all the data models used in inputs/outputs"""

from .append_message_request import AppendMessageRequest
from .chat_message import ChatMessage
from .chat_session import ChatSession
from .create_session_request import CreateSessionRequest
from .field_error import FieldError
from .message_page import MessagePage
from .problem import Problem
from .session_page import SessionPage
from .update_session_request import UpdateSessionRequest

__all__ = (
    "AppendMessageRequest",
    "ChatMessage",
    "ChatSession",
    "CreateSessionRequest",
    "FieldError",
    "MessagePage",
    "Problem",
    "SessionPage",
    "UpdateSessionRequest",
)
