"""Fixtures for the dev server's tests: an app on a fresh database, in process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from pyclann.devserver.app import create_app
from pyclann.devserver.store import Store

from .helpers import TOKENS


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "chat.sqlite3"


@pytest.fixture
def store(db: Path) -> Iterator[Store]:
    opened = Store(db)
    yield opened
    opened.close()


@pytest.fixture
def http(store: Store) -> Iterator[TestClient]:
    with TestClient(create_app(store, TOKENS), raise_server_exceptions=True) as client:
        yield client
