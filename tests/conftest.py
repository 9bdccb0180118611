from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.helpers import MakeClient, async_client, sync_client
from tests.recording import CASSETTES, RECORDED_HOST, REDACTED

# Marks the tests that start a process or a server `slow`, for `make check` to leave out.
pytest_plugins = ["tests.slow"]


@pytest.fixture(params=["sync", "async"])
def make_client(request: pytest.FixtureRequest) -> MakeClient:
    """Builds a ChatClient or an AsyncChatClient (the test runs for both) over a Recorder."""
    return sync_client if request.param == "sync" else async_client


def _anywhere(request: Any) -> Any:
    # Recorded on a free port, replayed against none: the cassette names no port at all.
    parts = urlsplit(request.uri)
    request.uri = urlunsplit(("http", RECORDED_HOST, parts.path, parts.query, ""))
    return request


@pytest.fixture(scope="module")
def vcr_config() -> dict[str, Any]:
    return {
        "filter_headers": [("authorization", REDACTED), ("host", None)],
        "before_record_request": _anywhere,
        # Not host or port: a replay must not depend on where the server was recorded.
        "match_on": ["method", "path", "query", "body"],
        "decode_compressed_response": True,
    }


@pytest.fixture(scope="module")
def vcr_cassette_dir(request: pytest.FixtureRequest) -> str:
    return str(CASSETTES / request.module.__name__.rsplit(".", 1)[-1])
