from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx2

from ...client import AuthenticatedClient, Client
from ...models.chat_session import ChatSession
from ...models.problem import Problem
from ...types import Response


def request_kwargs(
    session_ulid: str,
) -> dict[str, Any]:
    """The keyword arguments of `httpx2.Client.request` for this operation, with a relative URL."""

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/chat/sessions/{session_ulid}".format(
            session_ulid=quote(str(session_ulid), safe=""),
        ),
    }

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
) -> Response[ChatSession | Problem]:
    """Read one chat session.

     Reads one of the token's user's sessions; another user's is 404.

    Args:
        session_ulid (str): A bare ULID, upper case.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx2.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ChatSession | Problem]
    """

    kwargs = request_kwargs(
        session_ulid=session_ulid,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    session_ulid: str,
    *,
    client: AuthenticatedClient | Client,
) -> ChatSession | Problem | None:
    """Read one chat session.

     Reads one of the token's user's sessions; another user's is 404.

    Args:
        session_ulid (str): A bare ULID, upper case.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx2.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ChatSession | Problem
    """

    return sync_detailed(
        session_ulid=session_ulid,
        client=client,
    ).parsed


async def asyncio_detailed(
    session_ulid: str,
    *,
    client: AuthenticatedClient | Client,
) -> Response[ChatSession | Problem]:
    """Read one chat session.

     Reads one of the token's user's sessions; another user's is 404.

    Args:
        session_ulid (str): A bare ULID, upper case.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx2.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ChatSession | Problem]
    """

    kwargs = request_kwargs(
        session_ulid=session_ulid,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    session_ulid: str,
    *,
    client: AuthenticatedClient | Client,
) -> ChatSession | Problem | None:
    """Read one chat session.

     Reads one of the token's user's sessions; another user's is 404.

    Args:
        session_ulid (str): A bare ULID, upper case.

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
        )
    ).parsed
