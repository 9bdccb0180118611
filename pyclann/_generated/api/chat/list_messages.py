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
    wait: int | Unset = 0,
) -> dict[str, Any]:
    """The keyword arguments of `httpx2.Client.request` for this operation, with a relative URL."""

    params: dict[str, Any] = {}

    params["limit"] = limit

    params["after"] = after

    params["wait"] = wait

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
    wait: int | Unset = 0,
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

    **Long polling (`wait`).** With `wait` (seconds, 0 to 30; default 0, which
    answers at once), a request whose page would be empty is held instead of
    answered empty. If the page the request would get holds at least one
    message, the answer comes at once, exactly as without `wait`. Otherwise the
    server holds the request until the first of:

    * a message is appended to this session: the answer is the page after
      `after` (from the start, without `after`), as a request sent at that
      moment would get it;
    * `wait` runs out: an empty page, `has_more` false;
    * the session is deleted: 404 (`not-found`), as any later request gets;
    * the server shuts down: it answers at once, 503 (`unavailable`) with
      `Retry-After: 1` and `Connection: close`, so that a stopping server
      does not keep its clients for up to 30 seconds, and they ask again
      (elsewhere, or once it is back) a second later. Not an empty page:
      that would say the session was quiet, and a follower would wait a
      whole `wait` before asking again, well past a restart.

    So a follower loops: ask with `after` set to the last message it has and
    `wait` set, take what comes, ask again. It learns of a new message within
    a round trip of its append, and while the session is idle it sends one
    request per `wait`, not one per poll tick. A `wait` that is not an integer,
    or is outside 0 to 30, is 400 (`invalid-parameter`), and the problem's
    detail names `wait`. Clients should allow the request `wait` seconds more
    than their usual timeout.

    Why long polling, and not server-sent events or WebSockets: each answer is
    an ordinary JSON page of this same listing, decoded by the same code, so
    there is no second wire format or framing to implement; a long poll is a
    plain request and response, so it is recorded and replayed in cassettes,
    retried and resumed like any other GET (the cursor is `after`, held by the
    client: a lost answer costs nothing, as the next request asks from the
    same place); and proxies, load balancers and corporate gateways pass it
    unchanged, where they buffer or cut event streams and many refuse upgrades.
    What was weighed: an event stream delivers several messages on one
    connection without a new request each, and a WebSocket would carry writes
    too; but messages arrive at human pace, a request per wake-up is cheap on a
    kept-alive connection, and a page carries every message that arrived in
    the meantime. The 30-second ceiling stays below common proxy and load
    balancer idle timeouts (often 60 seconds), so a held request is not cut
    by the path to the server.

    Args:
        session_ulid (str): A bare ULID, upper case.
        limit (int | Unset):  Default: 20.
        after (str | Unset):
        wait (int | Unset):  Default: 0.

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
        wait=wait,
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
    wait: int | Unset = 0,
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

    **Long polling (`wait`).** With `wait` (seconds, 0 to 30; default 0, which
    answers at once), a request whose page would be empty is held instead of
    answered empty. If the page the request would get holds at least one
    message, the answer comes at once, exactly as without `wait`. Otherwise the
    server holds the request until the first of:

    * a message is appended to this session: the answer is the page after
      `after` (from the start, without `after`), as a request sent at that
      moment would get it;
    * `wait` runs out: an empty page, `has_more` false;
    * the session is deleted: 404 (`not-found`), as any later request gets;
    * the server shuts down: it answers at once, 503 (`unavailable`) with
      `Retry-After: 1` and `Connection: close`, so that a stopping server
      does not keep its clients for up to 30 seconds, and they ask again
      (elsewhere, or once it is back) a second later. Not an empty page:
      that would say the session was quiet, and a follower would wait a
      whole `wait` before asking again, well past a restart.

    So a follower loops: ask with `after` set to the last message it has and
    `wait` set, take what comes, ask again. It learns of a new message within
    a round trip of its append, and while the session is idle it sends one
    request per `wait`, not one per poll tick. A `wait` that is not an integer,
    or is outside 0 to 30, is 400 (`invalid-parameter`), and the problem's
    detail names `wait`. Clients should allow the request `wait` seconds more
    than their usual timeout.

    Why long polling, and not server-sent events or WebSockets: each answer is
    an ordinary JSON page of this same listing, decoded by the same code, so
    there is no second wire format or framing to implement; a long poll is a
    plain request and response, so it is recorded and replayed in cassettes,
    retried and resumed like any other GET (the cursor is `after`, held by the
    client: a lost answer costs nothing, as the next request asks from the
    same place); and proxies, load balancers and corporate gateways pass it
    unchanged, where they buffer or cut event streams and many refuse upgrades.
    What was weighed: an event stream delivers several messages on one
    connection without a new request each, and a WebSocket would carry writes
    too; but messages arrive at human pace, a request per wake-up is cheap on a
    kept-alive connection, and a page carries every message that arrived in
    the meantime. The 30-second ceiling stays below common proxy and load
    balancer idle timeouts (often 60 seconds), so a held request is not cut
    by the path to the server.

    Args:
        session_ulid (str): A bare ULID, upper case.
        limit (int | Unset):  Default: 20.
        after (str | Unset):
        wait (int | Unset):  Default: 0.

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
        wait=wait,
    ).parsed


async def asyncio_detailed(
    session_ulid: str,
    *,
    client: AuthenticatedClient | Client,
    limit: int | Unset = 20,
    after: str | Unset = UNSET,
    wait: int | Unset = 0,
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

    **Long polling (`wait`).** With `wait` (seconds, 0 to 30; default 0, which
    answers at once), a request whose page would be empty is held instead of
    answered empty. If the page the request would get holds at least one
    message, the answer comes at once, exactly as without `wait`. Otherwise the
    server holds the request until the first of:

    * a message is appended to this session: the answer is the page after
      `after` (from the start, without `after`), as a request sent at that
      moment would get it;
    * `wait` runs out: an empty page, `has_more` false;
    * the session is deleted: 404 (`not-found`), as any later request gets;
    * the server shuts down: it answers at once, 503 (`unavailable`) with
      `Retry-After: 1` and `Connection: close`, so that a stopping server
      does not keep its clients for up to 30 seconds, and they ask again
      (elsewhere, or once it is back) a second later. Not an empty page:
      that would say the session was quiet, and a follower would wait a
      whole `wait` before asking again, well past a restart.

    So a follower loops: ask with `after` set to the last message it has and
    `wait` set, take what comes, ask again. It learns of a new message within
    a round trip of its append, and while the session is idle it sends one
    request per `wait`, not one per poll tick. A `wait` that is not an integer,
    or is outside 0 to 30, is 400 (`invalid-parameter`), and the problem's
    detail names `wait`. Clients should allow the request `wait` seconds more
    than their usual timeout.

    Why long polling, and not server-sent events or WebSockets: each answer is
    an ordinary JSON page of this same listing, decoded by the same code, so
    there is no second wire format or framing to implement; a long poll is a
    plain request and response, so it is recorded and replayed in cassettes,
    retried and resumed like any other GET (the cursor is `after`, held by the
    client: a lost answer costs nothing, as the next request asks from the
    same place); and proxies, load balancers and corporate gateways pass it
    unchanged, where they buffer or cut event streams and many refuse upgrades.
    What was weighed: an event stream delivers several messages on one
    connection without a new request each, and a WebSocket would carry writes
    too; but messages arrive at human pace, a request per wake-up is cheap on a
    kept-alive connection, and a page carries every message that arrived in
    the meantime. The 30-second ceiling stays below common proxy and load
    balancer idle timeouts (often 60 seconds), so a held request is not cut
    by the path to the server.

    Args:
        session_ulid (str): A bare ULID, upper case.
        limit (int | Unset):  Default: 20.
        after (str | Unset):
        wait (int | Unset):  Default: 0.

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
        wait=wait,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    session_ulid: str,
    *,
    client: AuthenticatedClient | Client,
    limit: int | Unset = 20,
    after: str | Unset = UNSET,
    wait: int | Unset = 0,
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

    **Long polling (`wait`).** With `wait` (seconds, 0 to 30; default 0, which
    answers at once), a request whose page would be empty is held instead of
    answered empty. If the page the request would get holds at least one
    message, the answer comes at once, exactly as without `wait`. Otherwise the
    server holds the request until the first of:

    * a message is appended to this session: the answer is the page after
      `after` (from the start, without `after`), as a request sent at that
      moment would get it;
    * `wait` runs out: an empty page, `has_more` false;
    * the session is deleted: 404 (`not-found`), as any later request gets;
    * the server shuts down: it answers at once, 503 (`unavailable`) with
      `Retry-After: 1` and `Connection: close`, so that a stopping server
      does not keep its clients for up to 30 seconds, and they ask again
      (elsewhere, or once it is back) a second later. Not an empty page:
      that would say the session was quiet, and a follower would wait a
      whole `wait` before asking again, well past a restart.

    So a follower loops: ask with `after` set to the last message it has and
    `wait` set, take what comes, ask again. It learns of a new message within
    a round trip of its append, and while the session is idle it sends one
    request per `wait`, not one per poll tick. A `wait` that is not an integer,
    or is outside 0 to 30, is 400 (`invalid-parameter`), and the problem's
    detail names `wait`. Clients should allow the request `wait` seconds more
    than their usual timeout.

    Why long polling, and not server-sent events or WebSockets: each answer is
    an ordinary JSON page of this same listing, decoded by the same code, so
    there is no second wire format or framing to implement; a long poll is a
    plain request and response, so it is recorded and replayed in cassettes,
    retried and resumed like any other GET (the cursor is `after`, held by the
    client: a lost answer costs nothing, as the next request asks from the
    same place); and proxies, load balancers and corporate gateways pass it
    unchanged, where they buffer or cut event streams and many refuse upgrades.
    What was weighed: an event stream delivers several messages on one
    connection without a new request each, and a WebSocket would carry writes
    too; but messages arrive at human pace, a request per wake-up is cheap on a
    kept-alive connection, and a page carries every message that arrived in
    the meantime. The 30-second ceiling stays below common proxy and load
    balancer idle timeouts (often 60 seconds), so a held request is not cut
    by the path to the server.

    Args:
        session_ulid (str): A bare ULID, upper case.
        limit (int | Unset):  Default: 20.
        after (str | Unset):
        wait (int | Unset):  Default: 0.

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
            wait=wait,
        )
    ).parsed
