"""A whole recorded exchange, request and response, checked against openapi.yaml as the server checks its own.

For tests that hold HTTP traffic recorded elsewhere (cassettes): the same
routing, parameter, body and response checks as the running server, without
a server, a database or openapi-core.

    errors = exchange_errors(Contract(), "GET", "/api/chat/sessions", b"created_by=alice",
                             {"authorization": "Bearer t"}, None, 200, response_headers, response_body)
"""

from __future__ import annotations

from collections.abc import Mapping

from .contract import Contract
from .problems import Problem
from .routing import Router
from .wire import parse_json, parse_query


def exchange_errors(
    contract: Contract,
    method: str,
    raw_path: str,
    query: bytes,
    headers: Mapping[str, str],
    body: bytes | None,
    status: int,
    response_headers: Mapping[str, str],
    response_body: bytes,
) -> list[str]:
    """What breaks the contract in one exchange; empty if nothing does.

    A request the contract refuses is not itself an error when the response is
    the problem the server would have answered with: a recorded 4xx is checked
    as a response. Headers are matched by lower-case name.

    Args:
        contract: The contract to check against.
        method: The request's method.
        raw_path: The request's path as sent (percent-encoded), without the query.
        query: The query string as sent, without `?`.
        headers: The request's headers.
        body: The request's body, or None.
        status: The response's status.
        response_headers: The response's headers.
        response_body: The response's body.
    """
    request_headers = {name.lower(): value for name, value in headers.items()}
    answer_headers = {name.lower(): value for name, value in response_headers.items()}
    errors: list[str] = []
    operation = None
    try:
        route = Router(list(contract.spec.operations.values())).route(method, raw_path)
        operation = route.operation
        contract.check_parameters(operation, route.path, parse_query(query), request_headers)
        if operation.body is not None:
            contract.check_body(operation, parse_json(body or b"", request_headers.get("content-type")))
    except Problem as problem:
        if status != problem.status:
            errors.append(f"the request breaks the contract ({problem.kind}: {problem.detail}), answered {status}")
    drift = contract.response_errors(operation, status, answer_headers, response_body)
    if drift is not None:
        errors.append(f"the response breaks the contract: {drift}")
    return errors
