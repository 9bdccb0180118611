"""Routing on the raw path, to the operations of openapi.yaml.

The raw (still percent-encoded) path is split on `/` before anything is
decoded, so that `%2F`, `%23`, `%3F` or `..` inside an ID stay inside that
one segment and are refused as a bad ID, instead of being routed somewhere
else. A path parameter that is not a bare ULID is a 400 naming it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

from .problems import Problem, echo
from .spec import Operation

_ULID = re.compile(r"[0-7][0-9A-HJKMNP-TV-Z]{25}", re.ASCII)


@dataclass(frozen=True)
class Route:
    """The operation a request is for, and its path parameters, decoded."""

    operation: Operation
    path: dict[str, str]


class Router:
    """Finds the operation of a method and raw path."""

    def __init__(self, operations: list[Operation]) -> None:
        # Templates by their number of segments, so that a path is compared with few.
        self._by_length: dict[int, dict[tuple[str, ...], dict[str, Operation]]] = {}
        for operation in operations:
            templates = self._by_length.setdefault(len(operation.segments), {})
            templates.setdefault(operation.segments, {})[operation.method] = operation

    def route(self, method: str, raw_path: str) -> Route:
        """The route of a request; a 404, 405 or 400 Problem if there is none.

        Args:
            method: The request's method.
            raw_path: The request's path as sent, percent-encoding and all (no query).
        """
        segments = raw_path.split("/")
        candidates = self._by_length.get(len(segments), {})
        template = next((t for t in candidates if all(_fits(p, s) for p, s in zip(t, segments, strict=True))), None)
        if template is None:
            raise Problem("not-found", f"no such resource: {echo(raw_path)}")
        methods = candidates[template]
        operation = methods.get(method)
        if operation is None:
            allowed = ", ".join(methods)
            raise Problem(
                "method-not-allowed", f"{method} is not allowed here; allowed: {allowed}", headers={"Allow": allowed}
            )
        path: dict[str, str] = {}
        for name, raw in zip(template, segments, strict=True):
            if name.startswith("{"):
                value = unquote(raw, errors="replace")
                name = name[1:-1]
                if not _ULID.fullmatch(value):
                    raise Problem(
                        "invalid-parameter",
                        f"{name} must be a bare ULID (26 characters: 0-9 and upper-case A-Z without I, L, O, U; "
                        f"the first at most 7), got {echo(value)}",
                    )
                path[name] = value
        return Route(operation, path)


def _fits(part: str, segment: str) -> bool:
    """Whether a path segment fits a template's part: the same literal, or any value for a `{parameter}`."""
    return part.startswith("{") or part == segment
