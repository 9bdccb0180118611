"""The NOT_GIVEN sentinel: the default of arguments whose `None` has a meaning of its own."""

from __future__ import annotations

from typing import Final, Literal


class NotGiven:
    """The default of an argument that was not passed, where `None` means something else.

    `update_session(session_id, tree=None)` clears the tree, while leaving `tree`
    out (its default, `NOT_GIVEN`) keeps it.
    """

    _instance: NotGiven | None = None

    def __new__(cls) -> NotGiven:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> Literal[False]:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __reduce__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Final = NotGiven()
"""The one `NotGiven`: the default of arguments whose `None` has a meaning of its own."""
