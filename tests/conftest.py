from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import Recorder, async_client, sync_client


@pytest.fixture(params=["sync", "async"])
def make_client(request: pytest.FixtureRequest) -> Any:
    """Builds a ChatClient or an AsyncChatClient (the test runs for both) over a Recorder."""
    return sync_client if request.param == "sync" else async_client


__all__ = ["Recorder"]
