"""pyclann.errors: the tree as drawn, the messages, and every attribute surviving pickle and copy."""

from __future__ import annotations

import copy
import pickle
import re
from collections.abc import Callable
from typing import Any

import pytest

from pyclann import errors
from pyclann.errors import (
    ClannAPIError,
    ClannConfigError,
    ClannError,
    ClannInvalidArgumentError,
    ClannRateLimitError,
    ClannUnprocessableError,
    ClannUsageError,
)
from tests.helpers import SESSION_ID, Recorder, problem, respond, sync_client

CLASSES: list[type[ClannError]] = [getattr(errors, name) for name in errors.__all__]
API_CLASSES = [cls for cls in CLASSES if issubclass(cls, ClannAPIError)]
OTHER_CLASSES = [cls for cls in CLASSES if not issubclass(cls, ClannAPIError)]


def drawn_tree() -> dict[str, str | None]:
    """Each class in the module docstring's drawing, and the class it hangs from."""
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []
    for line in (errors.__doc__ or "").splitlines():
        found = re.match(r"^([\s│]*(?:[├└]── )?)(Clann\w+)", line)
        if not found or ("── " not in line and line.strip() != "ClannError"):
            continue
        depth = len(found[1])
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parents[found[2]] = stack[-1][1] if stack else None
        stack.append((depth, found[2]))
    return parents


def test_the_drawn_tree_is_the_class_tree() -> None:
    tree = drawn_tree()
    assert sorted(tree) == sorted(errors.__all__)
    for name, parent in tree.items():
        cls = getattr(errors, name)
        expected = Exception if parent is None else getattr(errors, parent)
        assert cls.__bases__[0] is expected, f"{name} is drawn under {parent}"


@pytest.mark.parametrize(
    ("cls", "builtin"),
    [(ClannConfigError, ValueError), (ClannInvalidArgumentError, ValueError), (ClannUsageError, RuntimeError)],
)
def test_argument_and_usage_errors_are_also_the_builtin_python_expects(cls: type[ClannError], builtin: type) -> None:
    assert issubclass(cls, builtin)
    assert issubclass(cls, ClannError)


@pytest.mark.parametrize(
    ("status", "request_id", "says"),
    [
        (404, "r-1", "404 Not Found: it is gone (request id r-1)"),
        (503, None, "503 Service Unavailable: it is gone"),
        (299, "r", "299 Unknown Status: it is gone (request id r)"),
        (418, None, "418 I'm a Teapot: it is gone"),
    ],
)
def test_an_api_error_reads_as_status_phrase_detail_and_request_id(
    status: int, request_id: str | None, says: str
) -> None:
    assert str(ClannAPIError(status, "it is gone", request_id=request_id)) == says


@pytest.mark.parametrize(
    ("problem", "expected"),
    [
        ({"type": "tag:clann.dev,2026:problem/not-found"}, "tag:clann.dev,2026:problem/not-found"),
        ({"type": 42}, None),
        ({}, None),
        (None, None),
    ],
)
def test_problem_type_is_the_problems_type_uri_when_it_is_a_string(
    problem: dict[str, Any] | None, expected: str | None
) -> None:
    assert ClannAPIError(404, "x", problem=problem).problem_type == expected


def test_a_422_lists_only_well_formed_field_errors() -> None:
    problem = {
        "errors": [
            {"field": "title", "message": "too long", "extra": 1},
            {"field": "tree"},
            "not an object",
            {"field": 3, "message": "x"},
            {"field": "role", "message": "unknown role 'tool'"},
        ]
    }
    error = ClannUnprocessableError(422, "x", problem=problem)
    assert error.errors == [
        {"field": "title", "message": "too long"},
        {"field": "role", "message": "unknown role 'tool'"},
    ]
    assert ClannUnprocessableError(422, "x", problem={"errors": "nope"}).errors == []
    assert ClannUnprocessableError(422, "x").errors == []


def full_error(cls: type[ClannError]) -> ClannError:
    """An error of `cls` with every attribute set to a value other than its default."""
    error: ClannError
    if issubclass(cls, ClannAPIError):
        problem = {"type": "tag:clann.dev,2026:problem/x", "detail": "d", "errors": [{"field": "f", "message": "m"}]}
        error = cls(418, "the detail", request_id="req-9", body='{"detail": "d"}', problem=problem)
        if isinstance(error, ClannRateLimitError):
            error.retry_after = 7.5
    else:
        error = cls("what went wrong")
    error.idempotency_key = "key-123"
    error.may_have_landed = True
    error.args = (f"{error}; it may have been carried out",)
    return error


ATTRIBUTES = [
    "args",
    "status_code",
    "detail",
    "request_id",
    "body",
    "problem",
    "problem_type",
    "retry_after",
    "idempotency_key",
    "may_have_landed",
    "errors",
]


def attributes(error: ClannError) -> dict[str, Any]:
    return {name: getattr(error, name) for name in ATTRIBUTES if hasattr(error, name)} | {"str": str(error)}


COPIES: dict[str, Callable[[ClannError], ClannError]] = {
    "pickle": lambda error: pickle.loads(pickle.dumps(error)),
    "pickle-protocol-0": lambda error: pickle.loads(pickle.dumps(error, protocol=0)),
    "copy": copy.copy,
    "deepcopy": copy.deepcopy,
}


@pytest.mark.parametrize("how", COPIES)
@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_pickle_and_copy_keep_every_attribute(cls: type[ClannError], how: str) -> None:
    error = full_error(cls)
    again = COPIES[how](error)
    assert type(again) is cls
    assert attributes(again) == attributes(error)
    # Not only equal to the defaults: each was set to something else.
    assert again.idempotency_key == "key-123"
    assert again.may_have_landed is True
    assert str(again).endswith("; it may have been carried out")
    if isinstance(again, ClannAPIError):
        assert (again.status_code, again.request_id, again.problem_type) == (
            418,
            "req-9",
            "tag:clann.dev,2026:problem/x",
        )
    if isinstance(again, ClannRateLimitError):
        assert again.retry_after == 7.5


def test_a_write_error_has_no_key_until_a_write_raises_it() -> None:
    for cls in OTHER_CLASSES:
        error = cls("x")
        assert (error.idempotency_key, error.may_have_landed) == (None, False)
    assert ClannRateLimitError(429, "x").retry_after is None


@pytest.mark.parametrize("status", [418, 600, 999])
def test_a_status_outside_the_known_ones_and_5xx_is_a_plain_api_error(status: int) -> None:
    with pytest.raises(ClannAPIError) as caught:
        sync_client(Recorder(respond(status, problem(status, "odd"))), max_retries=0).get_session(SESSION_ID)
    assert type(caught.value) is ClannAPIError
    assert caught.value.status_code == status
