from http import HTTPStatus
from typing import Any

import httpx2

from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.session_page import SessionPage
from ...types import UNSET, Response, Unset


def request_kwargs(
    *,
    created_by: str,
    tree: str | Unset = UNSET,
    limit: int | Unset = 20,
    cursor: str | Unset = UNSET,
) -> dict[str, Any]:
    """The keyword arguments of `httpx2.Client.request` for this operation, with a relative URL."""

    params: dict[str, Any] = {}

    params["created_by"] = created_by

    params["tree"] = tree

    params["limit"] = limit

    params["cursor"] = cursor

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/chat/sessions",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx2.Response
) -> Problem | SessionPage:
    if response.status_code == 200:
        response_200 = SessionPage.from_dict(response.json())

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
) -> Response[Problem | SessionPage]:
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
    limit: int | Unset = 20,
    cursor: str | Unset = UNSET,
) -> Response[Problem | SessionPage]:
    """List a user's chat sessions, most recently updated first.

     One page of the sessions of `created_by` (optionally only those of one
    tree), most recently updated first, ties broken on the ID (descending).
    Pass `next_cursor` as `cursor` for the next page.

    The cursor is a keyset, not an offset: the time the walk began (when its
    first page was read), and the last session's `updated_at` and ID as of
    then. Every page of a walk lists the sessions as they were when the walk
    began, so a walk from the first page to the last returns every session
    that exists throughout it exactly once, in the order of that moment, and
    never returns a session twice. A session renamed, moved to another tree
    or given a message during the walk keeps its place and is returned as it
    was when the walk began (its title, tree and `updated_at` then; get it to
    see it as it is now); with `tree`, a walk lists the sessions that were of
    that tree when it began. A session created during the walk is not
    returned; one deleted during the walk is not returned after its
    deletion. Start a new walk to see such changes.

    (In version 2.0.0 of this contract each page was read as of its own
    time: a session changed during a walk moved ahead of the cursor, and a
    walk missed a session that existed throughout it if it changed before
    the walk reached it. A cursor of that form, 72 characters, is still
    taken, and walks on as then.)

    Args:
        created_by (str): A user's name; a letter or digit, then letters, digits, `_`, `.` or `-`.
        tree (str | Unset): A tree's slug; lower-case letters and digits, words joined by single
            hyphens.
        limit (int | Unset):  Default: 20.
        cursor (str | Unset): An opaque position in a listing.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx2.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | SessionPage]
    """

    kwargs = request_kwargs(
        created_by=created_by,
        tree=tree,
        limit=limit,
        cursor=cursor,
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
    limit: int | Unset = 20,
    cursor: str | Unset = UNSET,
) -> Problem | SessionPage | None:
    """List a user's chat sessions, most recently updated first.

     One page of the sessions of `created_by` (optionally only those of one
    tree), most recently updated first, ties broken on the ID (descending).
    Pass `next_cursor` as `cursor` for the next page.

    The cursor is a keyset, not an offset: the time the walk began (when its
    first page was read), and the last session's `updated_at` and ID as of
    then. Every page of a walk lists the sessions as they were when the walk
    began, so a walk from the first page to the last returns every session
    that exists throughout it exactly once, in the order of that moment, and
    never returns a session twice. A session renamed, moved to another tree
    or given a message during the walk keeps its place and is returned as it
    was when the walk began (its title, tree and `updated_at` then; get it to
    see it as it is now); with `tree`, a walk lists the sessions that were of
    that tree when it began. A session created during the walk is not
    returned; one deleted during the walk is not returned after its
    deletion. Start a new walk to see such changes.

    (In version 2.0.0 of this contract each page was read as of its own
    time: a session changed during a walk moved ahead of the cursor, and a
    walk missed a session that existed throughout it if it changed before
    the walk reached it. A cursor of that form, 72 characters, is still
    taken, and walks on as then.)

    Args:
        created_by (str): A user's name; a letter or digit, then letters, digits, `_`, `.` or `-`.
        tree (str | Unset): A tree's slug; lower-case letters and digits, words joined by single
            hyphens.
        limit (int | Unset):  Default: 20.
        cursor (str | Unset): An opaque position in a listing.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx2.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | SessionPage
    """

    return sync_detailed(
        client=client,
        created_by=created_by,
        tree=tree,
        limit=limit,
        cursor=cursor,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    created_by: str,
    tree: str | Unset = UNSET,
    limit: int | Unset = 20,
    cursor: str | Unset = UNSET,
) -> Response[Problem | SessionPage]:
    """List a user's chat sessions, most recently updated first.

     One page of the sessions of `created_by` (optionally only those of one
    tree), most recently updated first, ties broken on the ID (descending).
    Pass `next_cursor` as `cursor` for the next page.

    The cursor is a keyset, not an offset: the time the walk began (when its
    first page was read), and the last session's `updated_at` and ID as of
    then. Every page of a walk lists the sessions as they were when the walk
    began, so a walk from the first page to the last returns every session
    that exists throughout it exactly once, in the order of that moment, and
    never returns a session twice. A session renamed, moved to another tree
    or given a message during the walk keeps its place and is returned as it
    was when the walk began (its title, tree and `updated_at` then; get it to
    see it as it is now); with `tree`, a walk lists the sessions that were of
    that tree when it began. A session created during the walk is not
    returned; one deleted during the walk is not returned after its
    deletion. Start a new walk to see such changes.

    (In version 2.0.0 of this contract each page was read as of its own
    time: a session changed during a walk moved ahead of the cursor, and a
    walk missed a session that existed throughout it if it changed before
    the walk reached it. A cursor of that form, 72 characters, is still
    taken, and walks on as then.)

    Args:
        created_by (str): A user's name; a letter or digit, then letters, digits, `_`, `.` or `-`.
        tree (str | Unset): A tree's slug; lower-case letters and digits, words joined by single
            hyphens.
        limit (int | Unset):  Default: 20.
        cursor (str | Unset): An opaque position in a listing.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx2.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | SessionPage]
    """

    kwargs = request_kwargs(
        created_by=created_by,
        tree=tree,
        limit=limit,
        cursor=cursor,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    created_by: str,
    tree: str | Unset = UNSET,
    limit: int | Unset = 20,
    cursor: str | Unset = UNSET,
) -> Problem | SessionPage | None:
    """List a user's chat sessions, most recently updated first.

     One page of the sessions of `created_by` (optionally only those of one
    tree), most recently updated first, ties broken on the ID (descending).
    Pass `next_cursor` as `cursor` for the next page.

    The cursor is a keyset, not an offset: the time the walk began (when its
    first page was read), and the last session's `updated_at` and ID as of
    then. Every page of a walk lists the sessions as they were when the walk
    began, so a walk from the first page to the last returns every session
    that exists throughout it exactly once, in the order of that moment, and
    never returns a session twice. A session renamed, moved to another tree
    or given a message during the walk keeps its place and is returned as it
    was when the walk began (its title, tree and `updated_at` then; get it to
    see it as it is now); with `tree`, a walk lists the sessions that were of
    that tree when it began. A session created during the walk is not
    returned; one deleted during the walk is not returned after its
    deletion. Start a new walk to see such changes.

    (In version 2.0.0 of this contract each page was read as of its own
    time: a session changed during a walk moved ahead of the cursor, and a
    walk missed a session that existed throughout it if it changed before
    the walk reached it. A cursor of that form, 72 characters, is still
    taken, and walks on as then.)

    Args:
        created_by (str): A user's name; a letter or digit, then letters, digits, `_`, `.` or `-`.
        tree (str | Unset): A tree's slug; lower-case letters and digits, words joined by single
            hyphens.
        limit (int | Unset):  Default: 20.
        cursor (str | Unset): An opaque position in a listing.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx2.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | SessionPage
    """

    return (
        await asyncio_detailed(
            client=client,
            created_by=created_by,
            tree=tree,
            limit=limit,
            cursor=cursor,
        )
    ).parsed
