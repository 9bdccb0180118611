from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="UpdateSessionRequest")


@_attrs_define
class UpdateSessionRequest:
    """The fields to change; at least one.

    Attributes:
        title (str | Unset): A session's title; at least one character is not white space, and none is a control
            character.
        tree (None | str | Unset): The new tree slug; null clears the tree; absent keeps it.
    """

    title: str | Unset = UNSET
    tree: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        title = self.title

        tree: None | str | Unset
        if isinstance(self.tree, Unset):
            tree = UNSET
        else:
            tree = self.tree

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if title is not UNSET:
            field_dict["title"] = title
        if tree is not UNSET:
            field_dict["tree"] = tree

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        title = d.pop("title", UNSET)

        def _parse_tree(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        tree = _parse_tree(d.pop("tree", UNSET))

        update_session_request = cls(
            title=title,
            tree=tree,
        )

        return update_session_request
