from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="CreateSessionRequest")


@_attrs_define
class CreateSessionRequest:
    """A new session.

    Attributes:
        title (str): A session's title; at least one character is not white space, and none is a control character.
        created_by (str): A user's name; a letter or digit, then letters, digits, `_`, `.` or `-`.
        tree (None | str | Unset): Tree slug to scope this session to; null or absent for none.
    """

    title: str
    created_by: str
    tree: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        title = self.title

        created_by = self.created_by

        tree: None | str | Unset
        if isinstance(self.tree, Unset):
            tree = UNSET
        else:
            tree = self.tree

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "title": title,
                "created_by": created_by,
            }
        )
        if tree is not UNSET:
            field_dict["tree"] = tree

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        title = d.pop("title")

        created_by = d.pop("created_by")

        def _parse_tree(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        tree = _parse_tree(d.pop("tree", UNSET))

        create_session_request = cls(
            title=title,
            created_by=created_by,
            tree=tree,
        )

        return create_session_request
