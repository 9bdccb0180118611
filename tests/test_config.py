"""A client's settings (pyclann._config): the environment, and every bad value refused at construction."""

from __future__ import annotations

import math
import traceback
from typing import Any

import httpx2
import pytest

from pyclann import AsyncChatClient, ChatClient, ClannConfigError, __version__
from tests.helpers import BASE, SESSION_ID, TOKEN, Recorder, async_client, call, success

PASSWORD = "hunter2-pw-5e1"
CLIENTS = [ChatClient, AsyncChatClient]


def over_mock(cls: type[ChatClient] | type[AsyncChatClient], recorder: Recorder, **kwargs: Any) -> Any:
    transport = httpx2.MockTransport(recorder)
    if cls is ChatClient:
        return ChatClient(http_client=httpx2.Client(transport=transport), **kwargs)
    return AsyncChatClient(http_client=httpx2.AsyncClient(transport=transport), **kwargs)


# The environment ----------------------------------------------------------------------------------


async def test_base_url_and_token_fall_back_to_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLANN_BASE_URL", "http://from-env.test/")
    monkeypatch.setenv("CLANN_TOKEN", "env-token")
    recorder = Recorder(success("get_session"))
    await call(over_mock(AsyncChatClient, recorder), "get_session", SESSION_ID)
    assert str(recorder.requests[0].url).startswith("http://from-env.test/api/chat/sessions/")
    assert recorder.requests[0].headers["Authorization"] == "Bearer env-token"


async def test_arguments_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLANN_BASE_URL", "http://from-env.test")
    monkeypatch.setenv("CLANN_TOKEN", "env-token")
    recorder = Recorder(success("get_session"))
    await call(over_mock(AsyncChatClient, recorder, base_url=BASE, token=TOKEN), "get_session", SESSION_ID)
    assert recorder.requests[0].url.host == "clann.test"
    assert recorder.requests[0].headers["Authorization"] == f"Bearer {TOKEN}"


async def test_an_empty_token_sends_none_even_with_clann_token_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLANN_TOKEN", "env-token")
    recorder = Recorder(success("get_session"))
    await call(over_mock(AsyncChatClient, recorder, base_url=BASE, token=""), "get_session", SESSION_ID)
    assert "Authorization" not in recorder.requests[0].headers


@pytest.mark.parametrize("env_token", [None, ""])
async def test_no_token_anywhere_sends_no_authorization(env_token: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    if env_token is None:
        monkeypatch.delenv("CLANN_TOKEN", raising=False)
    else:
        monkeypatch.setenv("CLANN_TOKEN", env_token)
    recorder = Recorder(success("get_session"))
    await call(over_mock(AsyncChatClient, recorder, base_url=BASE), "get_session", SESSION_ID)
    assert "Authorization" not in recorder.requests[0].headers


def test_no_base_url_is_a_clear_error_at_construction(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLANN_BASE_URL", raising=False)
    with pytest.raises(ClannConfigError, match="no base URL: pass base_url= or set CLANN_BASE_URL"):
        AsyncChatClient(token=TOKEN)
    monkeypatch.setenv("CLANN_BASE_URL", "")
    with pytest.raises(ClannConfigError, match="CLANN_BASE_URL"):
        AsyncChatClient(token=TOKEN)


# Base URLs ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "sent_to"),
    [
        ("http://clann.test", "http://clann.test/api/chat/sessions/"),
        ("http://clann.test/", "http://clann.test/api/chat/sessions/"),
        ("https://clann.test:8443/prefix/", "https://clann.test:8443/prefix/api/chat/sessions/"),
        ("HTTP://CLANN.TEST", "http://clann.test/api/chat/sessions/"),
        ("http://127.0.0.1:8765", "http://127.0.0.1:8765/api/chat/sessions/"),
        ("http://[::1]:8765", "http://[::1]:8765/api/chat/sessions/"),
        # A Docker Compose service's name: once refused by an IDNA check meant for A-labels.
        ("http://clann_api:8000", "http://clann_api:8000/api/chat/sessions/"),
        ("http://bücher.example", "http://xn--bcher-kva.example/api/chat/sessions/"),
        # Percent-escapes are kept as given: %2F once became "/", %3F and %23 escaped as httpx2.InvalidURL.
        ("http://clann.test/a%2Fb/", "http://clann.test/a%2Fb/api/chat/sessions/"),
        ("http://clann.test/a%3Fb", "http://clann.test/a%3Fb/api/chat/sessions/"),
        ("http://clann.test/a%23b", "http://clann.test/a%23b/api/chat/sessions/"),
    ],
)
def test_a_base_url_is_the_prefix_of_every_request(given: str, sent_to: str) -> None:
    recorder = Recorder(success("get_session"))
    over_mock(ChatClient, recorder, base_url=given, token=TOKEN).get_session(SESSION_ID)
    assert str(recorder.requests[0].url).startswith(sent_to)


BAD_BASE_URLS = {
    "empty DNS label": ("http://a..b/", "not a valid host name"),
    "label over 63 characters": (f"http://{'a' * 64}.example/", "not a valid host name"),
    "name over 253 characters": ("http://" + "a." * 127 + "com", "not a valid host name"),
    "port over 65535": ("http://clann.test:70000", "port must be 1 to 65535"),
    "port 0": ("http://clann.test:0", "port must be 1 to 65535"),
    "port not a number": ("http://clann.test:http", "not a URL"),
    "a query": ("http://clann.test/?tenant=1", "must not have a query or a fragment"),
    "an empty query": ("http://clann.test/?", "must not have a query or a fragment"),
    "a fragment": ("http://clann.test/#top", "must not have a query or a fragment"),
    "no host": ("http:///api", "with a host"),
    "no scheme": ("clann.test", "http:// or https://"),
    "ftp": ("ftp://clann.test", "http:// or https://"),
    "a space in the host": ("http://clann .test", "must not contain white space"),
    "leading space": (" http://clann.test", "must not contain white space"),
    # httpx2 would quote it, and every path would end in %20.
    "trailing space": ("http://clann.test/api ", "must not contain white space"),
    "a tab": ("http://clann.test/\tapi", "must not contain white space"),
    "unclosed IPv6": ("http://[::1", "not a URL"),
    "bad IPv4": ("http://256.1.1.1", "not a URL"),
    "a lone surrogate": ("http://\ud800.test", "not a URL"),
    "a label starting with a hyphen": ("http://-clann.test", "not a valid host name"),
    # Once an IDNAError at the first call: an A-label that does not decode.
    "an A-label that does not decode": ("http://xn--zz.example", "not a valid host name"),
    # Once httpx2.InvalidURL at the first call: no room left for the path.
    "a base URL too long for any path": ("http://127.0.0.1:9/" + "p" * 65500, "at most 2000 characters"),
}


@pytest.mark.parametrize(("url", "says"), BAD_BASE_URLS.values(), ids=BAD_BASE_URLS.keys())
def test_a_malformed_base_url_is_a_config_error_at_construction(url: str, says: str) -> None:
    with pytest.raises(ClannConfigError, match=says) as caught:
        AsyncChatClient(url, token=TOKEN)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    "url",
    [
        f"http://user:{PASSWORD}@clann.test",
        f"https://{PASSWORD}@clann.test/",
        f"http://user:{PASSWORD}@a..b/",
        f"http://user:{PASSWORD}@clann.test:70000",
        # No authority for httpx2 to find a user in: still never echoed.
        f"http:/alice:{PASSWORD}@clann.test",
        f"https:alice:{PASSWORD}@clann.test",
        f"alice:{PASSWORD}@clann.test",
    ],
)
def test_a_base_url_with_a_password_is_refused_without_echoing_it(url: str) -> None:
    with pytest.raises(ClannConfigError) as caught:
        AsyncChatClient(url, token=TOKEN)
    shown = "".join(traceback.TracebackException.from_exception(caught.value, capture_locals=False).format())
    assert PASSWORD not in shown, "not in the message, nor in a chained httpx2 error"
    assert url not in repr(caught.value.args)


@pytest.mark.parametrize("url", [b"http://clann.test", 5, httpx2.URL("http://clann.test")])
def test_a_base_url_that_is_not_a_str_is_a_type_error(url: Any) -> None:
    with pytest.raises(TypeError, match="base_url must be a str"):
        ChatClient(url, token=TOKEN)


# Tokens -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("token", ["has space", "naïve-token", "tab\there", "new\nline"])
def test_a_token_that_cannot_be_sent_is_refused_without_echoing_it(token: str) -> None:
    with pytest.raises(ClannConfigError, match=r"token must be visible ASCII characters.*\(the token is not shown\)"):
        AsyncChatClient(BASE, token=token)


# Numbers ------------------------------------------------------------------------------------------

BAD_SECONDS = [-1, 0, -0.5, math.nan, math.inf, -math.inf]


@pytest.mark.parametrize("value", BAD_SECONDS)
def test_a_timeout_that_is_not_a_positive_finite_number_is_refused_at_construction(value: float) -> None:
    with pytest.raises(ClannConfigError, match="timeout must be a finite number of seconds above 0"):
        AsyncChatClient(BASE, token=TOKEN, timeout=value)


@pytest.mark.parametrize("part", ["connect", "read", "write", "pool"])
@pytest.mark.parametrize("value", [-1, math.nan, math.inf])
def test_an_httpx_timeout_with_a_bad_part_is_refused_naming_it(part: str, value: float) -> None:
    parts: dict[str, float | None] = {"connect": 5, "read": 5, "write": 5, "pool": 5, part: value}
    with pytest.raises(ClannConfigError, match=f"timeout.{part} must be"):
        ChatClient(BASE, token=TOKEN, timeout=httpx2.Timeout(**parts))


@pytest.mark.parametrize("value", [1e10, 10**400, 365 * 24 * 3600 + 1])
@pytest.mark.parametrize("name", ["timeout", "total_timeout"])
def test_a_timeout_longer_than_a_socket_can_wait_is_refused(name: str, value: float) -> None:
    # 1e10 once overflowed socket.settimeout at the first call, with the request's headers in the frames.
    options: dict[str, Any] = {name: value}
    with pytest.raises(ClannConfigError, match=f"{name} must be"):
        ChatClient(BASE, token=TOKEN, **options)
    with pytest.raises(ClannConfigError, match=r"timeout\.write must be at most"):
        ChatClient(BASE, token=TOKEN, timeout=httpx2.Timeout(5, write=1e10))
    with pytest.raises(ClannConfigError):
        ChatClient(BASE, token=TOKEN).with_options(**options)


@pytest.mark.parametrize("value", BAD_SECONDS)
def test_a_total_timeout_that_is_not_a_positive_finite_number_is_refused(value: float) -> None:
    with pytest.raises(ClannConfigError, match="total_timeout must be"):
        ChatClient(BASE, token=TOKEN, total_timeout=value)


@pytest.mark.parametrize(
    ("name", "value"),
    # sys.maxsize once overflowed zlib's max_length while a gzip body was read.
    [("max_retries", -1), ("max_response_size", 0), ("max_response_size", -1), ("max_response_size", 2**63 - 1)],
)
def test_counts_out_of_their_range_are_refused(name: str, value: int) -> None:
    options: dict[str, Any] = {name: value}
    with pytest.raises(ClannConfigError, match=f"{name} must be"):
        ChatClient(BASE, token=TOKEN, **options)


def test_a_huge_max_retries_is_accepted() -> None:
    ChatClient(BASE, token=TOKEN, max_retries=10**30).close()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("timeout", "5"),
        ("timeout", True),
        ("timeout", [5]),
        ("total_timeout", "5"),
        ("max_retries", 1.5),
        ("max_retries", True),
        ("max_retries", None),
        ("max_response_size", 1024.0),
        ("max_response_size", None),
        ("headers", [("X-A", "b")]),
        ("headers", {"X-A": 1}),
        ("headers", {1: "b"}),
    ],
)
def test_a_setting_of_the_wrong_type_is_a_type_error(name: str, value: Any) -> None:
    with pytest.raises(TypeError, match=name.split("_")[0]):
        AsyncChatClient(BASE, token=TOKEN, **{name: value})


# Headers ------------------------------------------------------------------------------------------


async def test_extra_headers_are_sent_with_every_request() -> None:
    recorder = Recorder(success("get_session"))
    await call(async_client(recorder, headers={"X-Tenant": "t-1"}), "get_session", SESSION_ID)
    assert recorder.requests[0].headers["X-Tenant"] == "t-1"
    assert recorder.requests[0].headers["Authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize("name", ["Content-Length", "transfer-encoding", "Host", "Connection"])
def test_headers_may_not_set_what_frames_the_message(name: str) -> None:
    # A Content-Length of 0 once escaped as h11's LocalProtocolError at the first write.
    with pytest.raises(ClannConfigError, match="is set by httpx2 for each request"):
        ChatClient(BASE, token=TOKEN, headers={name: "0"})


async def test_your_user_agent_keeps_pyclanns_name_after_it() -> None:
    recorder = Recorder(success("get_session"))
    client = async_client(recorder, headers={"User-Agent": "my-app/1.2"})
    await call(client.with_options(headers={"user-agent": "my-app/1.3"}), "get_session", SESSION_ID)
    await call(client, "get_session", SESSION_ID)
    agents = [request.headers["User-Agent"] for request in recorder.requests]
    assert agents == [f"my-app/1.3 pyclann/{__version__}", f"my-app/1.2 pyclann/{__version__}"]


@pytest.mark.parametrize("name", ["Authorization", "authorization"])
def test_headers_may_not_replace_the_tokens_authorization(name: str) -> None:
    with pytest.raises(ClannConfigError, match="may not set Authorization when token= is given") as caught:
        ChatClient(BASE, token=TOKEN, headers={name: f"Bearer {PASSWORD}"})
    assert PASSWORD not in str(caught.value)
    with pytest.raises(ClannConfigError, match="may not set Authorization"):
        ChatClient(BASE, token=TOKEN).with_options(headers={name: "Basic x"})


async def test_without_a_token_an_authorization_header_of_your_own_is_sent() -> None:
    recorder = Recorder(success("get_session"))
    http = httpx2.Client(transport=httpx2.MockTransport(recorder))
    client = ChatClient(BASE, token="", headers={"Authorization": "Custom scheme"}, http_client=http)
    await call(client, "get_session", SESSION_ID)
    assert recorder.requests[0].headers["Authorization"] == "Custom scheme"


@pytest.mark.parametrize(
    ("headers", "says"),
    [
        ({"bad name": "x"}, "header name 'bad name' is not a valid HTTP header name"),
        ({"X-Secret": f"{PASSWORD}\n"}, "header 'X-Secret' has a value with characters HTTP does not allow"),
        ({"X-Secret": f"{PASSWORD}é"}, "header 'X-Secret' has a value"),
    ],
)
def test_a_header_http_cannot_carry_is_refused_without_echoing_its_value(headers: dict[str, str], says: str) -> None:
    with pytest.raises(ClannConfigError, match=says) as caught:
        ChatClient(BASE, token=TOKEN, headers=headers)
    assert PASSWORD not in str(caught.value)


# with_options checks as the constructor does --------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"timeout": -1}, ClannConfigError),
        ({"timeout": math.nan}, ClannConfigError),
        ({"total_timeout": 0}, ClannConfigError),
        ({"max_retries": -1}, ClannConfigError),
        ({"max_response_size": 0}, ClannConfigError),
        ({"headers": {"bad name": "x"}}, ClannConfigError),
        ({"timeout": "5"}, TypeError),
        ({"max_retries": 2.0}, TypeError),
    ],
)
def test_with_options_refuses_what_the_constructor_refuses(options: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        AsyncChatClient(BASE, token=TOKEN).with_options(**options)


@pytest.mark.parametrize("cls", CLIENTS)
def test_construction_sends_nothing(cls: Any) -> None:
    recorder = Recorder(success("get_session"))
    over_mock(cls, recorder, base_url=BASE, token=TOKEN)
    assert recorder.requests == []


WRONG_HTTP_CLIENTS: dict[str, tuple[Any, Any]] = {
    "sync given an AsyncClient": (ChatClient, httpx2.AsyncClient),
    "async given a Client": (AsyncChatClient, httpx2.Client),
    "sync given a str": (ChatClient, lambda: "http://clann.test"),
    "async given an object": (AsyncChatClient, object),
}


@pytest.mark.parametrize(("cls", "make"), WRONG_HTTP_CLIENTS.values(), ids=WRONG_HTTP_CLIENTS.keys())
def test_an_http_client_of_the_wrong_kind_is_a_type_error_at_construction(cls: Any, make: Any) -> None:
    with pytest.raises(TypeError, match=r"http_client must be an httpx2\.(Async)?Client"):
        cls(BASE, token=TOKEN, http_client=make())


@pytest.mark.parametrize("token", [5, b"secret-bytes", ["t"]])
def test_a_token_that_is_not_a_str_is_a_type_error_naming_it(token: Any) -> None:
    with pytest.raises(TypeError, match="token must be a str") as caught:
        ChatClient(BASE, token=token)
    assert "secret-bytes" not in str(caught.value)
