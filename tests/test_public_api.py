"""The public surface: `pyclann.__all__`, and ChatClient against the published reference page."""

from __future__ import annotations

import inspect
import re
from typing import Any

import pytest

import pyclann
from pyclann import AsyncChatClient, ChatClient, ChatMessage, ChatSession

PUBLIC = [
    "DEFAULT_TIMEOUT",
    "MESSAGE_TABLE",
    "SESSION_TABLE",
    "AsyncChatClient",
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
    "ClannInvalidIdError",
    "ClannNotFoundError",
    "ClannPermissionError",
    "ClannRateLimitError",
    "ClannResponseError",
    "ClannServerError",
    "ClannTimeoutError",
    "ClannUnprocessableError",
    "RecordId",
    "Role",
    "__version__",
]

# The reference page (shared/reference/chatclient-reference.txt), written down:
# name -> (parameters as (name, annotation, default), return annotation, exceptions in the Raises table).
REQUIRED = inspect.Parameter.empty
REFERENCE: dict[str, tuple[list[tuple[str, str, Any]], str, list[str]]] = {
    "list_sessions": (
        [("created_by", "str", REQUIRED), ("tree", "str | None", None)],
        "list[ChatSession]",
        ["ClannAuthError"],
    ),
    "create_session": (
        [("title", "str", REQUIRED), ("created_by", "str", REQUIRED), ("tree", "str | None", None)],
        "ChatSession",
        ["ClannAuthError"],
    ),
    "delete_session": ([("session_id", "str", REQUIRED)], "None", ["ClannNotFoundError", "ClannAuthError"]),
    "list_messages": (
        [("session_id", "str", REQUIRED)],
        "list[ChatMessage]",
        ["ClannNotFoundError", "ClannAuthError"],
    ),
    "append_message": (
        [("session_id", "str", REQUIRED), ("role", "str", REQUIRED), ("content", "str", REQUIRED)],
        "ChatMessage",
        ["ClannNotFoundError", "ClannAuthError"],
    ),
}
SUMMARIES = {
    "list_sessions": "Return chat sessions for a user, ordered by most-recently-updated.",
    "create_session": "Create a new chat session.",
    "delete_session": "Delete a chat session and all its messages.",
    "list_messages": "Return all messages in a session, ordered by creation time.",
    "append_message": "Append a message to a chat session.",
}


def test_all_is_sorted_and_is_exactly_the_public_surface() -> None:
    assert pyclann.__all__ == PUBLIC
    assert sorted(pyclann.__all__, key=lambda name: (not name.isupper(), name.startswith("_"), name)) == PUBLIC
    for name in pyclann.__all__:
        assert hasattr(pyclann, name), name


def test_nothing_generated_leaks_into_the_public_surface() -> None:
    for name in pyclann.__all__:
        module = getattr(getattr(pyclann, name), "__module__", "pyclann") or ""
        assert not module.startswith("pyclann_generated"), name


@pytest.mark.parametrize("cls", [ChatClient, AsyncChatClient])
@pytest.mark.parametrize("method", REFERENCE)
def test_signature_matches_the_reference(cls: type[Any], method: str) -> None:
    parameters, returns, _ = REFERENCE[method]
    signature = inspect.signature(getattr(cls, method))
    found = [(p.name, p.annotation, p.default) for p in signature.parameters.values() if p.name != "self"]
    assert found == parameters
    assert all(
        p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD for p in signature.parameters.values() if p.name != "self"
    )
    assert signature.return_annotation == returns
    assert inspect.iscoroutinefunction(getattr(cls, method)) is (cls is AsyncChatClient)


@pytest.mark.parametrize("cls", [ChatClient, AsyncChatClient])
@pytest.mark.parametrize("method", REFERENCE)
def test_docstring_renders_the_reference(cls: type[Any], method: str) -> None:
    doc = inspect.getdoc(getattr(cls, method)) or ""
    assert doc.splitlines()[0] == SUMMARIES[method]
    raises = doc.split("Raises:")[1]
    assert re.findall(r"^\s+(\w+):", raises, re.MULTILINE) == REFERENCE[method][2]
    args = doc.split("Args:")[1].split("Returns:")[0].split("Raises:")[0]
    assert re.findall(r"^    (\w+):", args, re.MULTILINE) == [name for name, _, _ in REFERENCE[method][0]]
    assert ("Returns:" in doc) is (REFERENCE[method][1] != "None")


def test_the_clients_have_the_same_public_methods() -> None:
    def public(cls: type[Any]) -> set[str]:
        return {name for name in dir(cls) if not name.startswith("_")}

    assert public(ChatClient) - {"close"} == public(AsyncChatClient) - {"aclose"}
    assert public(ChatClient) >= set(REFERENCE)


def test_models_are_frozen_and_typed() -> None:
    assert ChatSession.__attrs_attrs__.created_at.type == "datetime"  # type: ignore[attr-defined]
    assert ChatMessage.__attrs_attrs__.role.type == "str"  # type: ignore[attr-defined]
