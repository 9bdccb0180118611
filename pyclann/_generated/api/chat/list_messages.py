from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx2

from ...client import AuthenticatedClient, Client
from ...models.message_page import MessagePage
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def request_kwargs(
    session_ulid: str,
    *,
    limit: int | Unset = 20,
    after: str | Unset = UNSET,
) -> dict[str, Any]:
    """The keyword arguments of `httpx2.Client.request` for this operation, with a relative URL."""

    params: dict[str, Any] = {}

    params["limit"] = limit

    params["after"] = after

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/chat/sessions/{session_ulid}/messages".format(
            session_ulid=quote(str(session_ulid), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx2.Response
) -> MessagePage | Problem:
    if response.status_code == 200:
        response_200 = MessagePage.from_dict(response.json())

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
) -> Response[MessagePage | Problem]:
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
    limit: int | Unset = 20,
    after: str | Unset = UNSET,
) -> Response[MessagePage | Problem]:
    """List a session's messages, oldest first.

     One page of the session's messages, oldest first, ties broken on the ID.
    Pass `last_id` as `after` for the next page.

    `after` is a keyset too: the page holds the messages strictly after that
    message. Messages are only ever added at the end, so a walk returns every
    message exactly once, in order, including those appended during the walk
    that sort after its cursor. Polling works the same way: ask again with
    `after` set to the last message you have, and an empty page means nothing
    new.

    Args:
        session_ulid (str): A bare ULID, upper case.
        limit (int | Unset):  Default: 20.
        after (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx2.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[MessagePage | Problem]
    """

    kwargs = request_kwargs(
        session_ulid=session_ulid,
        limit=limit,
        after=after,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    session_ulid: str,
    *,
    client: AuthenticatedClient | Client,
    limit: int | Unset = 20,
    after: str | Unset = UNSET,
) -> MessagePage | Problem | None:
    """List a session's messages, oldest first.

     One page of the session's messages, oldest first, ties broken on the ID.
    Pass `last_id` as `after` for the next page.

    `after` is a keyset too: the page holds the messages strictly after that
    message. Messages are only ever added at the end, so a walk returns every
    message exactly once, in order, including those appended during the walk
    that sort after its cursor. Polling works the same way: ask again with
    `after` set to the last message you have, and an empty page means nothing
    new.

    Args:
        session_ulid (str): A bare ULID, upper case.
        limit (int | Unset):  Default: 20.
        after (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx2.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        MessagePage | Problem
    """

    return sync_detailed(
        session_ulid=session_ulid,
        client=client,
        limit=limit,
        after=after,
    ).parsed


async def asyncio_detailed(
    session_ulid: str,
    *,
    client: AuthenticatedClient | Client,
    limit: int | Unset = 20,
    after: str | Unset = UNSET,
) -> Response[MessagePage | Problem]:
    """List a session's messages, oldest first.

     One page of the session's messages, oldest first, ties broken on the ID.
    Pass `last_id` as `after` for the next page.

    `after` is a keyset too: the page holds the messages strictly after that
    message. Messages are only ever added at the end, so a walk returns every
    message exactly once, in order, including those appended during the walk
    that sort after its cursor. Polling works the same way: ask again with
    `after` set to the last message you have, and an empty page means nothing
    new.

    Args:
        session_ulid (str): A bare ULID, upper case.
        limit (int | Unset):  Default: 20.
        after (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx2.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[MessagePage | Problem]
    """

    kwargs = request_kwargs(
        session_ulid=session_ulid,
        limit=limit,
        after=after,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    session_ulid: str,
    *,
    client: AuthenticatedClient | Client,
    limit: int | Unset = 20,
    after: str | Unset = UNSET,
) -> MessagePage | Problem | None:
    """List a session's messages, oldest first.

     One page of the session's messages, oldest first, ties broken on the ID.
    Pass `last_id` as `after` for the next page.

    `after` is a keyset too: the page holds the messages strictly after that
    message. Messages are only ever added at the end, so a walk returns every
    message exactly once, in order, including those appended during the walk
    that sort after its cursor. Polling works the same way: ask again with
    `after` set to the last message you have, and an empty page means nothing
    new.

    Args:
        session_ulid (str): A bare ULID, upper case.
        limit (int | Unset):  Default: 20.
        after (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx2.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        MessagePage | Problem
    """

    return (
        await asyncio_detailed(
            session_ulid=session_ulid,
            client=client,
            limit=limit,
            after=after,
        )
    ).parsed
