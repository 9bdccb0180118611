from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="ChatMessage")


@_attrs_define
class ChatMessage:
    """One message of a chat session.

    Attributes:
        id (str): A chat message's full record ID.
        session (str): A chat session's full record ID.
        role (str): Who wrote a message: `user`, `assistant` or `system` today. Open, so that a newer server's roles
            reach clients, and a client can send a role its server has learned; a server answers 422 for a role it does not
            know.
        content (str): A message's text, kept exactly.
        created_at (datetime.datetime): An RFC 3339 time in UTC, with a `Z` offset.
    """

    id: str
    session: str
    role: str
    content: str
    created_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        session = self.session

        role = self.role

        content = self.content

        created_at = self.created_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "session": session,
                "role": role,
                "content": content,
                "created_at": created_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        session = d.pop("session")

        role = d.pop("role")

        content = d.pop("content")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        chat_message = cls(
            id=id,
            session=session,
            role=role,
            content=content,
            created_at=created_at,
        )

        chat_message.additional_properties = d
        return chat_message

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
