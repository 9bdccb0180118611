"""RawResponse: a successful call's status, headers and request ID, with its result.

What a raw view returns (`client.with_raw_response.get_session(...)`); how the view
catches a call's answer is in `_answer`. Imported by a raw view, or by naming
`pyclann.RawResponse`, not with pyclann: it is an attrs class, and attrs is a
fifth of what `import pyclann` would cost beyond httpx2.
"""

from __future__ import annotations

from typing import Generic, TypeVar

import attrs
import httpx2

T = TypeVar("T")
U = TypeVar("U")


@attrs.frozen
class RawResponse(Generic[T]):
    """A successful call's result, with the HTTP response that carried it.

    For a method that walks several pages (`list_sessions`, `list_messages`), the
    status, headers and request ID are those of the last page.

    Attributes:
        parsed: What the method returns.
        status_code: The HTTP status code.
        headers: The response's headers.
        request_id: The server's `X-Request-Id`, if it sent one.
    """

    parsed: T
    status_code: int
    headers: httpx2.Headers = attrs.field(repr=False)
    request_id: str | None

    @property
    def idempotent_replayed(self) -> bool:
        """Whether the server replayed the first answer to this write's idempotency key."""
        replayed: str | None = self.headers.get("idempotent-replayed")
        return replayed == "true"

    def with_parsed(self, parsed: U) -> RawResponse[U]:
        return RawResponse(parsed, self.status_code, self.headers, self.request_id)
