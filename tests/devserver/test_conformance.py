"""The dev server against openapi.yaml, by schemathesis: every operation, then a stateful run through its links.

In process (ASGI, no port), seeded and bounded so that it takes about a minute.
Requests act as the dev server's user alice, so that they reach the success paths:
the token and the query's `created_by` come from schemathesis/schemathesis.toml.

Some values the schema allows are refused by the contract's own words, and would
fail schemathesis's check that valid data is accepted; where schemathesis meant a
value to be valid, the hooks below replace it with one the server accepts:
`created_by` in a body is the token's user (else 403), a `role` is a known one
(else 422), a `cursor` is one this server could have given out (else 400), a
random `after` is dropped (it names no message of the session: 400; a real one
comes through the links), and each Idempotency-Key is made unique to its case
(cases share a database, and a key sent again with another body is 422). A valid
`wait` becomes 0: a listing held for up to 30 s a case would take the run hours;
long polling is tested in test_waiting.py.
"""

from __future__ import annotations

import itertools
import re
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, seed, settings

from pyclann.devserver.app import ChatApp
from pyclann.devserver.operations import KNOWN_ROLES
from pyclann.devserver.pages import encode_cursor, listing_tag
from pyclann.devserver.problems import Problem
from pyclann.devserver.store import Store

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
TOKENS = {"token-a": "alice"}
USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
CURSOR = re.compile(r"[A-Za-z0-9_-]{1,200}")
AFTER = re.compile(r"(chat_message:)?[0-7][0-9A-HJKMNP-TV-Z]{25}")
KEY = re.compile(r"[!-~]{1,255}")
MAX_WAIT = 30
CASES = itertools.count()


class FreshServer:
    """The ASGI app under test, on a new empty database whenever `reset()` is called; counts statuses."""

    def __init__(self) -> None:
        self.folder = tempfile.TemporaryDirectory(prefix="conformance-")
        self.stores: list[Store] = []
        # (operation ID, or "-" where none matched; status) -> responses.
        self.statuses: Counter[tuple[str, int]] = Counter()
        self.reset()

    def reset(self) -> None:
        self.stores.append(Store(Path(self.folder.name) / f"chat-{len(self.stores)}.sqlite3"))
        self.app = ChatApp(self.stores[-1], TOKENS)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            operation = self.app.router.route(scope["method"], scope["raw_path"].decode("latin-1")).operation.id
        except Problem:
            operation = "-"

        async def counting_send(message: Any) -> None:
            if message["type"] == "http.response.start":
                self.statuses[(operation, message["status"])] += 1
            await send(message)

        await self.app(scope, receive, counting_send)

    def successes(self) -> set[str]:
        """The operations answered with a 2xx since the counts were last cleared."""
        return {operation for (operation, status), count in self.statuses.items() if 200 <= status < 300 and count}

    def close(self) -> None:
        for store in self.stores:
            store.close()
        self.folder.cleanup()


SERVER = FreshServer()
schema = schemathesis.openapi.from_path(
    ROOT / "openapi.yaml", config=schemathesis.Config.from_path(HERE / "schemathesis" / "schemathesis.toml")
)
schema.config.update(base_url="http://testserver")
schema.app = SERVER


@schema.hook
def map_case(context: Any, case: Any) -> Any:
    """Every generated case, in every phase: valid values the server would refuse, replaced by accepted ones."""
    if isinstance(case.body, dict):
        case.body = _acceptable_body(case.body)
    if isinstance(case.query, dict):
        case.query = _acceptable_query(case.query)
    key = (case.headers or {}).get("Idempotency-Key")
    if isinstance(key, str) and KEY.fullmatch(key):
        suffix = f"~{next(CASES)}"
        case.headers["Idempotency-Key"] = key[: 255 - len(suffix)] + suffix
    return case


def _acceptable_body(body: dict[str, Any]) -> dict[str, Any]:
    created_by = body.get("created_by")
    if isinstance(created_by, str) and USERNAME.fullmatch(created_by):
        body = {**body, "created_by": "alice"}
    role = body.get("role")
    if isinstance(role, str) and 1 <= len(role) <= 64 and role not in KNOWN_ROLES:
        body = {**body, "role": KNOWN_ROLES[len(role) % len(KNOWN_ROLES)]}
    return body


def _acceptable_query(query: dict[str, Any]) -> dict[str, Any]:
    cursor = query.get("cursor")
    if isinstance(cursor, str) and CURSOR.fullmatch(cursor):
        # A position anywhere in the listing: a walk's start, a time, and a ULID drawn from the generated value.
        ulid = "0" + "".join("0123456789ABCDEFGHJKMNPQRSTVWXYZ"[ord(c) % 32] for c in (cursor * 25)[:25])
        time = "2026-11-26T12:00:00.000000Z"
        tag = listing_tag(str(query.get("created_by")), query.get("tree"))
        query = {**query, "cursor": encode_cursor(time, time, ulid, tag)}
    after = query.get("after")
    if isinstance(after, str) and AFTER.fullmatch(after):
        query = {key: value for key, value in query.items() if key != "after"}
    wait = query.get("wait")
    if isinstance(wait, int) and not isinstance(wait, bool) and 0 < wait <= MAX_WAIT:
        query = {**query, "wait": 0}
    return query


@pytest.fixture(scope="module", autouse=True)
def _close_server() -> Iterator[None]:
    yield
    SERVER.close()


def _report(phase: str) -> None:
    # The figures for a closing note: `make pytest` hides them, `pytest -s` shows them.
    print(f"\nschemathesis, {phase}: {SERVER.statuses.total()} requests, by operation and status:")
    for (operation, status), count in sorted(SERVER.statuses.items()):
        print(f"  {operation} {status}: {count}")


BOUNDED = settings(
    max_examples=60, derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck)
)


@schema.parametrize()
@BOUNDED
def test_every_operation_conforms(case: Any) -> None:
    case.call_and_validate()


class Workflow(schema.as_state_machine()):  # type: ignore[misc]
    """Sequences of calls that follow openapi.yaml's links: create, then get, patch, list, append and delete."""

    def setup(self) -> None:
        SERVER.reset()


def test_stateful_workflow() -> None:
    SERVER.statuses.clear()
    every_operation = set(SERVER.app.contract.spec.operations)
    # Which link the machine follows next depends on the server's answers (random ULIDs, times), so
    # one round of 80 sequences can miss a rare one (get_message, two links deep). Up to three
    # rounds, each from its own fixed seed, must reach every success path; a broken link never does.
    for round_seed in range(3):

        @seed(round_seed)
        class Round(Workflow):
            """One round of the workflow, drawn from its own seed."""

        Round.run(
            settings=settings(
                max_examples=80,
                stateful_step_count=12,
                database=None,
                deadline=None,
                suppress_health_check=list(HealthCheck),
            )
        )
        if SERVER.successes() == every_operation:
            break
    _report("stateful")
    # Following the links reaches every operation's success path.
    assert SERVER.successes() == every_operation
