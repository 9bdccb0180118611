"""Every failure becomes a ClannError (pyclann._failures): statuses, broken bodies, transport errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx2
import pytest

from pyclann import (
    ChatClient,
    ClannAPIError,
    ClannAuthError,
    ClannBadRequestError,
    ClannConflictError,
    ClannConnectionError,
    ClannError,
    ClannNotFoundError,
    ClannPermissionError,
    ClannRateLimitError,
    ClannResponseError,
    ClannServerError,
    ClannTimeoutError,
    ClannUnprocessableError,
)
from pyclann._failures import parse_retry_after
from pyclann.testing import instant_retries
from tests.helpers import MESSAGE, METHODS, PATHS, SESSION, Recorder, async_client, call, invoke, problem, respond

# The class each status stands for, by its code alone. 405 and 413 are in the contract's
# problem table, but have no class of their own: they are ClannAPIError, like a 418 or a
# 302 from a proxy that the contract never mentions.
STATUS_ERRORS: dict[int, type[ClannAPIError]] = {
    302: ClannAPIError,
    400: ClannBadRequestError,
    401: ClannAuthError,
    403: ClannPermissionError,
    404: ClannNotFoundError,
    405: ClannAPIError,
    409: ClannConflictError,
    410: ClannNotFoundError,
    413: ClannAPIError,
    418: ClannAPIError,
    422: ClannUnprocessableError,
    429: ClannRateLimitError,
    500: ClannServerError,
    502: ClannServerError,
    503: ClannServerError,
    504: ClannServerError,
    507: ClannServerError,
    599: ClannServerError,
}


@pytest.mark.parametrize("status", sorted(STATUS_ERRORS))
@pytest.mark.parametrize("method", PATHS.values(), ids=PATHS.keys())
async def test_every_error_status_raises_its_class(method: str, status: int) -> None:
    recorder = Recorder(respond(status, problem(status, "what went wrong")))
    with pytest.raises(ClannAPIError) as caught:
        await invoke(async_client(recorder, max_retries=0), method)
    assert type(caught.value) is STATUS_ERRORS[status]
    assert caught.value.status_code == status
    assert len(recorder.requests) == 1


@pytest.mark.parametrize("method", PATHS.values(), ids=PATHS.keys())
async def test_an_error_status_carries_the_problems_details(method: str) -> None:
    body = problem(409, "what went wrong (409)", kind="kind-409")
    recorder = Recorder(respond(409, body, {"X-Request-Id": "req-42"}))
    with pytest.raises(ClannAPIError) as caught:
        await invoke(async_client(recorder, max_retries=0), method)
    error = caught.value
    assert error.detail == "what went wrong (409)"
    assert error.request_id == "req-42"
    assert error.problem_type == "tag:clann.dev,2026:problem/kind-409"
    assert error.problem == body
    assert json.loads(error.body) == body
    assert ": what went wrong (409) (request id req-42)" in str(error)


@pytest.mark.parametrize(("status", "claims"), [(404, 429), (429, 404), (500, 400), (400, 503)])
async def test_the_class_comes_from_the_status_code_never_from_the_body(status: int, claims: int) -> None:
    body = problem(claims, "the body says otherwise", kind="rate-limited")
    with pytest.raises(ClannAPIError) as caught:
        await call(
            async_client(Recorder(respond(status, body)), max_retries=0), "get_session", METHODS["get_session"][0][0]
        )
    assert type(caught.value) is STATUS_ERRORS[status]
    assert caught.value.status_code == status


async def test_a_422_message_names_each_field_and_what_was_wrong() -> None:
    fields = [
        {"field": "title", "message": "must be 1 to 200 characters"},
        {"field": "tree", "message": "must be a tree slug"},
    ]
    body = problem(422, "the request body does not match the schema", kind="validation-failed", errors=fields)
    with pytest.raises(ClannUnprocessableError) as caught:
        await invoke(async_client(Recorder(respond(422, body))), "create_session")
    assert caught.value.errors == fields
    assert "title: must be 1 to 200 characters" in str(caught.value)
    assert "tree: must be a tree slug" in str(caught.value)
    assert caught.value.detail == "the request body does not match the schema"


async def test_a_422_whose_detail_names_the_fields_already_does_not_repeat_them() -> None:
    fields = [{"field": "role", "message": "unknown role 'tool'"}]
    body = problem(422, "role: unknown role 'tool'", errors=fields)
    with pytest.raises(ClannUnprocessableError) as caught:
        await invoke(async_client(Recorder(respond(422, body))), "append_message")
    assert str(caught.value).count("unknown role 'tool'") == 1


@pytest.mark.parametrize(("header", "expected"), [("7", 7.0), ("0.5", 0.5), (None, None), ("soon", None)])
async def test_a_429_carries_retry_after(header: str | None, expected: float | None) -> None:
    headers = {"Retry-After": header} if header is not None else {}
    recorder = Recorder(respond(429, problem(429, "slow down"), headers))
    with pytest.raises(ClannRateLimitError) as caught:
        await call(async_client(recorder, max_retries=0), "list_sessions", "alice")
    assert caught.value.retry_after == expected


@pytest.mark.parametrize(
    ("status", "body", "content_type", "says"),
    [
        (502, b"<html><body>Bad Gateway</body></html>", "text/html", "HTML page"),
        (404, b"", None, "the response had no body"),
        (404, b"not json at all", "application/problem+json", "unexpected response body: not json at all"),
        (401, b'["a", "list"]', "application/problem+json", "unexpected response body"),
        (403, b'{"detail": 42}', "application/problem+json", "unexpected response body"),
        (403, b'{"detail": ""}', "application/problem+json", "unexpected response body"),
        (500, b"\xff\xfe\x00garbage", "application/octet-stream", "unexpected response body"),
        (400, b"[" * 100_000 + b"]" * 100_000, "application/problem+json", "unexpected response body"),
    ],
)
async def test_unreadable_error_bodies_still_raise_by_status(
    status: int, body: bytes, content_type: str | None, says: str
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    with pytest.raises(ClannAPIError) as caught:
        await call(async_client(Recorder(respond(status, body, headers)), max_retries=0), "list_sessions", "alice")
    assert type(caught.value) is STATUS_ERRORS[status]
    assert says in caught.value.detail
    assert caught.value.status_code == status
    assert caught.value.problem_type is None


async def test_a_long_error_body_is_kept_to_64_kib_and_its_detail_to_500_characters() -> None:
    body = problem(400, "d" * 10_000, padding="p" * 200_000)
    with pytest.raises(ClannBadRequestError) as caught:
        await call(async_client(Recorder(respond(400, body))), "list_sessions", "alice")
    assert len(caught.value.detail) == 500
    assert caught.value.detail.endswith("...")
    # Cut at 64 KiB, the body is no longer JSON: the detail comes from its text.
    assert len(caught.value.body) == 64 * 1024


@pytest.mark.parametrize(
    ("method", "body", "says"),
    [
        ("list_sessions", b"<html>", "not JSON"),
        ("list_sessions", b"[]", "expected a page of sessions object, got list"),
        ("get_session", b"null", "expected a chat session object, got null"),
        ("get_session", json.dumps({**SESSION, "id": "x"}).encode(), "field 'id' must be a chat_session ID"),
        ("append_message", b'{"id": "x"', "not JSON"),
        ("append_message", b"[" * 100_000 + b"]" * 100_000, "expected a chat message object, got list"),
        ("get_message", json.dumps(MESSAGE).replace('"Hello"', "1e999999").encode(), "field 'content'"),
    ],
)
async def test_a_success_whose_body_breaks_the_contract_is_a_response_error(
    method: str, body: bytes, says: str
) -> None:
    _, status, _ = METHODS[method]
    with pytest.raises(ClannResponseError) as caught:
        await invoke(async_client(Recorder(respond(status, body)), max_retries=0), method)
    assert says in caught.value.detail
    assert caught.value.status_code == status
    assert caught.value.request_id == "req-1"


@pytest.mark.parametrize(("method", "status"), [("append_message", 200), ("get_session", 201), ("delete_session", 200)])
async def test_an_unexpected_success_status_is_a_response_error(method: str, status: int) -> None:
    _, _, body = METHODS[method]
    with pytest.raises(ClannResponseError, match=f"expected status {METHODS[method][1]}"):
        await invoke(async_client(Recorder(respond(status, body or {}))), method)


TRANSPORT_ERRORS: list[tuple[Exception, type[ClannError]]] = [
    (httpx2.ConnectError("refused"), ClannConnectionError),
    (httpx2.ReadError("reset"), ClannConnectionError),
    (httpx2.WriteError("broken pipe"), ClannConnectionError),
    (httpx2.RemoteProtocolError("garbage"), ClannConnectionError),
    (httpx2.ConnectTimeout("slow"), ClannTimeoutError),
    (httpx2.ReadTimeout("slow"), ClannTimeoutError),
    (httpx2.WriteTimeout("slow"), ClannTimeoutError),
    (httpx2.PoolTimeout("busy"), ClannTimeoutError),
]


@pytest.mark.parametrize(("raised", "expected"), TRANSPORT_ERRORS, ids=lambda v: type(v).__name__)
@pytest.mark.parametrize("method", PATHS.values(), ids=PATHS.keys())
async def test_transport_errors_become_connection_or_timeout_errors(
    method: str, raised: Exception, expected: type[ClannError]
) -> None:
    with pytest.raises(ClannConnectionError) as caught:
        await invoke(async_client(Recorder(raised), max_retries=0), method)
    assert type(caught.value) is expected


@pytest.mark.parametrize("method", PATHS.values(), ids=PATHS.keys())
async def test_a_transport_error_is_the_cause_and_is_named(method: str) -> None:
    raised = httpx2.ReadError("reset")
    with pytest.raises(ClannConnectionError) as caught:
        await invoke(async_client(Recorder(raised), max_retries=0), method)
    assert caught.value.__cause__ is raised
    assert caught.value.__suppress_context__
    assert "ReadError" in str(caught.value)


@pytest.mark.parametrize("raised", [httpx2.UnsupportedProtocol("gopher"), httpx2.LocalProtocolError("bad header")])
async def test_errors_a_retry_cannot_mend_are_not_retried(raised: Exception) -> None:
    recorder = Recorder(raised)
    with pytest.raises(ClannConnectionError):
        await call(async_client(recorder), "list_sessions", "alice")
    assert len(recorder.requests) == 1


# Retry-After ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("5", 5.0),
        ("0.5", 0.5),
        ("0", 0.0),
        (" 7 ", 7.0),
        # RFC 9110's delay-seconds is ASCII digits: anything else float() takes is unreadable.
        ("-3", None),
        ("1_000", None),
        ("1e3", None),
        ("\u0663", None),
        (None, None),
        ("", None),
        ("soon", None),
        ("nan", None),
        ("inf", None),
        ("-inf", None),
        ("1e999", None),
        # HTTP dates with an absurd hour or year: these once raised OverflowError or ValueError.
        ("Wed, 21 Oct 2015 99:28:00 GMT", None),
        ("Wed, 21 Oct 2015 07:99:00 GMT", None),
        ("Wed, 32 Oct 2015 07:28:00 GMT", None),
        ("Wed, 21 Oct 2015 07:28:00 +9900", None),
        ("Mon, 01 Jan 0001 00:00:00 GMT", 0.0),
        ("Sun, 06 Nov 1994 08:49:37 GMT", 0.0),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value) == expected


@pytest.mark.parametrize("usegmt", [True, False])
def test_parse_retry_after_reads_an_http_date_as_seconds_from_now(usegmt: bool) -> None:
    when = datetime.now(UTC) + timedelta(seconds=30)
    seconds = parse_retry_after(format_datetime(when, usegmt=usegmt))
    assert seconds is not None
    assert 25 <= seconds <= 31


def test_parse_retry_after_of_a_far_future_date_is_a_large_finite_number() -> None:
    seconds = parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT")
    assert seconds is not None
    assert seconds > 60 * 60 * 24 * 365 * 1000


@pytest.mark.parametrize(
    "value",
    [b"Wed, 21 Oct 2015 99:28:00 GMT", b"Fri, 31 Dec 9999 23:59:59 GMT", b"1e999", b"\xff\xfe", b"9" * 400],
)
async def test_any_retry_after_raises_only_a_clann_error(value: bytes) -> None:
    answer = httpx2.Response(429, headers=[(b"Retry-After", value)], json=problem(429, "slow"))
    recorder = Recorder(answer)
    with pytest.raises(ClannRateLimitError), instant_retries():
        await call(async_client(recorder, max_retries=1), "list_sessions", "alice")


@pytest.mark.parametrize("method", PATHS.values(), ids=PATHS.keys())
async def test_an_empty_success_body_where_a_record_is_due_is_a_cut_body_and_is_retried(method: str) -> None:
    _, status, body = METHODS[method]
    recorder = Recorder(respond(status, b""), respond(status, body))
    with instant_retries() as waits:
        await invoke(async_client(recorder), method)
    assert len(recorder.requests) == 2
    assert len(waits) == 1
    assert len(set(recorder.keys)) == 1


async def test_an_empty_success_body_that_stays_empty_says_it_is_not_json() -> None:
    recorder = Recorder(respond(201, b""))
    with pytest.raises(ClannResponseError, match="the body is not JSON") as caught, instant_retries():
        await invoke(async_client(recorder), "append_message")
    assert caught.value.may_have_landed
    assert len(recorder.requests) == 3


def test_a_redirect_loop_of_a_users_client_that_follows_redirects_is_a_connection_error() -> None:
    def loop(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(307, headers={"Location": str(request.url)})

    own = httpx2.Client(transport=httpx2.MockTransport(loop), follow_redirects=True, max_redirects=3)
    client = ChatClient("http://clann.test", token="t", http_client=own)
    with pytest.raises(ClannConnectionError, match="TooManyRedirects") as caught, instant_retries() as waits:
        client.append_message(SESSION["id"], "user", "x", idempotency_key="k-5")
    assert waits == [], "a loop is not mended by trying again"
    assert isinstance(caught.value.__cause__, httpx2.TooManyRedirects)
    assert (caught.value.idempotency_key, caught.value.may_have_landed) == ("k-5", True)
    own.close()


@pytest.mark.parametrize("raised", [httpx2.DecodingError("bad gzip"), httpx2.RequestError("other")])
async def test_any_other_httpx_request_error_is_a_connection_error(raised: Exception) -> None:
    with pytest.raises(ClannConnectionError) as caught, instant_retries():
        await call(async_client(Recorder(raised)), "list_sessions", "alice")
    assert caught.value.__cause__ is raised


def hooked(hook: Any) -> ChatClient:
    """A client over a mock whose user's httpx2 client runs `hook` on every response."""
    own = httpx2.Client(
        transport=httpx2.MockTransport(lambda request: respond(404, problem(404, "gone"))),
        event_hooks={"response": [hook]},
    )
    return ChatClient("http://clann.test", token="t", http_client=own)


def test_a_users_hook_that_raises_for_status_gets_the_class_of_the_status() -> None:
    # httpx2.HTTPStatusError once escaped as it was, and a write's error lost its key.
    client = hooked(lambda response: response.raise_for_status())
    with pytest.raises(ClannNotFoundError) as caught, instant_retries():
        client.append_message(SESSION["id"], "user", "x", idempotency_key="k-6")
    assert caught.value.status_code == 404
    assert caught.value.idempotency_key == "k-6"


@pytest.mark.parametrize("raised", [NotImplementedError("not yet"), ValueError("odd"), OverflowError("huge")])
def test_anything_else_raised_below_pyclann_after_sending_is_a_connection_error_in_doubt(raised: Exception) -> None:
    # A RuntimeError (NotImplementedError is one) was once taken for "client closed", nothing sent.
    def hook(response: httpx2.Response) -> None:
        raise raised

    client = hooked(hook)
    with pytest.raises(ClannConnectionError, match="failed unexpectedly") as caught, instant_retries() as waits:
        client.append_message(SESSION["id"], "user", "x", idempotency_key="k-7")
    assert caught.value.__cause__ is raised
    assert caught.value.__cause__.__traceback__ is None, "no frames: they may hold the request's headers"
    assert (caught.value.idempotency_key, caught.value.may_have_landed) == ("k-7", True)
    assert waits == [], "not retried: what it is, nobody knows"
