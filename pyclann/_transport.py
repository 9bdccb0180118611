"""Requests in, records or errors out: everything about one HTTP exchange but the I/O.

The requests are built by the generated endpoints (their `_get_kwargs`), so the
paths, headers and body shapes come from openapi.yaml. The generated parsers are
not used: they raise `KeyError`, `JSONDecodeError` or `ValueError` on a body that
breaks the contract, and a new role from the server is one of those. Responses
are read here instead, once, into pyclann's models, with the error decided by
the status code alone.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import attrs
import httpx

from pyclann_generated.api.chat import append_message as _append_message
from pyclann_generated.api.chat import create_session as _create_session
from pyclann_generated.api.chat import delete_session as _delete_session
from pyclann_generated.api.chat import list_messages as _list_messages
from pyclann_generated.api.chat import list_sessions as _list_sessions
from pyclann_generated.models import AppendMessageRequest as _AppendMessageRequest
from pyclann_generated.models import CreateSessionRequest as _CreateSessionRequest
from pyclann_generated.models import Role as _Role
from pyclann_generated.types import UNSET as _UNSET

from . import models
from ._retry import parse_retry_after
from .errors import ClannResponseError, error_for_status
from .ids import SESSION_TABLE, RecordId
from .models import ChatMessage, ChatSession, FieldError

SessionRef = str | ChatSession


@attrs.frozen
class Operation:
    """One call of a method: the request to send and how to read its answer.

    Attributes:
        name: The method's name, for log lines.
        kwargs: `method`, `url`, and maybe `params`, `json`, `headers`, as httpx takes them.
        success: The status that means it worked.
        read: Turns the decoded JSON body of a success into the method's result.
        delete: A 404 on a retry of a DELETE means an earlier attempt did the work.
        write: A POST: its outcome must be learned once an attempt may have reached the server.
    """

    name: str
    kwargs: dict[str, Any]
    success: int
    read: Callable[[Any], Any] | None
    delete: bool = False
    write: bool = False


def session_ulid(session_id: SessionRef) -> str:
    """The bare ULID of a session, from any accepted form; raises before any I/O."""
    if isinstance(session_id, ChatSession):
        session_id = session_id.id
    return RecordId.parse(session_id, SESSION_TABLE).ulid


def _text(name: str, value: object, *, optional: bool = False) -> None:
    if isinstance(value, str) or (optional and value is None):
        return
    expected = "a str or None" if optional else "a str"
    raise TypeError(f"{name} must be {expected}, got {type(value).__name__}")


def _idempotent(kwargs: dict[str, Any]) -> dict[str, Any]:
    # One key per call, made here, so that every retry of the call sends it again.
    kwargs["headers"]["Idempotency-Key"] = str(uuid.uuid4())
    return kwargs


def list_sessions(created_by: str, tree: str | None) -> Operation:
    _text("created_by", created_by)
    _text("tree", tree, optional=True)
    kwargs = _list_sessions._get_kwargs(created_by=created_by, tree=_UNSET if tree is None else tree)
    return Operation("list_sessions", kwargs, 200, _read_sessions)


def create_session(title: str, created_by: str, tree: str | None) -> Operation:
    _text("title", title)
    _text("created_by", created_by)
    _text("tree", tree, optional=True)
    body = _CreateSessionRequest(title=title, created_by=created_by, tree=_UNSET if tree is None else tree)
    kwargs = _idempotent(_create_session._get_kwargs(body=body))
    return Operation("create_session", kwargs, 201, models.parse_session, write=True)


def delete_session(session_id: SessionRef) -> Operation:
    kwargs = _delete_session._get_kwargs(session_ulid(session_id))
    return Operation("delete_session", kwargs, 204, None, delete=True)


def list_messages(session_id: SessionRef) -> Operation:
    kwargs = _list_messages._get_kwargs(session_ulid(session_id))
    return Operation("list_messages", kwargs, 200, _read_messages)


def append_message(session_id: SessionRef, role: str, content: str) -> Operation:
    ulid = session_ulid(session_id)
    _text("role", role)
    _text("content", content)
    kwargs = _idempotent(_append_message._get_kwargs(ulid, body=_AppendMessageRequest(_Role.USER, content)))
    # The generated model admits only the roles of its enum; a newer server may accept
    # more, so the role is sent as given and the server decides (422 if it does not know it).
    kwargs["json"]["role"] = role
    return Operation("append_message", kwargs, 201, models.parse_message, write=True)


def _read_sessions(value: Any) -> list[ChatSession]:
    return models.parse_list(value, models.parse_session)


def _read_messages(value: Any) -> list[ChatMessage]:
    return models.parse_list(value, models.parse_message)


def read_response(operation: Operation, response: httpx.Response) -> Any:
    """The operation's result, or raise the `ClannAPIError` the response stands for."""
    status = response.status_code
    request_id = response.headers.get("x-request-id")
    if status != operation.success:
        retry_after = parse_retry_after(response.headers.get("retry-after")) if status == 429 else None
        if 200 <= status < 300:
            raise ClannResponseError(
                status, f"expected status {operation.success}", request_id=request_id, body=_body(response)
            )
        raise error_for_status(status, response.content, request_id, retry_after)
    if operation.read is None:
        return None
    try:
        return operation.read(json.loads(response.content))
    except (ValueError, RecursionError) as error:
        detail = f"the body is not JSON: {error}"[:200]
    except FieldError as error:
        detail = f"the body does not match the contract: {error}"
    raise ClannResponseError(status, detail, request_id=request_id, body=_body(response))


def _body(response: httpx.Response) -> str:
    return response.content.decode("utf-8", "replace")
