"""A Griffe extension for the docs build: Sphinx roles in docstrings become mkdocstrings cross-references.

pyclann's docstrings are Google style, rendered as Markdown, yet some say
``:class:`ChatSession` `` or ``:meth:`list_sessions` ``, which Markdown shows
literally (":class: ChatSession"). This rewrites each role into a link to the
object it names, resolved from the docstring's own scope, or into plain code
when the name is not documented here. mkdocs.yml loads it for mkdocstrings.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

# :class:`X`, :meth:`~a.b.X`, :py:func:`X`, :exc:`X`, ... (the `~` only shortens the shown name in Sphinx).
_ROLE = re.compile(r":(?:py:)?(?:class|meth|func|exc|attr|mod|obj|data|const):`~?(?P<name>[\w.]+)(?:\(\))?`")


def rewrite(text: str, scope: griffe.Object) -> str:
    """Replace each Sphinx role in `text` by a cross-reference, or by code if its name cannot be resolved."""

    def replace(match: re.Match[str]) -> str:
        first, dot, rest = match["name"].partition(".")
        shown = match["name"].rsplit(".", 1)[-1]
        try:
            target = scope.resolve(first) + dot + rest
        except griffe.NameResolutionError:
            return f"`{shown}`"
        return f"[`{shown}`][{target}]"

    return _ROLE.sub(replace, text)


class SphinxRoles(griffe.Extension):
    """Rewrites Sphinx roles in every docstring once the whole package is loaded."""

    def on_object(self, *, obj: griffe.Object, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        if obj.docstring is not None and ":" in obj.docstring.value:
            # Names resolve as Griffe resolves them: the object's members, then its parents'.
            obj.docstring.value = rewrite(obj.docstring.value, obj)
