"""openapi.yaml, enforced: every request and every response is checked against it.

What is checked, with the schemas compiled once from openapi.yaml (see `spec`):

* Requests, before any handler runs:
    - the path and the method name an operation (else 404 or 405; see `routing`);
    - each path, query and header parameter the operation takes: present when
      required, of its type (`limit` is an integer), and valid against its schema;
      a query parameter the operation does not take is refused;
    - the body, for an operation that takes one: its media type, and its JSON
      against the operation's schema, every field at once (422, naming them).
* Responses, before they are sent:
    - the status is documented for the operation (exactly, by range, or `default`);
    - every header the response documents as required is present (`X-Request-Id`
      always, `Location` on a 201), and every documented header that is present
      is valid against its schema (`Idempotent-Replayed: true`);
    - the media type is a documented one, the body is valid against its schema,
      formats included (`date-time`, `uri-reference`), and a response documented
      without content has no body.
    - An answer to a request no operation matched (404, 405) is checked as a
      problem with an `X-Request-Id`.

A request that breaks the contract is answered with a problem naming what was
wrong. A response that breaks it is a bug in this server: it is logged and
replaced by a 500, so that a drifting response fails loudly instead of being
recorded in a cassette.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from .explain import MAX_FIELDS, field_errors, message
from .problems import Problem, echo, invalid_fields, some
from .spec import Operation, Spec, shared_spec

# An integer parameter has at most 18 digits, so that `int()` always takes it: it
# refuses more than 4,300 with a ValueError, and no parameter's range needs more.
_MAX_DIGITS = 18
_INTEGER = re.compile(rf"-?[0-9]{{1,{_MAX_DIGITS}}}", re.ASCII)
_DIGITS = re.compile(r"-?[0-9]+", re.ASCII)
_MAX_DRIFT_ERRORS = 3


class Contract:
    """Checks requests and responses against openapi.yaml."""

    def __init__(self, spec: Spec | None = None) -> None:
        self.spec = spec or shared_spec()
        self._problem = self.spec.validator("#/components/schemas/Problem")

    def check_parameters(
        self, operation: Operation, path: Mapping[str, str], query: Mapping[str, str], headers: Mapping[str, str]
    ) -> dict[str, Any]:
        """The operation's parameters by name, typed and with their defaults; a Problem if one is wrong."""
        unknown = sorted(name for name in query if ("query", name) not in operation.parameters)
        if unknown:
            raise Problem("invalid-parameter", f"unknown query parameter(s): {some(unknown)}")
        sources = {"path": path, "query": query, "header": headers}
        values: dict[str, Any] = {}
        for parameter in operation.parameters.values():
            source = sources[parameter.location]
            raw = source.get(parameter.name.lower() if parameter.location == "header" else parameter.name)
            if raw is None:
                if parameter.required:
                    raise Problem("invalid-parameter", f"missing required parameter {parameter.name!r}")
                if "default" in parameter.schema:
                    values[parameter.name] = parameter.schema["default"]
                continue
            value: Any = raw
            if parameter.is_integer:
                if not _INTEGER.fullmatch(raw):
                    said = f" of at most {_MAX_DIGITS} digits" if _DIGITS.fullmatch(raw) else ""
                    raise Problem("invalid-parameter", f"{parameter.name}: must be an integer{said}, got {echo(raw)}")
                value = int(raw)
            if not parameter.validator.is_valid(value):
                error = next(iter(parameter.validator.iter_errors(value)))
                raise Problem("invalid-parameter", f"{parameter.name}: {message(error, self.spec.pattern_words)}")
            values[parameter.name] = value
        return values

    def check_body(self, operation: Operation, body: Any) -> None:
        """A 422 naming every wrong field, if the body does not match the operation's schema."""
        assert operation.body is not None
        if operation.body.is_valid(body):
            return
        judged, unjudged = _few_unknown(body, operation.body_fields)
        errors, more = field_errors(operation.body.iter_errors(judged), operation.body_fields, self.spec.pattern_words)
        if errors:
            raise invalid_fields(errors, more + unjudged)

    def response_errors(
        self, operation: Operation | None, status: int, headers: Mapping[str, str], body: bytes
    ) -> str | None:
        """Why the response breaks the contract, or None.

        Args:
            operation: The operation answered, or None when no operation matched the request.
            status: The response's status.
            headers: The response's headers, by lower-case name.
            body: The response's body, as sent.
        """
        if operation is None:
            if not headers.get("x-request-id"):
                return "no X-Request-Id"
            return self._body_errors(self._problem, body)
        documented = operation.response(status)
        if documented is None:
            return f"status {status} is not documented for {operation.id}"
        for header in documented.headers:
            value = headers.get(header.name)
            if value is None:
                if header.required:
                    return f"header {header.name} is missing"
                continue
            if not header.validator.is_valid(value):
                wrong = next(iter(header.validator.iter_errors(value)))
                return f"header {header.name}: {message(wrong, self.spec.pattern_words)}"
        if not documented.content:
            return f"a {status} has no body, got {len(body)} bytes" if body else None
        media_type = headers.get("content-type", "").partition(";")[0].strip()
        validator = documented.content.get(media_type)
        if validator is None:
            return f"media type {media_type!r} is not documented for a {status}"
        return self._body_errors(validator, body)

    @staticmethod
    def _body_errors(validator: Any, body: bytes) -> str | None:
        try:
            document = json.loads(body)
        except ValueError as error:
            return f"the body is not JSON: {error}"
        if validator.is_valid(document):
            return None
        errors = [error for _, error in zip(range(_MAX_DRIFT_ERRORS), validator.iter_errors(document), strict=False)]
        return "; ".join(_drift(error) for error in errors)


def _drift(error: Any) -> str:
    """One error, where it is and what it is; for a `oneOf` (a page's shapes), what each shape found."""
    where = "/".join(map(str, error.instance_path)) or "(body)"
    branches = getattr(error.kind, "context", None)
    if not branches:
        return f"{where}: {error.message[:200]}"
    said = " or ".join(
        "(" + ", ".join(f"{'/'.join(map(str, e.instance_path)) or '(body)'}: {e.message[:100]}" for e in branch) + ")"
        for branch in branches
    )
    return f"{where}: matches none of the shapes it may take: {said}"


def _few_unknown(body: Any, known: tuple[str, ...]) -> tuple[Any, int]:
    """The body with no more unknown fields than an answer names, and how many it had besides.

    The schema reports a field it does not know after every other error, in the
    body's order, and only the first `MAX_FIELDS` fields are named; the rest are
    only counted. So the errors of the body kept are those the whole body would
    have, and the schema is spared 105,000 names that would only be counted.
    """
    if not isinstance(body, dict) or len(body) <= len(known) + MAX_FIELDS:
        return body, 0
    fields = frozenset(known)
    kept: dict[str, Any] = {}
    unknown = 0
    for name, value in body.items():
        if name not in fields:
            unknown += 1
            if unknown > MAX_FIELDS:
                continue
        kept[name] = value
    return kept, max(0, unknown - MAX_FIELDS)
