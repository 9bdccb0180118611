"""openapi.yaml, read once: its operations, parameters, bodies and responses, with compiled schemas.

Every schema of the document is compiled once, by jsonschema-rs, when the
server starts. jsonschema-rs gives `pattern` its ECMA-262 meaning, as JSON
Schema does (`$` is the end of the string; `\\s` is ECMA-262's white space,
U+FEFF included and U+0085 not), where Python's `re` would not. Patterns run
on Rust's `regex` engine (`RegexOptions`), which takes linear time in the
length of the value; a pattern that needed backtracking would fail here, at
start-up, rather than at request time.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema_rs
import yaml

# The checkout's openapi.yaml, through a symbolic link beside this file, which the wheel carries as a file.
SPEC_PATH = Path(__file__).resolve().parent / "openapi.yaml"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

Validator = jsonschema_rs.Validator


@dataclass(frozen=True)
class Parameter:
    """One path, query or header parameter of an operation."""

    name: str
    location: str
    required: bool
    schema: dict[str, Any]
    validator: Validator

    @property
    def is_integer(self) -> bool:
        return self.schema.get("type") == "integer"


@dataclass(frozen=True)
class Header:
    """One header a response documents."""

    name: str
    required: bool
    validator: Validator


@dataclass(frozen=True)
class ResponseSpec:
    """One documented response: its headers, and a validator per media type (none for no body)."""

    headers: tuple[Header, ...]
    content: dict[str, Validator]


@dataclass(frozen=True)
class Operation:
    """One operation of openapi.yaml."""

    id: str
    method: str
    template: str
    segments: tuple[str, ...]
    parameters: dict[tuple[str, str], Parameter]
    body_media_type: str | None
    body: Validator | None
    body_fields: tuple[str, ...]
    responses: dict[str, ResponseSpec] = field(repr=False)

    def parameters_in(self, location: str) -> list[Parameter]:
        return [p for p in self.parameters.values() if p.location == location]

    def response(self, status: int) -> ResponseSpec | None:
        """The documented response for `status`: exact, else its range (`4XX`), else `default`."""
        responses = self.responses
        return responses.get(str(status)) or responses.get(f"{status // 100}XX") or responses.get("default")


class Spec:
    """openapi.yaml's operations, keyed by ID, and its compiled schemas."""

    def __init__(self, path: Path = SPEC_PATH) -> None:
        with path.open(encoding="utf-8") as file:
            self.document: dict[str, Any] = yaml.safe_load(file)
        self._validators = jsonschema_rs.validator_map_for(
            self.document, validate_formats=True, pattern_options=jsonschema_rs.RegexOptions()
        )
        # A pattern's meaning in words, from the description of the schema that names it: what a 422 says.
        self.pattern_words: dict[str, str] = {
            schema["pattern"]: schema["description"]
            for schema in self.document["components"]["schemas"].values()
            if "pattern" in schema and "description" in schema
        }
        self.operations: dict[str, Operation] = {}
        for template, item in self.document["paths"].items():
            shared = item.get("parameters", [])
            for method in METHODS:
                if method in item:
                    pointer = f"#/paths/{_escape(template)}/{method}"
                    operation = self._operation(template, method, item[method], shared, pointer)
                    self.operations[operation.id] = operation

    def validator(self, pointer: str) -> Validator:
        """The compiled schema at a JSON pointer of the document, such as `#/components/schemas/Problem`."""
        return self._validators[pointer]

    def _operation(
        self, template: str, method: str, body: dict[str, Any], shared: list[Any], pointer: str
    ) -> Operation:
        parameters: dict[tuple[str, str], Parameter] = {}
        path_pointer = pointer.rsplit("/", 1)[0]
        located = [(raw, f"{path_pointer}/parameters/{i}") for i, raw in enumerate(shared)]
        located += [(raw, f"{pointer}/parameters/{i}") for i, raw in enumerate(body.get("parameters", []))]
        for raw, parameter_pointer in located:
            # An operation's own parameter overrides a path-level one of the same name and place.
            parameter = self._parameter(raw, parameter_pointer)
            parameters[(parameter.location, parameter.name)] = parameter
        media_type = None
        body_validator = None
        body_fields: tuple[str, ...] = ()
        if "requestBody" in body:
            request_body, body_pointer = self._resolve(body["requestBody"], f"{pointer}/requestBody")
            (media_type,) = request_body["content"]
            body_validator = self.validator(f"{body_pointer}/content/{_escape(media_type)}/schema")
            body_schema, _ = self._resolve(request_body["content"][media_type]["schema"], "")
            body_fields = tuple(body_schema.get("properties", {}))
        responses = {
            status: self._response(response, f"{pointer}/responses/{status}")
            for status, response in body["responses"].items()
        }
        return Operation(
            id=body["operationId"],
            method=method.upper(),
            template=template,
            segments=tuple(template.split("/")),
            parameters=parameters,
            body_media_type=media_type,
            body=body_validator,
            body_fields=body_fields,
            responses=responses,
        )

    def _parameter(self, raw: dict[str, Any], pointer: str) -> Parameter:
        parameter, pointer = self._resolve(raw, pointer)
        schema, _ = self._resolve(parameter["schema"], "")
        return Parameter(
            name=parameter["name"],
            location=parameter["in"],
            required=bool(parameter.get("required", False)),
            schema=schema,
            validator=self.validator(f"{pointer}/schema"),
        )

    def _response(self, raw: dict[str, Any], pointer: str) -> ResponseSpec:
        response, pointer = self._resolve(raw, pointer)
        headers = []
        for name, header in response.get("headers", {}).items():
            resolved, header_pointer = self._resolve(header, f"{pointer}/headers/{_escape(name)}")
            required = bool(resolved.get("required", False))
            headers.append(Header(name.lower(), required, self.validator(f"{header_pointer}/schema")))
        # Each schema is compiled where it is written; a `{$ref: ...}` there resolves inside jsonschema-rs.
        content = {
            media_type: self.validator(f"{pointer}/content/{_escape(media_type)}/schema")
            for media_type in response.get("content", {})
        }
        return ResponseSpec(tuple(headers), content)

    def _resolve(self, node: dict[str, Any], pointer: str) -> tuple[dict[str, Any], str]:
        """Follow `$ref`s to the object they name, and its pointer."""
        while "$ref" in node:
            pointer = node["$ref"]
            node = self._lookup(pointer)
        return node, pointer

    def _lookup(self, pointer: str) -> Any:
        node: Any = self.document
        for part in pointer.removeprefix("#/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


@functools.cache
def shared_spec() -> Spec:
    """openapi.yaml's Spec, loaded and compiled once per process (150 ms) and shared by every app in it.

    Nothing changes a Spec once it is built, so the apps of a test suite (one per test) and of
    `dev_server()` share one, as they would share the file.
    """
    return Spec()
