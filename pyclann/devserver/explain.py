"""Schema errors in words: which field was wrong, and how, without echoing a huge value.

A nullable field is written `anyOf: [<schema>, {type: null}]`. When its value
fails, the error that matters is the one of the branch the value was meant
for (a string fails `TreeSlug`'s pattern), not "is not of type null": only
when the value's type fits no branch at all is the answer about its type.

The answer is bounded whatever the body: at most `MAX_FIELDS` fields are
named, each name at most `MAX_NAME` characters, and the rest only counted. A
1 MB body of 105,000 unknown fields would otherwise be answered with 17 MB.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

import jsonschema_rs

from .problems import echo

Error = jsonschema_rs.ValidationError
Kind = jsonschema_rs.ValidationErrorKind
BODY = "(body)"

# One message per field: the most basic thing wrong with it. A title that is
# too short also fails its pattern, but only the length is worth saying.
_RANK = {"type": 0, "required": 0, "additionalProperties": 0, "anyOf": 1, "minLength": 2, "maxLength": 2}
MAX_FIELDS = 10
MAX_NAME = 60


def field_errors(
    errors: Iterable[Error], known: Iterable[str] = (), words: Mapping[str, str] = {}
) -> tuple[list[dict[str, str]], int]:
    """`{field, message}` for each of the first `MAX_FIELDS` offending fields, in the order the schema met them,
    and how many more fields were wrong.

    Args:
        errors: What jsonschema-rs found wrong with one value.
        known: The fields of the value's top-level object, named in the message
            about a field that is not one of them.
        words: Patterns in words (`Spec.pattern_words`), said instead of the pattern.
    """
    found: dict[str, tuple[int, list[str]]] = {}
    more: set[str] = set()
    known_names = sorted(known)
    for error in errors:
        for path, message, rank in _explain(error, known_names, words):
            if path not in found:
                if len(found) < MAX_FIELDS:
                    found[path] = (rank, [message])
                else:
                    more.add(path)
            elif rank < found[path][0]:
                found[path] = (rank, [message])
            elif rank == found[path][0] and message not in found[path][1]:
                found[path][1].append(message)
    listed = [{"field": _shorten(path), "message": m} for path, (_, messages) in found.items() for m in messages]
    return listed, len(more)


def _shorten(name: str) -> str:
    return name if len(name) <= MAX_NAME else name[: MAX_NAME - 3] + "..."


def _explain(error: Error, known: list[str], words: Mapping[str, str]) -> Iterator[tuple[str, str, int]]:
    path = "/".join(str(part) for part in error.instance_path)
    kind = error.kind
    rank = _RANK.get(kind.name, 3)
    if isinstance(kind, Kind.Required):
        yield (f"{path}/{kind.property}".lstrip("/"), "is required", rank)
    elif isinstance(kind, Kind.AdditionalProperties):
        said = (
            f"is not a known field; known fields: {', '.join(known)}" if known and not path else "is not a known field"
        )
        for name in kind.unexpected:
            yield (f"{path}/{name}".lstrip("/"), said, rank)
    elif isinstance(kind, Kind.AnyOf):
        meant = [branch for branch in kind.context if not _is_type_mismatch(branch, error.instance_path)]
        if meant:
            for branch_error in meant[0]:
                yield from _explain(branch_error, known, words)
        else:
            types = [t for branch in kind.context for e in branch for t in _types(e)]
            yield (path or BODY, f"must be of type {' or '.join(types)}, got {_json_type(error.instance)}", rank)
    else:
        yield (path or BODY, message(error, words), rank)


def message(error: Error, words: Mapping[str, str] = {}) -> str:
    """What was wrong, in words, for an error that is not about a field's presence; `words` as `field_errors`."""
    kind = error.kind
    instance = error.instance
    if isinstance(kind, Kind.Type):
        return f"must be of type {' or '.join(_types(error))}, got {_json_type(instance)}"
    if isinstance(kind, Kind.MinLength):
        return f"must be at least {kind.limit} character{'s' if kind.limit != 1 else ''}"
    if isinstance(kind, Kind.MaxLength):
        return f"must be at most {kind.limit} characters"
    if isinstance(kind, Kind.Pattern):
        said = words.get(kind.pattern)
        if said:
            return f"must be {said[0].lower()}{said[1:].rstrip('.')}, got {echo(instance)}"
        return f"must match {kind.pattern}, got {echo(instance)}"
    if isinstance(kind, Kind.Minimum):
        return f"must be at least {kind.limit}, got {echo(instance)}"
    if isinstance(kind, Kind.Maximum):
        return f"must be at most {kind.limit}, got {echo(instance)}"
    if isinstance(kind, Kind.Enum):
        return f"must be one of {', '.join(map(str, kind.options))}, got {echo(instance)}"
    if isinstance(kind, Kind.MinProperties):
        return f"must name at least {kind.limit} field{'s' if kind.limit != 1 else ''}"
    return error.message[:200]


def _is_type_mismatch(branch: list[Error], at: list[str | int]) -> bool:
    """Whether a branch of an anyOf failed only because the value is of another type."""
    return any(isinstance(e.kind, Kind.Type) and e.instance_path == at for e in branch)


def _types(error: Error) -> list[str]:
    kind = error.kind
    if not isinstance(kind, Kind.Type):
        return []
    types = kind.types
    return [types] if isinstance(types, str) else list(types)


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"
