"""Every recorded interaction still obeys openapi.yaml, and no cassette holds a secret.

Each exchange is checked by the dev server's own checker (routing, parameters,
body, and the response for its status), so a cassette that drifted from the
contract fails here instead of teaching the client tests a wrong wire.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from pyclann.devserver.contract import Contract
from pyclann.devserver.exchanges import exchange_errors
from pyclann.testing import DEV_USERS
from tests.recording import CASSETTES, RECORD_TOKENS, REDACTED

FILES = sorted(CASSETTES.rglob("*.yaml"))
CONTRACT = Contract()


def interactions(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as file:
        return list(yaml.safe_load(file)["interactions"])


def first(headers: dict[str, list[str]]) -> dict[str, str]:
    return {name: values[0] for name, values in headers.items()}


def test_there_are_cassettes_of_every_operation() -> None:
    assert len(FILES) >= 26
    seen = {
        (i["request"]["method"], urlsplit(i["request"]["uri"]).path.count("/"))
        for path in FILES
        for i in interactions(path)
    }
    # (method, depth of the path): both listings, both creations, get, patch and delete a session, get a message.
    every = {("GET", 3), ("POST", 3), ("GET", 4), ("PATCH", 4), ("DELETE", 4), ("GET", 5), ("POST", 5), ("GET", 6)}
    assert every <= seen


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_interaction_obeys_the_contract(path: Path) -> None:
    for number, interaction in enumerate(interactions(path)):
        request, response = interaction["request"], interaction["response"]
        url = urlsplit(request["uri"])
        body = request["body"]
        errors = exchange_errors(
            CONTRACT,
            request["method"],
            url.path,
            url.query.encode(),
            first(request["headers"]),
            body.encode() if isinstance(body, str) else body,
            response["status"]["code"],
            first(response["headers"]),
            response["body"]["string"].encode(),
        )
        assert errors == [], f"{path.name} interaction {number}: {errors}"
        if response["status"]["code"] >= 400:
            assert json.loads(response["body"]["string"])["detail"], f"{path.name} interaction {number}"


def test_no_cassette_holds_a_token() -> None:
    secrets = [*RECORD_TOKENS, *DEV_USERS.values()]
    for path in FILES:
        text = path.read_text(encoding="utf-8")
        for secret in secrets:
            assert secret not in text, f"{path.name} holds a token"
        for interaction in interactions(path):
            authorization = interaction["request"]["headers"].get("authorization")
            assert authorization in (None, [REDACTED]), path.name
