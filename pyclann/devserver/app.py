"""The dev server's ASGI app: each request through routing, auth, the contract, idempotency and its handler.

A plain ASGI callable, with no framework router: every request, even one whose
path no router pattern would match (a newline in an ID, say), gets its
problem+json answer from here, with an `X-Request-Id`, and one log line.

Two handles serve tests, from any thread: `reset()` forgets every record and
keeps the users, so that one server serves a whole test session; and
`write_delay` keeps each write in flight for a while, so that a second request
with its Idempotency-Key meets the 409 the contract documents.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

from ulid import ULID

from .contract import Contract
from .idempotency import Idempotency, Key
from .operations import Call, Operations, Result
from .problems import Problem
from .replies import Reply, problem_reply, reply, send_reply
from .routing import Route, Router
from .store import Store
from .waiting import Bell
from .wire import BODY_TIMEOUT, check_head, headers_of, parse_json, parse_query, read_body

log = logging.getLogger("pyclann.devserver")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

WRITES = frozenset({"POST", "PATCH", "DELETE"})
# The writes that wake a long poll on their session, once committed: an append (its page
# has a message now) and a delete (its answer is a 404 now).
_RINGING = frozenset({"append_message", "delete_session"})
# What a long poll held when the server stops is answered with: ask again in a second, on a new connection.
_STOPPING = {"Connection": "close", "Retry-After": "1"}
_MAX_LOGGED_PATH = 200
# How long `reset` waits for the server's event loop to carry it out.
_RESET_PATIENCE = 30.0


class ContractBroken(Exception):
    """This server's own response broke openapi.yaml: a bug here, answered with a 500."""


class ChatApp:
    """The operations, with auth, idempotency and the contract around them.

    Attributes:
        write_delay: Seconds each write (POST, PATCH, DELETE) waits before it is carried
            out; 0 for none. While one waits, its Idempotency-Key is in flight: another
            request with it is answered 409 `idempotency-in-flight`. Settable from any thread.
    """

    def __init__(
        self,
        store: Store,
        tokens: Mapping[str, str],
        contract: Contract | None = None,
        *,
        body_timeout: float = BODY_TIMEOUT,
        write_delay: float = 0.0,
    ) -> None:
        self.tokens = dict(tokens)
        self.body_timeout = body_timeout
        self.write_delay = write_delay
        self.store = store
        self._loop: asyncio.AbstractEventLoop | None = None
        self.contract = contract or Contract()
        operations = list(self.contract.spec.operations.values())
        self.router = Router(operations)
        self.operations = Operations(store)
        missing = {o.id for o in operations} ^ set(self.operations.handlers)
        assert not missing, f"operations and handlers differ: {sorted(missing)}"
        self.idempotency = Idempotency(store)
        self.bell = Bell()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            self._loop = asyncio.get_running_loop()
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        started = time.perf_counter()
        request_id = str(ULID())
        raw_path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        user = "-"
        route = None
        try:
            check_head(raw_path.encode("latin-1"), scope.get("query_string", b""), scope["headers"])
            route = self.router.route(scope["method"], raw_path)
            headers = headers_of(scope["headers"])
            user = self._authenticate(headers)
            query = parse_query(scope.get("query_string", b""))
            params = self.contract.check_parameters(route.operation, route.path, query, headers)
            body = None
            if route.operation.body is not None:
                body = parse_json(
                    await read_body(receive, headers, time_limit=self.body_timeout), headers.get("content-type")
                )
                self.contract.check_body(route.operation, body)
            answer = await self._carry_out(route, Call(user, params, body), request_id, receive)
        except Problem as problem:
            answer = problem_reply(problem, request_id)
        except asyncio.CancelledError:
            # A stopping server whose graceful shutdown ran out of time cancels the requests still
            # reading their bodies, to end them; uvicorn would answer with a text/plain 500 of its
            # own, and log the cancellation as the app's failure. The request ends here, answered.
            answer = problem_reply(
                Problem("unavailable", "the server is stopping", headers={"Connection": "close"}), request_id
            )
        except ContractBroken as error:
            log.error("response breaks openapi.yaml: %s", error)
            answer = problem_reply(Problem("internal", "the server's response broke its own contract"), request_id)
        except Exception:
            log.exception("request %s failed", request_id)
            answer = problem_reply(Problem("internal", "internal server error"), request_id)
        if not answer.checked and answer.status != 500:
            try:
                self._check(route, answer)
            except ContractBroken as error:
                log.error("response breaks openapi.yaml: %s", error)
                answer = problem_reply(Problem("internal", "the server's response broke its own contract"), request_id)
        await send_reply(answer, send)
        log.info(
            "%s %s %d %s %.1fms user=%s",
            scope["method"],
            raw_path[:_MAX_LOGGED_PATH],
            answer.status,
            request_id,
            (time.perf_counter() - started) * 1000,
            user,
        )

    def _authenticate(self, headers: Mapping[str, str]) -> str:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Problem("unauthenticated", "a bearer token is required", headers={"WWW-Authenticate": "Bearer"})
        user = self.tokens.get(token.strip())
        if user is None:
            raise Problem("unauthenticated", "the bearer token is not valid", headers={"WWW-Authenticate": "Bearer"})
        return user

    def reset(self) -> None:
        """Forget every session, message and idempotency record; the users and their tokens stay.

        Safe from any thread: it runs on the server's event loop, between requests,
        once the server has started (or at once, before then).

        Raises:
            TimeoutError: If the server's event loop did not carry it out within 30 seconds.
        """
        loop = self._loop
        if loop is None or not loop.is_running() or _in_loop(loop):
            self.store.clear()
            return

        async def clear() -> None:
            self.store.clear()
            self.bell.ring()  # every session is gone: a request held on one gets its 404

        asyncio.run_coroutine_threadsafe(clear(), loop).result(_RESET_PATIENCE)

    def stop_waiting(self) -> None:
        """Answer every long poll now, and hold none from now on: the server is stopping.

        Call it on the server's event loop.
        """
        self.bell.stop()

    async def _carry_out(self, route: Route, call: Call, request_id: str, receive: Receive) -> Reply:
        operation = route.operation
        Operations.check(operation.id, call)
        handler = self.operations.handlers[operation.id]

        def answer(result: Result) -> Reply:
            answered = reply(result.status, result.body, request_id, location=result.location)
            self._check(route, answered)
            answered.checked = True
            return answered

        if operation.method not in WRITES:
            seconds = call.params.get("wait", 0)
            if not seconds:
                return answer(handler(call))
            # Requests woken by one append share their look when they ask the same (1,000 followers).
            share = (call.user, call.params.get("after"), call.params["limit"])
            held = await self.bell.hold(
                route.path["session_ulid"], seconds, lambda: handler(call), lambda r: r.empty, receive, share
            )
            if self.bell.stopping and held.empty:
                # Not an empty page: that would tell a follower the session is quiet, and it would wait a
                # whole `wait` before asking again, past the restart. A 503 it retries, a second later.
                raise Problem("unavailable", "the server is stopping: ask again shortly", headers=_STOPPING)
            answered = answer(held)
            if self.bell.stopping:
                # The connection ends with the server: the client asks again elsewhere, or later.
                answered.headers["connection"] = "close"
            return answered
        given = call.params.get("Idempotency-Key")
        key = None
        if given is not None:
            key = Key(call.user, given, operation.method, operation.template.format(**route.path))
        answered = await self.idempotency.carry_out(
            key, call.body, lambda: handler(call), answer, request_id, delay=self.write_delay
        )
        if operation.id in _RINGING and answered.status < 300:
            # After the write's transaction has committed: a woken request reads what it wrote.
            self.bell.ring(route.path["session_ulid"])
        return answered

    def _check(self, route: Route | None, answer: Reply) -> None:
        operation = route.operation if route is not None else None
        drift = self.contract.response_errors(operation, answer.status, answer.headers, answer.body)
        if drift is not None:
            raise ContractBroken(drift)


def _in_loop(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False


def create_app(store: Store, tokens: Mapping[str, str], *, body_timeout: float = BODY_TIMEOUT) -> ASGIApp:
    """The ASGI app serving `store`, with `tokens` mapping bearer tokens to usernames.

    Args:
        store: The data.
        tokens: Bearer tokens, each with its username.
        body_timeout: Seconds a request's body may take to arrive; then 408.
    """
    return ChatApp(store, tokens, body_timeout=body_timeout)
