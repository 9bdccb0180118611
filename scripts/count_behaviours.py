"""Counts the behaviours the suite tests, not its items: `python -m scripts.count_behaviours [pytest args]`.

A behaviour is a test function's case with two kinds of parametrisation collapsed:

- the client flavour: a parameter whose values are the twins (`sync`/`async`, `ChatClient`/
  `AsyncChatClient`, their raw views, `httpx2.Client`/`httpx2.AsyncClient`), since the twins
  share every behaviour but their I/O;
- the method axis of a cross product: a parameter whose values are all public method names,
  when the function has another parameter too (statuses x methods, bad IDs x methods,
  transport errors x methods). Each of those cases tests one shared function, so the table's
  row is the behaviour. A function parametrised over the methods alone (each method sends its
  own request, say) keeps one behaviour per method.

Every other parameter counts: each status, bad ID or malformed URL is a behaviour of its own.
`--by-function` prints the count of each function too.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from typing import Any

import pytest

from pyclann import ChatClient

PUBLIC = {name for name in dir(ChatClient) if not name.startswith("_")}
TWINS = [{"sync", "async"}, {"Client", "AsyncClient"}]
SURFACES = {"ChatClient", "AsyncChatClient", "RawChatClient", "AsyncRawChatClient"}


def _shown(value: Any) -> str:
    name = getattr(value, "__name__", None)
    return name if isinstance(name, str) else repr(value)


class Collector:
    """A pytest plugin that keeps each collected item's function and parameters."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            callspec = getattr(item, "callspec", None)
            params = {k: _shown(v) for k, v in callspec.params.items()} if callspec else {}
            name = getattr(item, "originalname", item.name)
            self.items[(item.nodeid.split("::")[0], name)].append(params)


def behaviours(cases: list[dict[str, str]]) -> int:
    """The behaviours among one function's cases."""
    values: dict[str, set[str]] = defaultdict(set)
    for params in cases:
        for name, value in params.items():
            values[name].add(value.strip("'"))
    twin = {n for n, vs in values.items() if vs in TWINS or (len(vs) > 1 and vs <= SURFACES)}
    methods = {n for n, vs in values.items() if n not in twin and vs <= PUBLIC}
    collapsed = twin | (methods if set(values) - twin - methods else set())
    return len({tuple(sorted((n, v) for n, v in params.items() if n not in collapsed)) for params in cases})


def main(argv: list[str]) -> int:
    by_function = "--by-function" in argv
    args = [arg for arg in argv if arg != "--by-function"]
    collector = Collector()
    code = pytest.main(["--collect-only", "-qq", "-o", "addopts=", "-p", "no:cacheprovider", *args], [collector])
    counts = {key: behaviours(cases) for key, cases in collector.items.items()}
    if by_function:
        for (path, name), count in sorted(counts.items()):
            print(f"{count:4d} {path}::{name}")
    items = sum(len(cases) for cases in collector.items.values())
    print(f"items {items}, functions {len(counts)}, behaviours {sum(counts.values())}")
    return int(code)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
