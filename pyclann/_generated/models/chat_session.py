from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="ChatSession")


@_attrs_define
class ChatSession:
    """An AI chat session.

    Attributes:
        id (str): A chat session's full record ID.
        title (str): A session's title; at least one character is not white space, and none is a control character.
        created_by (str): A user's name; a letter or digit, then letters, digits, `_`, `.` or `-`.
        tree (None | str): The tree this session is scoped to, or null.
        created_at (datetime.datetime): An RFC 3339 time in UTC, with a `Z` offset.
        updated_at (datetime.datetime): An RFC 3339 time in UTC, with a `Z` offset.
    """

    id: str
    title: str
    created_by: str
    tree: None | str
    created_at: datetime.datetime
    updated_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        title = self.title

        created_by = self.created_by

        tree: None | str
        tree = self.tree

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "title": title,
                "created_by": created_by,
                "tree": tree,
                "created_at": created_at,
                "updated_at": updated_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        title = d.pop("title")

        created_by = d.pop("created_by")

        def _parse_tree(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        tree = _parse_tree(d.pop("tree"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        chat_session = cls(
            id=id,
            title=title,
            created_by=created_by,
            tree=tree,
            created_at=created_at,
            updated_at=updated_at,
        )

        chat_session.additional_properties = d
        return chat_session

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
