from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="AppendMessageRequest")


@_attrs_define
class AppendMessageRequest:
    """A new message.

    Attributes:
        role (str): Who wrote a message: `user`, `assistant` or `system` today. Open, so that a newer server's roles
            reach clients, and a client can send a role its server has learned; a server answers 422 for a role it does not
            know.
        content (str): A message's text, kept exactly.
    """

    role: str
    content: str

    def to_dict(self) -> dict[str, Any]:
        role = self.role

        content = self.content

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "role": role,
                "content": content,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        role = d.pop("role")

        content = d.pop("content")

        append_message_request = cls(
            role=role,
            content=content,
        )

        return append_message_request
