"""The dev server's ASGI app: the five chat operations of openapi.yaml on SQLite.

Routing is done on the raw path, not the decoded one, so that `%2F`, `%23`
and `..` in a session ID are refused as a bad ID instead of being routed
somewhere else.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send
from ulid import ULID

from .contract import Contract, Problem, echo
from .store import Replay, Store

log = logging.getLogger("clann_devserver")

ULID_RE = re.compile(r"[0-7][0-9A-HJKMNP-TV-Z]{25}")
PREFIX = ("", "api", "chat", "sessions")
JSON = "application/json"
PROBLEM_JSON = "application/problem+json"


@dataclass
class Call:
    """One request, as far as a handler needs to know it."""

    user: str
    query: Mapping[str, str]
    body: Any
    session: str | None


Handler = Callable[["ChatApp", Call], tuple[int, Any]]


class ChatApp:
    """The operations, with auth, idempotency and the contract around them."""

    def __init__(self, store: Store, tokens: Mapping[str, str], contract: Contract | None = None):
        self.store = store
        self.tokens = dict(tokens)
        self.contract = contract or Contract()

    # -- operations ---------------------------------------------------------

    def list_sessions(self, call: Call) -> tuple[int, Any]:
        self._require_self(call, call.query["created_by"])
        return 200, self.store.list_sessions(call.query["created_by"], call.query.get("tree"))

    def create_session(self, call: Call) -> tuple[int, Any]:
        body = call.body
        self._require_self(call, body["created_by"])
        return 201, self.store.create_session(body["title"], body["created_by"], body.get("tree"))

    def delete_session(self, call: Call) -> tuple[int, Any]:
        self.store.delete_session(self._owned_session(call))
        return 204, None

    def list_messages(self, call: Call) -> tuple[int, Any]:
        return 200, self.store.list_messages(self._owned_session(call))

    def append_message(self, call: Call) -> tuple[int, Any]:
        session = self._owned_session(call)
        return 201, self.store.append_message(session, call.body["role"], call.body["content"])

    def _require_self(self, call: Call, username: str) -> None:
        if username != call.user:
            raise Problem(403, f"this token may not act for user {echo(username)}")

    def _owned_session(self, call: Call) -> str:
        assert call.session is not None
        found = self.store.get_session(call.session)
        # Another user's session is reported exactly like a missing one.
        if found is None or found["created_by"] != call.user:
            raise Problem(404, f"chat session {call.session} does not exist")
        return call.session

    # -- the request pipeline -----------------------------------------------

    async def __call__(self, request: Request) -> Response:
        started = time.perf_counter()
        request_id = str(ULID())
        user = "-"
        try:
            handler, session, query_names = self._route(request)
        except Problem as problem:
            # No operation of openapi.yaml matched, so there is no contract to check.
            return self._finish(request, _problem_response(problem, request_id), started, user)
        body: bytes | None = None
        try:
            user = self._authenticate(request)
            body = await request.body() if request.method == "POST" else None
            call = Call(user, _query(request, query_names), _parse_json(request, body), session)
            self.contract.check_request(request, body)
            response = self._run(request, handler, call)
        except Problem as problem:
            response = _problem_response(problem, request_id)
        except Exception:
            log.exception("request %s failed", request_id)
            response = _problem_response(Problem(500, "internal server error"), request_id)
        response.headers["X-Request-Id"] = request_id
        if response.status_code != 500:
            drift = self.contract.response_errors(request, body, response)
            if drift:
                log.error("response breaks openapi.yaml: %s", drift)
                response = _problem_response(Problem(500, "the server's response broke its own contract"), request_id)
        return self._finish(request, response, started, user)

    def _finish(self, request: Request, response: Response, started: float, user: str) -> Response:
        log.info(
            "%s %s %d %s %.1fms user=%s",
            request.method,
            request.url.path,
            response.status_code,
            response.headers["X-Request-Id"],
            (time.perf_counter() - started) * 1000,
            user,
        )
        return response

    def _route(self, request: Request) -> tuple[Handler, str | None, tuple[str, ...]]:
        raw = request.scope.get("raw_path") or request.scope["path"].encode()
        parts = raw.decode("latin-1").split("?", 1)[0].split("/")
        if tuple(parts[:4]) != PREFIX or len(parts) > 6 or (len(parts) == 6 and parts[5] != "messages"):
            raise Problem(404, f"no such resource: {echo(request.url.path)}")
        methods = ROUTES[len(parts)]
        if request.method not in methods:
            allowed = ", ".join(methods)
            raise Problem(405, f"{request.method} is not allowed here; allowed: {allowed}", headers={"Allow": allowed})
        handler, allowed_query = methods[request.method]
        session = None
        if len(parts) > 4:
            session = unquote(parts[4], errors="replace")
            if not ULID_RE.fullmatch(session):
                raise Problem(
                    400,
                    f"session_ulid must be a bare ULID (26 characters, 0-9 and upper-case A-Z "
                    f"without I, L, O, U), got {echo(session)}",
                )
        return handler, session, allowed_query

    def _authenticate(self, request: Request) -> str:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Problem(401, "a bearer token is required", headers={"WWW-Authenticate": "Bearer"})
        user = self.tokens.get(token.strip())
        if user is None:
            raise Problem(401, "the bearer token is not valid", headers={"WWW-Authenticate": "Bearer"})
        return user

    def _run(self, request: Request, handler: Handler, call: Call) -> Response:
        key = request.headers.get("idempotency-key")
        if request.method != "POST" or key is None:
            return _json_response(*handler(self, call))
        route = f"{request.method} {request.url.path}"
        digest = hashlib.sha256(json.dumps(call.body, sort_keys=True).encode()).hexdigest()
        with self.store.atomic():
            earlier = self.store.find_replay(call.user, key, route)
            if earlier is not None:
                if earlier.body_digest != digest:
                    raise Problem(409, "this Idempotency-Key was already used with another request body")
                replayed = Response(earlier.response, earlier.status, media_type=JSON)
                replayed.headers["Idempotent-Replayed"] = "true"
                return replayed
            response = _json_response(*handler(self, call))
            self.store.save_replay(
                call.user, key, route, Replay(digest, response.status_code, bytes(response.body).decode())
            )
        return response


# Path segments -> method -> (handler, the query parameters it takes).
ROUTES: dict[int, dict[str, tuple[Handler, tuple[str, ...]]]] = {
    4: {"GET": (ChatApp.list_sessions, ("created_by", "tree")), "POST": (ChatApp.create_session, ())},
    5: {"DELETE": (ChatApp.delete_session, ())},
    6: {"GET": (ChatApp.list_messages, ()), "POST": (ChatApp.append_message, ())},
}


def _query(request: Request, allowed: tuple[str, ...]) -> dict[str, str]:
    names = [name for name, _ in request.query_params.multi_items()]
    unknown = sorted(set(names) - set(allowed))
    if unknown:
        raise Problem(400, f"unknown query parameter(s): {', '.join(map(echo, unknown))}")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise Problem(400, f"query parameter(s) given more than once: {', '.join(repeated)}")
    return dict(request.query_params)


def _parse_json(request: Request, body: bytes | None) -> Any:
    if body is None:
        return None
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != JSON:
        raise Problem(400, f"the body must be {JSON}, got {echo(media_type or 'no content type')}")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Problem(400, f"the body is not UTF-8 (byte {error.start})") from None
    try:
        parsed = json.loads(text, parse_constant=_reject_constant)
        # Lone surrogates decode from JSON escapes but cannot be stored as text.
        json.dumps(parsed, ensure_ascii=False).encode("utf-8")
    except (ValueError, UnicodeEncodeError) as error:
        raise Problem(400, f"the body is not valid JSON: {str(error)[:120]}") from None
    if not isinstance(parsed, dict):
        raise Problem(422, "the body must be a JSON object", [{"field": "(body)", "message": "must be an object"}])
    return parsed


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _json_response(status: int, payload: Any) -> Response:
    if payload is None:
        return Response(status_code=status)
    return Response(json.dumps(payload, ensure_ascii=False), status, media_type=JSON)


def _problem_response(problem: Problem, request_id: str) -> Response:
    document: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(problem.status).phrase,
        "status": problem.status,
        "detail": problem.detail,
        "request_id": request_id,
    }
    if problem.errors:
        document["errors"] = problem.errors
    headers = {**problem.headers, "X-Request-Id": request_id}
    return Response(json.dumps(document), problem.status, headers, media_type=PROBLEM_JSON)


def create_app(store: Store, tokens: Mapping[str, str]) -> ASGIApp:
    """The ASGI app serving `store`, with `tokens` mapping bearer tokens to usernames."""
    chat = ChatApp(store, tokens)

    # No router: every path, even one a router's pattern would not match (a newline,
    # say), gets its problem+json answer from the ChatApp.
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        response = await chat(Request(scope, receive))
        await response(scope, receive, send)

    return app
