"""The dev server against openapi.yaml, by schemathesis: every operation, then a stateful run.

In process (ASGI, no port), seeded and bounded so that it takes about a minute.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, rule

from clann_devserver.app import create_app
from clann_devserver.store import Store

ROOT = Path(__file__).resolve().parents[2]
AUTH = {"Authorization": "Bearer token-a"}
TOKENS = {"token-a": "alice"}


class FreshServer:
    """The ASGI app under test, on a new empty database whenever `reset()` is called."""

    def __init__(self) -> None:
        self.folder = tempfile.TemporaryDirectory(prefix="conformance-")
        self.stores: list[Store] = []
        self.statuses: Counter[int] = Counter()
        self.reset()

    def reset(self) -> None:
        self.stores.append(Store(Path(self.folder.name) / f"chat-{len(self.stores)}.sqlite3"))
        self.app = create_app(self.stores[-1], TOKENS)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def counting_send(message: Any) -> None:
            if message["type"] == "http.response.start":
                self.statuses[message["status"]] += 1
            await send(message)

        await self.app(scope, receive, counting_send)

    def close(self) -> None:
        for store in self.stores:
            store.close()
        self.folder.cleanup()


SERVER = FreshServer()
schema = schemathesis.openapi.from_path(ROOT / "openapi.yaml")
schema.config.update(base_url="http://testserver")
schema.app = SERVER


@pytest.fixture(scope="module", autouse=True)
def _close_server() -> Iterator[None]:
    yield
    # The figures for a closing note: `make pytest` hides them, `pytest -s` shows them.
    print(f"\nschemathesis: {SERVER.statuses.total()} requests, by status {dict(sorted(SERVER.statuses.items()))}")
    SERVER.close()


@schema.parametrize()
@settings(max_examples=150, derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_conforms(case: schemathesis.Case) -> None:
    _call(case)


def _call(case: schemathesis.Case) -> Any:
    return case.call_and_validate(headers=AUTH)


class ChatWorkflow(RuleBasedStateMachine):
    """Create, append, list and delete, in any order, with schema-generated data."""

    sessions = Bundle("sessions")

    def __init__(self) -> None:
        super().__init__()
        SERVER.reset()
        self.messages: dict[str, list[str]] = {}

    @rule(target=sessions, data=st.data())
    def create(self, data: st.DataObject) -> str:
        case = data.draw(schema["/api/chat/sessions"]["POST"].as_strategy())
        if isinstance(case.body, dict):
            case.body["created_by"] = "alice"
        response = _call(case)
        if response.status_code != 201:
            return hypothesis.stateful.multiple()  # type: ignore[return-value]
        ulid = str(response.json()["id"]).split(":")[1]
        self.messages[ulid] = []
        return ulid

    @rule(session=sessions, data=st.data())
    def append(self, session: str, data: st.DataObject) -> None:
        case = data.draw(schema["/api/chat/sessions/{session_ulid}/messages"]["POST"].as_strategy())
        case.path_parameters = {"session_ulid": session}
        response = _call(case)
        if response.status_code == 201 and session in self.messages:
            self.messages[session].append(response.json()["id"])

    @rule(session=sessions)
    def list_messages(self, session: str) -> None:
        case = schema["/api/chat/sessions/{session_ulid}/messages"]["GET"].Case(
            path_parameters={"session_ulid": session}
        )
        response = _call(case)
        if session in self.messages:
            assert [m["id"] for m in response.json()] == self.messages[session]
        else:
            assert response.status_code == 404

    @rule()
    def list_sessions(self) -> None:
        case = schema["/api/chat/sessions"]["GET"].Case(query={"created_by": "alice"})
        listed = _call(case).json()
        assert {s["id"].split(":")[1] for s in listed} == set(self.messages)
        assert [s["updated_at"] for s in listed] == sorted((s["updated_at"] for s in listed), reverse=True)

    @rule(session=consumes(sessions))
    def delete(self, session: str) -> None:
        case = schema["/api/chat/sessions/{session_ulid}"]["DELETE"].Case(path_parameters={"session_ulid": session})
        expected = 204 if self.messages.pop(session, None) is not None else 404
        assert _call(case).status_code == expected


def test_stateful_workflow() -> None:
    hypothesis.stateful.run_state_machine_as_test(
        ChatWorkflow,
        settings=settings(
            max_examples=60,
            stateful_step_count=12,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
