"""The public surface: `pyclann.__all__`, and both clients against the published reference page.

The reference page users already read (tests/reference/chatclient-reference.txt,
the text of the rendered page, versioned with this test) is a floor: its
methods keep their names, parameter names, kinds and defaults, return types,
summary lines and documented exceptions. Widening a parameter's type, adding
keyword-only parameters and listing more exceptions are allowed.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import types
import typing
from pathlib import Path
from typing import Any

import attrs
import pytest

import pyclann
from pyclann import AsyncChatClient, AsyncRawChatClient, ChatClient, RawChatClient

REFERENCE_PAGE = Path(__file__).parent / "reference" / "chatclient-reference.txt"

PUBLIC = [
    "DEFAULT_MAX_RESPONSE_SIZE",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "MESSAGE_TABLE",
    "NOT_GIVEN",
    "SESSION_TABLE",
    "AsyncChatClient",
    "AsyncRawChatClient",
    "ChatClient",
    "ChatMessage",
    "ChatSession",
    "ClannAPIError",
    "ClannAuthError",
    "ClannBadRequestError",
    "ClannConfigError",
    "ClannConflictError",
    "ClannConnectionError",
    "ClannError",
    "ClannInvalidArgumentError",
    "ClannInvalidIdError",
    "ClannNotFoundError",
    "ClannPermissionError",
    "ClannRateLimitError",
    "ClannResponseError",
    "ClannServerError",
    "ClannTimeoutError",
    "ClannUnprocessableError",
    "ClannUsageError",
    "CustomRole",
    "ErrorResponse",
    "MessagePage",
    "MessageRole",
    "NotGiven",
    "RawChatClient",
    "RawResponse",
    "RecordId",
    "Role",
    "SessionPage",
    "__version__",
]
PUBLIC_MODULES = [
    "pyclann",
    "pyclann.client",
    "pyclann.errors",
    "pyclann.ids",
    "pyclann.models",
    "pyclann.pages",
    "pyclann.testing",
]


def test_all_is_sorted_and_is_exactly_the_public_surface() -> None:
    assert pyclann.__all__ == PUBLIC
    assert sorted(PUBLIC, key=lambda name: (name.startswith("_"), not name.isupper(), name)) == PUBLIC
    for name in PUBLIC:
        assert hasattr(pyclann, name), name


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_a_public_module_shows_no_helper_of_its_own_beyond_all(name: str) -> None:
    module = importlib.import_module(name)
    own = {
        attribute
        for attribute, value in vars(module).items()
        if not attribute.startswith("_")
        and (inspect.isclass(value) or inspect.isfunction(value))
        and value.__module__ == name
    }
    assert own <= set(module.__all__)
    assert all(hasattr(module, attribute) for attribute in module.__all__)


def test_nothing_generated_leaks_into_the_public_surface() -> None:
    for name in PUBLIC:
        module = getattr(getattr(pyclann, name), "__module__", "pyclann") or ""
        assert not module.startswith("pyclann._generated"), name


# The reference page ----------------------------------------------------------------------------------

REQUIRED = "required"


@attrs.frozen
class Documented:
    """One method as the reference page shows it."""

    name: str
    summary: str
    parameters: list[tuple[str, str, str]]  # (name, type, default)
    returns: str | None
    raises: list[str]


def read_reference(text: str) -> tuple[str, dict[str, Documented]]:
    """The class summary and each method, from the text of the rendered page."""
    lines = [line.rstrip() for line in text.splitlines()]
    headers = [i for i in range(len(lines) - 1) if lines[i + 1] == "¶" and lines[i].isidentifier()]
    class_line = lines.index("pyclann.client.ChatClient")
    class_summary = lines[class_line + 2]
    methods: dict[str, Documented] = {}
    for n, start in enumerate(headers):
        block = lines[start : headers[n + 1] if n + 1 < len(headers) else len(lines)]
        methods[block[0]] = Documented(
            name=block[0],
            summary=block[2],
            parameters=_parameters(block),
            returns=_table(block, "Returns:")[0][0] if "Returns:" in block else None,
            raises=[kind for kind, _ in _table(block, "Raises:")],
        )
    return class_summary, methods


def _parameters(block: list[str]) -> list[tuple[str, str, str]]:
    if "Parameters:" not in block:
        return []
    i = block.index("Parameters:") + 3  # past the table's header and rule
    found = []
    while i < len(block) and block[i] not in ("Returns:", "Raises:"):
        name, bar, kind, bar2, description = block[i : i + 5]
        assert (bar, bar2) == ("|", "|"), block[i : i + 5]
        assert description.endswith("|"), block[i : i + 5]
        if block[i + 5].endswith(" |"):  # `required |` on one line
            default, i = block[i + 5][: -len(" |")], i + 6
        else:  # `None` then `|`
            assert block[i + 6] == "|"
            default, i = block[i + 5], i + 7
        found.append((name, kind, default))
    return found


def _table(block: list[str], title: str) -> list[tuple[str, str]]:
    i = block.index(title) + 3
    rows = []
    while i + 2 < len(block) and block[i + 1] == "|":
        kind, _, description = block[i : i + 3]
        assert description.endswith("|"), block[i : i + 3]
        rows.append((kind, description))
        i += 3
    return rows


CLASS_SUMMARY, REFERENCE = read_reference(REFERENCE_PAGE.read_text(encoding="utf-8"))


def test_the_reference_page_reads_as_the_five_methods_users_know() -> None:
    assert list(REFERENCE) == ["list_sessions", "create_session", "delete_session", "list_messages", "append_message"]
    assert REFERENCE["append_message"].parameters == [
        ("session_id", "str", REQUIRED),
        ("role", "str", REQUIRED),
        ("content", "str", REQUIRED),
    ]
    assert REFERENCE["delete_session"].returns is None
    assert REFERENCE["delete_session"].raises == ["ClannNotFoundError", "ClannAuthError"]


def resolve(annotation: str) -> Any:
    """The type a reference page's annotation names, as get_type_hints would make it."""

    def probe() -> None: ...

    probe.__annotations__ = {"return": annotation}
    return typing.get_type_hints(probe, globalns=vars(pyclann))["return"]


def members(annotation: Any) -> set[Any]:
    """The types an annotation admits: each of a union's, or itself."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return set(typing.get_args(annotation))
    return {annotation}


def documented_raises(doc: str) -> list[str]:
    return re.findall(r"^\s{4}(\w+):", doc.split("Raises:")[1], re.MULTILINE)


CLIENTS = [ChatClient, AsyncChatClient]


@pytest.mark.parametrize("cls", CLIENTS)
@pytest.mark.parametrize("method", REFERENCE)
def test_the_reference_parameters_stay_with_their_kinds_and_defaults(cls: type[Any], method: str) -> None:
    documented = REFERENCE[method]
    parameters = [p for p in inspect.signature(getattr(cls, method)).parameters.values() if p.name != "self"]
    floor = parameters[: len(documented.parameters)]
    hints = typing.get_type_hints(getattr(cls, method))
    for parameter, (name, kind, default) in zip(floor, documented.parameters, strict=True):
        assert parameter.name == name
        assert parameter.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
        if default == REQUIRED:
            assert parameter.default is inspect.Parameter.empty
        else:
            assert parameter.default == ast.literal_eval(default)
        # A type may widen (session_id: str | ChatSession), never narrow; but for the role (issue 20): a
        # checker refuses a typo of a known role, while any str still goes, as a CustomRole.
        if hints[name] != pyclann.MessageRole:
            assert members(resolve(kind)) <= members(hints[name]), f"{name}: {hints[name]} narrows {kind}"
    for added in parameters[len(documented.parameters) :]:
        assert added.kind is inspect.Parameter.KEYWORD_ONLY, f"{added.name} would shift positional arguments"
        assert added.default is not inspect.Parameter.empty, f"{added.name} would break existing calls"


@pytest.mark.parametrize("cls", CLIENTS)
@pytest.mark.parametrize("method", REFERENCE)
def test_the_reference_return_types_stay(cls: type[Any], method: str) -> None:
    documented = REFERENCE[method]
    returned = typing.get_type_hints(getattr(cls, method))["return"]
    assert returned == resolve(documented.returns or "None")
    assert inspect.iscoroutinefunction(getattr(cls, method)) is (cls is AsyncChatClient)


@pytest.mark.parametrize("cls", CLIENTS)
@pytest.mark.parametrize("method", REFERENCE)
def test_the_reference_summaries_and_exceptions_stay_in_the_docstrings(cls: type[Any], method: str) -> None:
    documented = REFERENCE[method]
    doc = inspect.getdoc(getattr(cls, method)) or ""
    assert doc.splitlines()[0] == documented.summary
    listed = documented_raises(doc)
    # Every exception the page lists, in the page's order, possibly among more.
    positions = [listed.index(kind) for kind in documented.raises]
    assert positions == sorted(positions), f"{method} lists {listed}"
    args = doc.split("Args:")[1].split("Returns:")[0].split("Raises:")[0]
    named = re.findall(r"^\s{4}(\w+):", args, re.MULTILINE)
    assert named[: len(documented.parameters)] == [name for name, _, _ in documented.parameters]
    assert ("Returns:" in doc) is (documented.returns is not None)


def test_the_class_summary_stays() -> None:
    assert (inspect.getdoc(ChatClient) or "").splitlines()[0] == CLASS_SUMMARY
    assert (inspect.getdoc(AsyncChatClient) or "").startswith(CLASS_SUMMARY.rstrip("."))


def public_methods(cls: type[Any]) -> dict[str, inspect.Signature]:
    found = {}
    for name in dir(cls):
        value = getattr(cls, name)
        if not name.startswith("_") and callable(value) and not isinstance(value, property):
            found[name] = inspect.signature(value)
    return found


def test_both_clients_have_the_same_public_methods_with_the_same_parameters() -> None:
    sync, async_ = public_methods(ChatClient), public_methods(AsyncChatClient)
    assert set(sync) - {"close"} == set(async_) - {"aclose"}
    for name in set(sync) - {"close"}:
        assert [(p.name, p.kind, p.default) for p in sync[name].parameters.values()] == [
            (p.name, p.kind, p.default) for p in async_[name].parameters.values()
        ], name
    assert {"with_raw_response"} <= {name for name in dir(ChatClient) if not name.startswith("_")}


@pytest.mark.parametrize("cls", CLIENTS)
def test_every_public_method_documents_every_exception_it_can_raise(cls: type[Any]) -> None:
    for name in ["get_session", "update_session", "delete_session", "list_messages", "append_message", "get_message"]:
        listed = documented_raises(inspect.getdoc(getattr(cls, name)) or "")
        assert {"ClannInvalidIdError", "ClannNotFoundError", "ClannAuthError", "ClannConnectionError"} <= set(listed)
        assert listed[-1] == "ClannAPIError", "the catch-all comes last"


@pytest.mark.parametrize("path", sorted(Path(pyclann.__file__).parent.glob("*.py")), ids=lambda p: p.name)
def test_every_module_says_its_one_concern_in_its_first_line(path: Path) -> None:
    docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    assert docstring, f"{path.name} has no docstring"
    first = docstring.splitlines()[0]
    assert first.endswith((".", ":")), f"{path.name}: {first!r}"
    assert len(first) <= 120, f"{path.name}: {first!r}"


# The sync client, generated from the async one (scripts/unasync.py) ----------------------------------

ASYNC_WORDS = re.compile(r"\basync\b|\bawait\b|\baclose\b|\bAsync[A-Z]\w*|\bevent loop\b")
SYNC_NAMES = {"aclose": "close", "__aenter__": "__enter__", "__aexit__": "__exit__"}


def sync_annotation(annotation: Any) -> Any:
    """An async annotation (a string, or `inspect.Parameter.empty`) as the sync twin writes it."""
    if not isinstance(annotation, str):
        return annotation
    generator = re.fullmatch(r"AsyncGenerator\[(.*), None\]", annotation)
    annotation = f"Generator[{generator[1]}, None, None]" if generator else annotation
    return re.sub(r"\bAsync([A-Z]\w*)", r"\1", annotation)


@pytest.mark.parametrize(
    ("async_cls", "sync_cls"), [(AsyncChatClient, ChatClient), (AsyncRawChatClient, RawChatClient)]
)
def test_each_sync_method_has_the_async_ones_signature_and_a_docstring_without_async_words(
    async_cls: type[Any], sync_cls: type[Any]
) -> None:
    documented = [name for name in vars(async_cls) if not name.startswith("_") or name in SYNC_NAMES]
    assert documented, async_cls
    for name in documented:
        async_method, sync_method = getattr(async_cls, name), getattr(sync_cls, SYNC_NAMES.get(name, name))
        if isinstance(async_method, property):
            async_method, sync_method = async_method.fget, sync_method.fget
        async_signature, sync_signature = inspect.signature(async_method), inspect.signature(sync_method)
        assert [
            (p.name, p.kind, p.default, sync_annotation(p.annotation)) for p in async_signature.parameters.values()
        ] == [(p.name, p.kind, p.default, p.annotation) for p in sync_signature.parameters.values()], name
        assert sync_annotation(async_signature.return_annotation) == sync_signature.return_annotation, name
        sync_doc = inspect.getdoc(sync_method) or ""
        assert not ASYNC_WORDS.search(sync_doc), f"{sync_cls.__name__}.{name}: {ASYNC_WORDS.search(sync_doc)}"
        async_doc = inspect.getdoc(async_method) or ""
        assert sync_doc.splitlines()[:1] == [sync_annotation(line) for line in async_doc.splitlines()[:1]], name
    assert not ASYNC_WORDS.search(inspect.getdoc(ChatClient) or "")
    assert "One client serves one event loop" in (inspect.getdoc(AsyncChatClient.__init__) or "")
