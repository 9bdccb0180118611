"""Response bodies (pyclann._body): read in bounded memory, decompressed as they come, capped in size."""

from __future__ import annotations

import asyncio
import functools
import gzip
import json
import tracemalloc
import zlib
from collections.abc import Callable, Iterator

import httpx2
import pytest

from pyclann import (
    DEFAULT_MAX_RESPONSE_SIZE,
    AsyncChatClient,
    ChatClient,
    ClannAPIError,
    ClannNotFoundError,
    ClannResponseError,
    ClannServerError,
)
from tests.helpers import SESSION, SESSION_ID, TOKEN, Chunks, MakeClient, Recorder, call, problem
from tests.servers import Exchange, Server, answering, head

SESSION_JSON = json.dumps(SESSION).encode()
MiB = 1024 * 1024


@functools.cache
def gzip_bomb() -> bytes:
    """400 MiB of zeros, gzipped to about 0.4 MB: built once per test run."""
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    zeros = b"\0" * MiB
    return b"".join([packer.compress(zeros) for _ in range(400)] + [packer.flush()])


def pieces(data: bytes, size: int = 65536) -> Iterator[bytes]:
    return (data[i : i + size] for i in range(0, len(data), size))


def streamed(status: int, data: bytes, headers: dict[str, str]) -> Callable[[httpx2.Request], httpx2.Response]:
    """An answer whose body httpx2 streams in raw pieces, as from a socket, instead of reading it at once."""

    def answer(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(status, headers={"X-Request-Id": "req-1", **headers}, stream=Chunks(pieces(data)))

    return answer


def deflate_raw(data: bytes) -> bytes:
    packer = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


ENCODINGS: dict[str, tuple[str, bytes]] = {
    "gzip": ("gzip", gzip.compress(SESSION_JSON)),
    "x-gzip": ("x-gzip", gzip.compress(SESSION_JSON)),
    "GZIP upper case": ("GZIP", gzip.compress(SESSION_JSON)),
    "deflate, zlib-wrapped": ("deflate", zlib.compress(SESSION_JSON)),
    "deflate, raw": ("deflate", deflate_raw(SESSION_JSON)),
    "identity": ("identity", SESSION_JSON),
    "none": ("", SESSION_JSON),
}


@pytest.mark.parametrize(("encoding", "data"), ENCODINGS.values(), ids=ENCODINGS.keys())
async def test_bodies_are_decoded_as_they_stream(make_client: MakeClient, encoding: str, data: bytes) -> None:
    headers = {"Content-Encoding": encoding} if encoding else {}
    recorder = Recorder(streamed(200, data, headers))
    session = await call(make_client(recorder), "get_session", SESSION_ID)
    assert session.title == "Planning"


@pytest.mark.parametrize(("encoding", "data"), ENCODINGS.values(), ids=ENCODINGS.keys())
def test_bodies_from_a_real_socket_are_decoded(encoding: str, data: bytes) -> None:
    headers = {"Content-Length": str(len(data)), "Content-Type": "application/json"}
    if encoding:
        headers["Content-Encoding"] = encoding
    with Server(answering(head(200, headers) + data)) as server, ChatClient(server.url, token=TOKEN) as client:
        assert client.get_session(SESSION_ID).title == "Planning"


@pytest.mark.parametrize("encoding", ["br", "zstd", "gzip, br", "compress"])
async def test_an_unknown_content_encoding_on_a_success_is_a_response_error(
    make_client: MakeClient, encoding: str
) -> None:
    recorder = Recorder(streamed(200, SESSION_JSON, {"Content-Encoding": encoding}))
    with pytest.raises(ClannResponseError, match="Content-Encoding") as caught:
        await call(make_client(recorder), "get_session", SESSION_ID)
    assert caught.value.status_code == 200
    assert len(recorder.requests) == 1


async def test_an_unknown_content_encoding_on_an_error_keeps_the_class_of_its_status(make_client: MakeClient) -> None:
    recorder = Recorder(streamed(404, b"\x28\xb5\x2f\xfd", {"Content-Encoding": "zstd"}))
    with pytest.raises(ClannAPIError) as caught:
        await call(make_client(recorder, max_retries=0), "get_session", SESSION_ID)
    assert caught.value.status_code == 404


async def test_a_body_that_does_not_decompress_is_a_response_error(make_client: MakeClient) -> None:
    recorder = Recorder(streamed(200, b"not gzip at all", {"Content-Encoding": "gzip"}))
    with pytest.raises(ClannResponseError, match="does not decompress"):
        await call(make_client(recorder), "get_session", SESSION_ID)


async def test_a_body_over_max_response_size_is_a_response_error_and_not_retried(make_client: MakeClient) -> None:
    big = json.dumps({**SESSION, "title": "x" * 5000}).encode()
    recorder = Recorder(streamed(200, big, {}))
    with pytest.raises(ClannResponseError, match=r"over max_response_size \(4096 bytes\)") as caught:
        await call(make_client(recorder, max_response_size=4096), "get_session", SESSION_ID)
    assert caught.value.status_code == 200
    assert len(recorder.requests) == 1


async def test_a_body_of_exactly_max_response_size_is_read(make_client: MakeClient) -> None:
    recorder = Recorder(streamed(200, SESSION_JSON, {}))
    session = await call(make_client(recorder, max_response_size=len(SESSION_JSON)), "get_session", SESSION_ID)
    assert session.title == "Planning"
    recorder = Recorder(streamed(200, SESSION_JSON, {}))
    with pytest.raises(ClannResponseError, match="over max_response_size"):
        await call(make_client(recorder, max_response_size=len(SESSION_JSON) - 1), "get_session", SESSION_ID)


async def test_the_size_limit_counts_decompressed_bytes(make_client: MakeClient) -> None:
    padded = json.dumps({**SESSION, "title": "x" * 100_000}).encode()
    recorder = Recorder(streamed(200, gzip.compress(padded), {"Content-Encoding": "gzip"}))
    with pytest.raises(ClannResponseError, match="over max_response_size"):
        await call(make_client(recorder, max_response_size=50_000), "get_session", SESSION_ID)


async def test_with_options_changes_the_size_limit(make_client: MakeClient) -> None:
    recorder = Recorder(streamed(200, SESSION_JSON, {}))
    client = make_client(recorder).with_options(max_response_size=10)
    with pytest.raises(ClannResponseError, match=r"over max_response_size \(10 bytes\)"):
        await call(client, "get_session", SESSION_ID)


def test_the_default_size_limit_is_8_mib() -> None:
    assert 8 * MiB == DEFAULT_MAX_RESPONSE_SIZE


def peak_while(run: Callable[[], None]) -> int:
    """The most memory Python allocated while `run` ran, in bytes."""
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def run_either(client: ChatClient | AsyncChatClient) -> Callable[[], None]:
    """One get_session through `client`, closing it after."""

    async def run_async(client: AsyncChatClient) -> None:
        async with client:
            await client.get_session(SESSION_ID)

    def run() -> None:
        if isinstance(client, AsyncChatClient):
            asyncio.run(run_async(client))
        else:
            with client:
                client.get_session(SESSION_ID)

    return run


def bomb_client(kind: str, status: int, url: str | None = None) -> ChatClient | AsyncChatClient:
    headers = {"Content-Encoding": "gzip", "Content-Type": "application/json"}
    if url is not None:
        cls = ChatClient if kind == "sync" else AsyncChatClient
        return cls(url, token=TOKEN, max_retries=0)
    transport = httpx2.MockTransport(streamed(status, gzip_bomb(), headers))
    if kind == "sync":
        return ChatClient(
            "http://clann.test", token=TOKEN, max_retries=0, http_client=httpx2.Client(transport=transport)
        )
    return AsyncChatClient(
        "http://clann.test", token=TOKEN, max_retries=0, http_client=httpx2.AsyncClient(transport=transport)
    )


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_gzip_bomb_on_a_success_stops_at_the_size_limit_in_bounded_memory(kind: str) -> None:
    client = bomb_client(kind, 200)
    errors: list[ClannResponseError] = []

    def run() -> None:
        try:
            run_either(client)()
        except ClannResponseError as error:
            errors.append(error)

    peak = peak_while(run)
    [error] = errors
    assert "over max_response_size (8388608 bytes)" in error.detail
    assert error.body == ""
    assert peak < 40 * MiB, f"{peak / MiB:.0f} MiB for 400 MiB of zeros"


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_gzip_bomb_on_an_error_status_keeps_64_kib_of_it(kind: str) -> None:
    client = bomb_client(kind, 500)
    errors: list[ClannServerError] = []

    def run() -> None:
        try:
            run_either(client)()
        except ClannServerError as error:
            errors.append(error)

    peak = peak_while(run)
    [error] = errors
    assert len(error.body) == 64 * 1024
    assert peak < 8 * MiB, f"{peak / MiB:.1f} MiB for a 64 KiB error body"


@pytest.mark.parametrize("status", [200, 503])
@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_gzip_bomb_from_a_real_socket_is_refused_in_bounded_memory(kind: str, status: int) -> None:
    data = gzip_bomb()
    headers = {"Content-Length": str(len(data)), "Content-Encoding": "gzip", "Content-Type": "application/json"}
    with Server(answering(head(status, headers) + data)) as server:
        client = bomb_client(kind, status, server.url)
        errors: list[ClannAPIError] = []

        def run() -> None:
            try:
                run_either(client)()
            except ClannAPIError as error:
                errors.append(error)

        peak = peak_while(run)
    [error] = errors
    assert error.status_code == status
    assert type(error) is (ClannResponseError if status == 200 else ClannServerError)
    assert peak < 40 * MiB


async def test_an_error_body_is_cut_at_64_kib_without_failing(make_client: MakeClient) -> None:
    body = json.dumps(problem(500, "d", padding="p" * 200_000)).encode()
    recorder = Recorder(streamed(500, body, {}))
    with pytest.raises(ClannServerError) as caught:
        await call(make_client(recorder, max_retries=0), "get_session", SESSION_ID)
    assert len(caught.value.body) == 64 * 1024


def endless_error(exchange: Exchange) -> None:
    """A 404 with a small problem document, then padding in chunks for as long as anyone reads."""
    exchange.read_request()
    document = json.dumps(problem(404, "no such session", kind="not-found")).encode()
    exchange.send(head(404, {"Content-Type": "application/problem+json", "Transfer-Encoding": "chunked"}))
    exchange.send(b"%x\r\n%s\r\n" % (len(document), document))
    padding = b" " * 65536
    while not exchange.stop.is_set():
        exchange.send(b"%x\r\n%s\r\n" % (len(padding), padding))


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_an_error_body_that_never_ends_is_read_no_further_than_kept(kind: str) -> None:
    # It was read to its end (here: never), so a refusal became a timeout that "may have landed".
    with Server(endless_error) as server:
        client = bomb_client(kind, 404, server.url)
        with pytest.raises(ClannNotFoundError) as caught:
            run_either(client)()
    assert caught.value.detail == "no such session"
    assert caught.value.may_have_landed is False
    assert server.connections == 1
