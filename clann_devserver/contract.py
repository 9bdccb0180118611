"""openapi.yaml, enforced: every request and every response is checked against it.

A request that breaks the contract becomes a problem+json 400 or 422 naming what
was wrong. A response that breaks it is a bug in this server: it is logged and
replaced by a 500, so that a drifting response fails loudly instead of being
recorded in a cassette.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from openapi_core import Config, OpenAPI
from openapi_core.contrib.starlette.requests import StarletteOpenAPIRequest
from openapi_core.contrib.starlette.responses import StarletteOpenAPIResponse
from openapi_core.validation.request.exceptions import (
    MissingRequiredParameter,
    ParameterValidationError,
    RequestBodyValidationError,
)
from starlette.requests import Request
from starlette.responses import Response

_HERE = Path(__file__).resolve().parent
# Installed, the wheel carries the spec inside the package; in a checkout it is at the top.
SPEC_PATH = next(
    (p for p in (_HERE / "openapi.yaml", _HERE.parent / "openapi.yaml") if p.exists()), _HERE / "openapi.yaml"
)
_MAX_ECHO = 60


@dataclass
class Problem(Exception):
    """An error response: raised anywhere in a handler, rendered as problem+json."""

    status: int
    detail: str
    errors: list[dict[str, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)


def echo(value: object) -> str:
    """A bounded, printable rendering of a client's value for an error message."""
    text = repr(value)
    return text if len(text) <= _MAX_ECHO else text[: _MAX_ECHO - 3] + "..."


def load_spec(path: Path = SPEC_PATH) -> OpenAPI:
    with path.open(encoding="utf-8") as file:
        spec = yaml.safe_load(file)
    config = Config(extra_media_type_deserializers={"application/problem+json": json.loads})
    return OpenAPI.from_dict(spec, config=config)


class Contract:
    """Checks requests and responses against openapi.yaml."""

    def __init__(self, spec: OpenAPI | None = None) -> None:
        self.spec = spec or load_spec()

    def check_request(self, request: Request, body: bytes | None) -> None:
        """Raise a Problem if the request breaks the contract."""
        error = next(iter(self.spec.iter_request_errors(StarletteOpenAPIRequest(request, body))), None)
        if error is None:
            return
        if isinstance(error, RequestBodyValidationError):
            raise Problem(422, "the request body does not match the schema", _field_errors(error))
        if isinstance(error, MissingRequiredParameter):
            raise Problem(400, f"missing required parameter {error.name!r}")
        if isinstance(error, ParameterValidationError):
            detail = "; ".join(e["message"] for e in _field_errors(error)) or "invalid value"
            raise Problem(400, f"invalid parameter {error.name!r}: {detail}")
        raise Problem(400, f"the request does not match the contract: {error}")

    def response_errors(self, request: Request, body: bytes | None, response: Response) -> str | None:
        """Why the response breaks the contract, or None."""
        errors = self.spec.iter_response_errors(
            StarletteOpenAPIRequest(request, body), StarletteOpenAPIResponse(response)
        )
        error = next(iter(errors), None)
        if error is None:
            return None
        causes = "; ".join(f"{e['field']}: {e['message']}" for e in _field_errors(error))
        return f"{error}" + (f" ({causes})" if causes else "")


def _field_errors(error: BaseException) -> list[dict[str, str]]:
    """The offending fields of a schema error, with messages that never echo a huge value."""
    schema_errors: Iterable[Any] = getattr(error.__cause__, "schema_errors", None) or []
    found = []
    for schema_error in schema_errors:
        for leaf in _leaves(schema_error):
            path = "/".join(str(part) for part in leaf.absolute_path)
            if leaf.validator == "required":
                missing = leaf.message.split("'")[1] if "'" in leaf.message else "?"
                path = f"{path}/{missing}".lstrip("/")
            found.append({"field": path or "(body)", "message": _message(leaf)})
    return found


def _leaves(error: Any) -> list[Any]:
    # anyOf failures carry their reasons in context; the deepest ones name the field.
    if error.context:
        return [leaf for sub in error.context for leaf in _leaves(sub)]
    return [error]


def _message(error: Any) -> str:
    value, schema = error.validator_value, error.schema
    match error.validator:
        case "maxLength":
            return f"must be at most {value} characters"
        case "minLength":
            return f"must be at least {value} character{'s' if value != 1 else ''}"
        case "pattern":
            return f"must match {value}, got {echo(error.instance)}"
        case "enum":
            return f"must be one of {', '.join(map(str, value))}, got {echo(error.instance)}"
        case "type":
            return f"must be of type {value}, got {type(error.instance).__name__}"
        case "required":
            return "is required"
        case "additionalProperties":
            allowed = ", ".join(sorted(schema.get("properties", {})))
            return f"unknown field(s); allowed: {allowed}"
        case _:
            return str(error.message)[:200]
