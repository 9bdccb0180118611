"""Every recorded interaction still obeys openapi.yaml, and no cassette holds a secret."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from openapi_core.testing import MockRequest, MockResponse

from clann_devserver.contract import load_spec
from clann_devserver.server import DEV_TOKENS
from tests.helpers import TOKEN
from tests.recording import CASSETTES, RECORD_TOKENS, REDACTED

FILES = sorted(CASSETTES.rglob("*.yaml"))
SPEC = load_spec()


def interactions(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as file:
        return list(yaml.safe_load(file)["interactions"])


def test_there_are_cassettes() -> None:
    assert len(FILES) >= 20


def _request(recorded: dict[str, Any]) -> MockRequest:
    url = urlsplit(recorded["uri"])
    headers = {name: values[0] for name, values in recorded["headers"].items()}
    body = recorded["body"]
    return MockRequest(
        f"{url.scheme}://{url.netloc}",
        recorded["method"],
        url.path,
        args={k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()},
        headers=headers,
        data=body.encode() if isinstance(body, str) and body else None,
        content_type=headers.get("content-type", ""),
    )


def _response(recorded: dict[str, Any]) -> MockResponse:
    headers = {name: values[0] for name, values in recorded["headers"].items()}
    return MockResponse(
        recorded["body"]["string"].encode(),
        recorded["status"]["code"],
        headers=headers,
        content_type=headers.get("content-type", ""),
    )


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_interaction_obeys_the_contract(path: Path) -> None:
    for number, interaction in enumerate(interactions(path)):
        request, response = _request(interaction["request"]), _response(interaction["response"])
        where = f"{path.name} interaction {number}"
        # Requests refused with a 4xx were meant to break the contract; every response must keep it.
        if response.status_code < 400:
            SPEC.validate_request(request)
        errors = list(SPEC.iter_response_errors(request, response))
        assert errors == [], f"{where}: {errors}"
        if response.status_code >= 400:
            assert json.loads(response.data)["detail"], where


def test_no_cassette_holds_a_token() -> None:
    secrets = [*RECORD_TOKENS, *DEV_TOKENS, TOKEN]
    for path in FILES:
        text = path.read_text(encoding="utf-8")
        for secret in secrets:
            assert secret not in text, f"{path.name} holds a token"
        for interaction in interactions(path):
            authorization = interaction["request"]["headers"].get("authorization")
            assert authorization in (None, [REDACTED]), path.name
