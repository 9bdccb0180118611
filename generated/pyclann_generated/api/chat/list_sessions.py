from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.chat_session import ChatSession
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    created_by: str,
    tree: str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["created_by"] = created_by

    params["tree"] = tree

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/chat/sessions",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | list[ChatSession] | None:
    if response.status_code == 200:
        response_200 = []
        _response_200 = response.json()
        for response_200_item_data in _response_200:
            response_200_item = ChatSession.from_dict(response_200_item_data)

            response_200.append(response_200_item)

        return response_200

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Problem | list[ChatSession]]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    created_by: str,
    tree: str | Unset = UNSET,
) -> Response[Problem | list[ChatSession]]:
    """List a user's chat sessions, most recently updated first.

    Args:
        created_by (str):
        tree (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | list[ChatSession]]
    """

    kwargs = _get_kwargs(
        created_by=created_by,
        tree=tree,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    created_by: str,
    tree: str | Unset = UNSET,
) -> Problem | list[ChatSession] | None:
    """List a user's chat sessions, most recently updated first.

    Args:
        created_by (str):
        tree (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | list[ChatSession]
    """

    return sync_detailed(
        client=client,
        created_by=created_by,
        tree=tree,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    created_by: str,
    tree: str | Unset = UNSET,
) -> Response[Problem | list[ChatSession]]:
    """List a user's chat sessions, most recently updated first.

    Args:
        created_by (str):
        tree (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | list[ChatSession]]
    """

    kwargs = _get_kwargs(
        created_by=created_by,
        tree=tree,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    created_by: str,
    tree: str | Unset = UNSET,
) -> Problem | list[ChatSession] | None:
    """List a user's chat sessions, most recently updated first.

    Args:
        created_by (str):
        tree (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | list[ChatSession]
    """

    return (
        await asyncio_detailed(
            client=client,
            created_by=created_by,
            tree=tree,
        )
    ).parsed
