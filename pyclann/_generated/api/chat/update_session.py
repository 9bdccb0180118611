from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx2

from ...client import AuthenticatedClient, Client
from ...models.chat_session import ChatSession
from ...models.problem import Problem
from ...models.update_session_request import UpdateSessionRequest
from ...types import UNSET, Response, Unset


def request_kwargs(
    session_ulid: str,
    *,
    body: UpdateSessionRequest,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    """The keyword arguments of `httpx2.Client.request` for this operation, with a relative URL."""
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "patch",
        "url": "/api/chat/sessions/{session_ulid}".format(
            session_ulid=quote(str(session_ulid), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx2.Response
) -> ChatSession | Problem:
    if response.status_code == 200:
        response_200 = ChatSession.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

    if response.status_code == 409:
        response_409 = Problem.from_dict(response.json())

        return response_409

    if response.status_code == 410:
        response_410 = Problem.from_dict(response.json())

        return response_410

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())

        return response_413

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    if response.status_code == 429:
        response_429 = Problem.from_dict(response.json())

        return response_429

    if 500 <= response.status_code <= 599:
        response_5xx = Problem.from_dict(response.json())

        return response_5xx

    response_default = Problem.from_dict(response.json())

    return response_default


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx2.Response
) -> Response[ChatSession | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    session_ulid: str,
    *,
    client: AuthenticatedClient | Client,
    body: UpdateSessionRequest,
    idempotency_key: str | Unset = UNSET,
) -> Response[ChatSession | Problem]:
    """Rename a chat session or change its tree.

     Changes the fields the body names and leaves the others as they are: an
    absent `tree` keeps the session's tree, `"tree": null` clears it. The body
    names at least one field. Any change sets `updated_at`, so the session
    moves to the top of its owner's listing (a walk begun before keeps it
    where it was: see list_sessions). Safe to retry with the same
    `Idempotency-Key`.

    Args:
        session_ulid (str): A bare ULID, upper case.
        idempotency_key (str | Unset):
        body (UpdateSessionRequest): The fields to change; at least one.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx2.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ChatSession | Problem]
    """

    kwargs = request_kwargs(
        session_ulid=session_ulid,
        body=body,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    session_ulid: str,
    *,
    client: AuthenticatedClient | Client,
    body: UpdateSessionRequest,
    idempotency_key: str | Unset = UNSET,
) -> ChatSession | Problem | None:
    """Rename a chat session or change its tree.

     Changes the fields the body names and leaves the others as they are: an
    absent `tree` keeps the session's tree, `"tree": null` clears it. The body
    names at least one field. Any change sets `updated_at`, so the session
    moves to the top of its owner's listing (a walk begun before keeps it
    where it was: see list_sessions). Safe to retry with the same
    `Idempotency-Key`.

    Args:
        session_ulid (str): A bare ULID, upper case.
        idempotency_key (str | Unset):
        body (UpdateSessionRequest): The fields to change; at least one.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx2.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ChatSession | Problem
    """

    return sync_detailed(
        session_ulid=session_ulid,
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    session_ulid: str,
    *,
    client: AuthenticatedClient | Client,
    body: UpdateSessionRequest,
    idempotency_key: str | Unset = UNSET,
) -> Response[ChatSession | Problem]:
    """Rename a chat session or change its tree.

     Changes the fields the body names and leaves the others as they are: an
    absent `tree` keeps the session's tree, `"tree": null` clears it. The body
    names at least one field. Any change sets `updated_at`, so the session
    moves to the top of its owner's listing (a walk begun before keeps it
    where it was: see list_sessions). Safe to retry with the same
    `Idempotency-Key`.

    Args:
        session_ulid (str): A bare ULID, upper case.
        idempotency_key (str | Unset):
        body (UpdateSessionRequest): The fields to change; at least one.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx2.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ChatSession | Problem]
    """

    kwargs = request_kwargs(
        session_ulid=session_ulid,
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    session_ulid: str,
    *,
    client: AuthenticatedClient | Client,
    body: UpdateSessionRequest,
    idempotency_key: str | Unset = UNSET,
) -> ChatSession | Problem | None:
    """Rename a chat session or change its tree.

     Changes the fields the body names and leaves the others as they are: an
    absent `tree` keeps the session's tree, `"tree": null` clears it. The body
    names at least one field. Any change sets `updated_at`, so the session
    moves to the top of its owner's listing (a walk begun before keeps it
    where it was: see list_sessions). Safe to retry with the same
    `Idempotency-Key`.

    Args:
        session_ulid (str): A bare ULID, upper case.
        idempotency_key (str | Unset):
        body (UpdateSessionRequest): The fields to change; at least one.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx2.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ChatSession | Problem
    """

    return (
        await asyncio_detailed(
            session_ulid=session_ulid,
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
