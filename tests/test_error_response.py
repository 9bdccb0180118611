"""An error that comes from an answer carries it as `.response`: status, headers, bounded body, no credential."""

from __future__ import annotations

import copy
import pickle
from typing import Any

import httpx2
import pytest

from pyclann import (
    AsyncChatClient,
    ChatClient,
    ClannAPIError,
    ClannConnectionError,
    ClannError,
    ClannInvalidIdError,
    ClannNotFoundError,
    ClannResponseError,
    ClannTimeoutError,
    ErrorResponse,
)
from pyclann.testing import instant_retries
from tests.helpers import (
    BASE,
    SESSION_ID,
    TOKEN,
    MakeClient,
    Recorder,
    async_client,
    call,
    invoke,
    problem,
    respond,
    session,
    session_page,
)

NOT_FOUND = respond(404, problem(404, "no such session"), {"X-Request-Id": "req-404", "X-Trace": "abc"})


async def raised(client: Any, method: str = "get_session", *args: Any) -> ClannError:
    """The error `method` raises, called with `args`, or with the arguments tests.helpers gives it."""
    with pytest.raises(ClannError) as caught:
        await (call(client, method, *args) if args else invoke(client, method))
    return caught.value


async def test_an_error_from_an_answer_carries_its_status_headers_and_body(make_client: MakeClient) -> None:
    error = await raised(make_client(Recorder(NOT_FOUND)))
    assert type(error) is ClannNotFoundError
    response = error.response
    assert type(response) is ErrorResponse
    assert response.status_code == 404
    assert isinstance(response.headers, httpx2.Headers)
    assert (response.headers["x-trace"], response.request_id) == ("abc", "req-404")
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "no such session"
    assert "no such session" in response.text
    assert repr(response) == "ErrorResponse(status_code=404)"


async def test_an_error_raised_by_a_raw_call_carries_the_response_headers_too(make_client: MakeClient) -> None:
    error = await raised(make_client(Recorder(NOT_FOUND)).with_raw_response, "get_session", SESSION_ID)
    assert error.response is not None
    assert error.response.headers["x-trace"] == "abc"


async def test_a_retried_calls_error_carries_the_last_answer() -> None:
    busy = respond(503, problem(503, "busy"), {"X-Request-Id": "req-1"})
    down = respond(503, problem(503, "down"), {"X-Request-Id": "req-2"})
    with instant_retries():
        error = await raised(async_client(Recorder(busy, down), max_retries=1))
    assert error.response is not None
    assert (error.response.request_id, error.response.json()["detail"]) == ("req-2", "down")


async def test_a_success_whose_body_breaks_the_contract_carries_it() -> None:
    body = b'{"data": "not a list", "has_more": false, "next_cursor": null}'
    error = await raised(async_client(Recorder(respond(200, body))), "list_sessions_page", "alice")
    assert type(error) is ClannResponseError
    assert error.response is not None
    assert (error.response.status_code, error.response.content) == (200, body)


async def test_a_large_error_body_is_kept_only_as_far_as_it_is_read() -> None:
    huge = b"x" * (1024 * 1024)
    error = await raised(async_client(Recorder(respond(500, huge)), max_retries=0))
    assert error.response is not None
    assert 0 < len(error.response.content) <= 64 * 1024
    assert error.response.content == huge[: len(error.response.content)]


@pytest.mark.parametrize(
    "answer",
    [httpx2.ConnectError("refused"), httpx2.ReadTimeout("slow")],
    ids=["connection", "timeout"],
)
async def test_an_error_that_got_no_answer_has_no_response(answer: Exception) -> None:
    with instant_retries():
        error = await raised(async_client(Recorder(answer), max_retries=0))
    assert isinstance(error, ClannConnectionError | ClannTimeoutError)
    assert error.response is None


async def test_an_argument_refused_before_sending_has_no_response() -> None:
    error = await raised(async_client(Recorder(NOT_FOUND)), "get_session", "../x")
    assert type(error) is ClannInvalidIdError
    assert error.response is None


@pytest.mark.parametrize("how", ["pickle", "copy"])
async def test_the_response_survives_pickle_and_copy(how: str) -> None:
    error = await raised(async_client(Recorder(NOT_FOUND)))
    again = pickle.loads(pickle.dumps(error)) if how == "pickle" else copy.deepcopy(error)
    assert type(again) is ClannNotFoundError
    assert again.response == error.response
    assert again.response is not None
    assert again.response.headers["x-trace"] == "abc"
    assert str(again) == str(error)


def echoing(request: httpx2.Request) -> httpx2.Response:
    """A proxy's error page that shows the request's headers back, and sets a cookie."""
    shown = "\n".join(f"{name}: {value}" for name, value in request.headers.items())
    headers = {
        "X-Echo-Authorization": request.headers["authorization"],
        "Set-Cookie": "session=s3cr3t-cookie; HttpOnly",
        "Authorization": request.headers["authorization"],
    }
    return httpx2.Response(400, text=f"bad request; you sent:\n{shown}", headers=headers)


async def test_no_credential_is_in_the_response_its_pickle_repr_or_str() -> None:
    http = httpx2.AsyncClient(transport=httpx2.MockTransport(echoing), cookies={"sid": "cookie-v4lue"})
    client = AsyncChatClient(BASE, token=TOKEN, http_client=http, max_retries=0)
    error = await raised(client)
    assert isinstance(error, ClannAPIError)
    response = error.response
    assert response is not None
    shown = [str(error), repr(error), repr(vars(error)), repr(pickle.dumps(error)), response.text, error.body]
    shown += [f"{name}: {value}" for name, value in response.headers.multi_items()]
    for secret in (TOKEN, "s3cr3t-cookie", "cookie-v4lue"):
        assert all(secret not in part for part in shown), secret
    assert response.headers["set-cookie"] == "[redacted]"
    assert response.headers["x-echo-authorization"] == "[redacted]"
    assert "bad request; you sent:" in response.text, "the rest of the body is kept"


async def test_a_success_that_echoes_the_token_in_a_field_does_not_show_it() -> None:
    def echo(request: httpx2.Request) -> httpx2.Response:
        token = request.headers["authorization"].removeprefix("Bearer ")
        return respond(200, session_page([session(1, id=token)]))

    error = await raised(async_client(Recorder(echo)), "list_sessions_page", "alice")
    assert type(error) is ClannResponseError
    assert error.response is not None
    shown = [str(error), error.detail, error.body, error.response.text, repr(pickle.dumps(error))]
    assert all(TOKEN not in part for part in shown)
    assert "[redacted]" in str(error)


def test_an_error_a_users_hook_raised_for_a_status_carries_the_response() -> None:
    answer = respond(404, problem(404, "gone"), {"X-Trace": "hooked"})
    own = httpx2.Client(
        transport=httpx2.MockTransport(lambda request: answer),
        event_hooks={"response": [lambda response: response.raise_for_status()]},
    )
    with pytest.raises(ClannNotFoundError) as caught:
        ChatClient(BASE, token=TOKEN, http_client=own).get_session(SESSION_ID)
    assert caught.value.response is not None
    assert (caught.value.response.status_code, caught.value.response.headers["x-trace"]) == (404, "hooked")


async def test_a_walk_stopped_because_its_cursor_did_not_advance_carries_the_page() -> None:
    same = respond(200, session_page([session(2)], "stuck"), {"X-Request-Id": "req-stuck"})
    recorder = Recorder(respond(200, session_page([session(1)], "stuck")), same)
    with pytest.raises(ClannResponseError, match="did not advance") as caught:
        await call(async_client(recorder), "list_sessions", "alice")
    assert caught.value.response is not None
    assert (caught.value.response.status_code, caught.value.response.request_id) == (200, "req-stuck")
