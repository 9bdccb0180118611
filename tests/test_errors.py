from __future__ import annotations

import pickle

import pytest

from pyclann import errors
from pyclann.errors import (
    ClannAPIError,
    ClannConnectionError,
    ClannError,
    ClannRateLimitError,
    ClannServerError,
    ClannTimeoutError,
    error_for_status,
)


def test_the_docstring_tree_names_every_error_class() -> None:
    classes = [name for name in errors.__all__ if name.startswith("Clann")]
    for name in classes:
        assert name in (errors.__doc__ or ""), name
        assert issubclass(getattr(errors, name), ClannError)


def test_timeouts_are_connection_errors() -> None:
    assert issubclass(ClannTimeoutError, ClannConnectionError)


@pytest.mark.parametrize(("status", "cls"), [(599, ClannServerError), (507, ClannServerError), (302, ClannAPIError)])
def test_status_families(status: int, cls: type[ClannAPIError]) -> None:
    assert type(error_for_status(status, b"", None)) is cls


def test_unknown_status_reads_well() -> None:
    assert str(error_for_status(299, b"", "r")) == "299 Unknown Status: the response had no body (request id r)"


def test_long_details_are_clipped() -> None:
    error = error_for_status(400, b"x" * 10_000, None)
    assert len(error.detail) == 300
    assert error.detail.endswith("...")
    assert len(error.body) == 10_000


def test_errors_pickle_with_their_fields() -> None:
    error = error_for_status(429, b'{"detail": "slow"}', "r1", retry_after=3.0)
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), copy.status_code, copy.detail, copy.request_id, copy.problem) == (
        ClannRateLimitError,
        429,
        "slow",
        "r1",
        {"detail": "slow"},
    )
