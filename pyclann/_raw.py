"""Responses as users see them: a success's with its result (`RawResponse`), an error's (`ErrorResponse`).

What a raw view returns (`client.with_raw_response.get_session(...)`), and what an error
carries as `error.response`; how a raw view catches a call's answer is in `_answer`.
Imported when first needed (a raw view, an error with a response, or naming
`pyclann.RawResponse`), not with pyclann: both are attrs classes, and attrs alone costs
`import pyclann` about a sixth of what httpx2 does.
"""

from __future__ import annotations

import json
from typing import Any, Generic, TypeVar

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


@attrs.frozen
class ErrorResponse:
    """The answer an error came from, as `error.response`: its status, headers and body, without credentials.

    pyclann's own small record rather than the `httpx2.Response`: it pickles, and it holds
    neither the request (whose headers carry the token) nor the connection. Header values
    that are credentials (`Authorization`, `Proxy-Authorization`, `Cookie`, `Set-Cookie`),
    and the request's own token wherever the server echoed it, read `[redacted]`.

    Attributes:
        status_code: The HTTP status code.
        headers: The response's headers (case-insensitive, as on a `RawResponse`).
        content: The body, as far as it was read: at most 64 KiB of it.
    """

    status_code: int
    headers: httpx2.Headers = attrs.field(repr=False)
    content: bytes = attrs.field(repr=False)

    @property
    def text(self) -> str:
        """The body as text (UTF-8, an undecodable byte replaced)."""
        return self.content.decode("utf-8", "replace")

    @property
    def request_id(self) -> str | None:
        """The server's `X-Request-Id`, if it sent one."""
        found: str | None = self.headers.get("x-request-id")
        return found

    def json(self) -> Any:
        """The body decoded as JSON.

        Raises:
            ValueError: If the body is not JSON (or was cut at the limit).
        """
        return json.loads(self.content)
