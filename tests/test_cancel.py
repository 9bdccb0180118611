"""A write stopped in the middle (cancelled, interrupted) leaves its key in doubt once it may have been sent.

Not yet tried by the third adversarial review (issue 22): a cancelled call raised
no pyclann error, so the client never noted its key, and a later call with the key
that met a 401 said `may_have_landed=False`, although the cancelled request may
have been carried out. Each test stops a write with a caller's key at one point,
then calls again with the key on the same client; the server answers that call 401,
which says nothing of the key, so its error tells what the client remembered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest

from pyclann import AsyncChatClient, ChatClient, ClannAuthError, ClannServerError
from tests.helpers import MESSAGE, SESSION_ID, TOKEN, call
from tests.servers import Exchange, Server, response

KEY = "callers-key-1"
SYN_SENT = "02"  # a TCP state, as /proc/net/tcp writes it
UNAUTHORIZED = response(401, {"status": 401, "title": "Unauthorized", "detail": "unknown token"})
BUSY = response(503, {"status": 503, "title": "busy", "detail": "busy"}, {"Retry-After": "30"})
SLOW_DOWN = response(429, {"status": 429, "title": "slow down", "detail": "slow down"}, {"Retry-After": "30"})


_SCRIPTS: list[Script] = []
"""The test's scripts, told when the client logs that it will retry: it is then about to wait."""


class _RetryLine(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        if ": retry " in record.getMessage():
            for script in _SCRIPTS:
                script.seen.set()


@pytest.fixture(autouse=True)
def retry_lines() -> Iterator[None]:
    """Each test's scripts learn of the client's retry log line (INFO on the `pyclann` logger)."""
    logger, handler = logging.getLogger("pyclann"), _RetryLine(logging.INFO)
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        _SCRIPTS.clear()


class Script:
    """Answers each request with the next step: bytes to send, or "hold" (say nothing), or "drip" (a body, slowly).

    Attributes:
        seen: Set once the server has read a request it holds, or begun a body it drips, or
            the client has logged that it will retry (after a 429 or a 503): the point to stop it at.
    """

    def __init__(self, *steps: bytes | str) -> None:
        self.steps = list(steps)
        self.seen = threading.Event()
        self.lock = threading.Lock()
        _SCRIPTS.append(self)

    def __call__(self, exchange: Exchange) -> None:
        exchange.read_request()
        with self.lock:
            step = self.steps.pop(0) if len(self.steps) > 1 else self.steps[0]
        if step == "hold":
            self.seen.set()
            exchange.wait(30)
        elif step == "drip":
            body = response(201, MESSAGE)
            framing, _, content = body.partition(b"\r\n\r\n")
            exchange.send(framing + b"\r\n\r\n" + content[:5])
            self.seen.set()
            exchange.drip(content[5:], 1.0)
        else:
            assert isinstance(step, bytes)
            exchange.send(step)


async def seen(script: Script) -> None:
    """Wait until the server has reached its step, then a little more: the client is past it too."""
    await anyio.to_thread.run_sync(script.seen.wait, 10)
    await asyncio.sleep(0.1)


async def append(chat: AsyncChatClient) -> Any:
    return await chat.append_message(SESSION_ID, "user", "Hello", idempotency_key=KEY)


async def again(chat: AsyncChatClient | ChatClient) -> bool:
    """Call again with the key (the server answers 401): whether the error says the write may have landed."""
    with pytest.raises(ClannAuthError) as refused:
        await call(chat, "append_message", SESSION_ID, "user", "Hello", idempotency_key=KEY)
    assert refused.value.idempotency_key == KEY
    return refused.value.may_have_landed


async def cancel_task(chat: AsyncChatClient, script: Script) -> None:
    task = asyncio.create_task(append(chat))
    await seen(script)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def cancel_scope(chat: AsyncChatClient, script: Script) -> None:
    async with anyio.create_task_group() as group:

        async def stop() -> None:
            await seen(script)
            group.cancel_scope.cancel()

        group.start_soon(stop)
        await append(chat)
        pytest.fail("the write was not cancelled")


async def wait_for(chat: AsyncChatClient, script: Script) -> None:
    async def stop_when_seen() -> None:
        await seen(script)

    waiter = asyncio.create_task(stop_when_seen())
    write = asyncio.create_task(append(chat))
    await waiter
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(write, timeout=0)


CANCELS: dict[str, Callable[[AsyncChatClient, Script], Any]] = {
    "task.cancel": cancel_task,
    "anyio cancel scope": cancel_scope,
    "asyncio.wait_for": wait_for,
}
SENT: dict[str, bytes | str] = {
    "waiting for the answer": "hold",
    "reading the body": "drip",
    "waiting to retry after a 503": BUSY,
}


@pytest.mark.parametrize("how", CANCELS)
@pytest.mark.parametrize("point", SENT)
async def test_a_write_cancelled_once_sent_leaves_its_key_in_doubt(how: str, point: str) -> None:
    script = Script(SENT[point], UNAUTHORIZED)
    with Server(script) as server:
        async with AsyncChatClient(server.url, token=TOKEN, max_retries=2) as chat:
            await CANCELS[how](chat, script)
            assert await again(chat), "the cancelled request may have been carried out"


@pytest.mark.parametrize("how", CANCELS)
async def test_a_write_cancelled_waiting_to_retry_after_a_refusal_is_not_in_doubt(how: str) -> None:
    # A 429 says the server refused the request, and wrote nothing: the next attempt was not yet sent.
    script = Script(SLOW_DOWN, UNAUTHORIZED)
    with Server(script) as server:
        async with AsyncChatClient(server.url, token=TOKEN, max_retries=2) as chat:
            await CANCELS[how](chat, script)
            assert not await again(chat)


class Unanswered:
    """A port whose listener takes no connection: its queue is full, so a client's connect hangs (SYN dropped).

    `serve()` then empties the queue and serves the port with `Server`-like handling, answering 401.
    """

    def __init__(self) -> None:
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(0)
        self.filler = socket.create_connection(self.listener.getsockname())
        self.serving = threading.Event()
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.listener.getsockname()
        return f"http://{host}:{port}"

    def connecting(self, script: Script) -> None:
        """Set `script.seen` once a client is connecting to this port (the kernel's SYN_SENT, on Linux)."""
        port = f":{self.listener.getsockname()[1]:04X}"

        def watch() -> None:
            for _ in range(500):
                try:
                    rows = [line.split() for line in Path("/proc/net/tcp").read_text().splitlines()[1:]]
                except OSError:  # not Linux: the pause after `seen` has to do
                    break
                if any(row[2].endswith(port) and row[3] == SYN_SENT for row in rows):
                    break
                threading.Event().wait(0.01)
            script.seen.set()

        threading.Thread(target=watch, daemon=True).start()

    def serve(self) -> None:
        # The filler, accepted here and closed, empties the queue before the next client connects.
        self.listener.accept()[0].close()

        def accept() -> None:
            while True:
                try:
                    sock, _ = self.listener.accept()
                except OSError:
                    return
                with sock:
                    if sock.recv(65536):
                        sock.sendall(UNAUTHORIZED)

        self.thread = threading.Thread(target=accept, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.filler.close()
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        if self.thread is not None:
            self.thread.join(5)


@contextlib.contextmanager
def unanswered() -> Iterator[Unanswered]:
    port = Unanswered()
    try:
        yield port
    finally:
        port.close()


@pytest.mark.parametrize("how", CANCELS)
async def test_a_write_cancelled_while_connecting_is_not_in_doubt(how: str) -> None:
    with unanswered() as port:
        script = Script(b"")
        port.connecting(script)
        async with AsyncChatClient(port.url, token=TOKEN) as chat:
            await CANCELS[how](chat, script)
            port.serve()
            assert not await again(chat)


async def test_a_cancel_before_sending_keeps_an_earlier_calls_doubt() -> None:
    # The first call's answer is lost (a 503, not retried): in doubt. The second, with its key, is
    # cancelled before its request is sent: that tells nothing, and the doubt stays.
    script = Script(BUSY, SLOW_DOWN, UNAUTHORIZED)
    with Server(script) as server:
        async with AsyncChatClient(server.url, token=TOKEN, max_retries=0) as chat:
            with pytest.raises(ClannServerError) as lost:
                await append(chat)
            assert lost.value.may_have_landed
            retrying = chat.with_options(max_retries=2)
            script.seen.clear()
            await cancel_task(retrying, script)
            assert await again(chat)


# The sync client, stopped by a signal whose handler raises (as Ctrl-C raises KeyboardInterrupt).


class Stop(BaseException):
    """Raised by the test's signal handler in the main thread, as KeyboardInterrupt would be."""


@contextlib.contextmanager
def stopping_on_signal() -> Iterator[Callable[[], None]]:
    """A function that stops the main thread's current call, from any thread, with `Stop`."""

    def handler(signum: int, frame: object) -> None:
        raise Stop

    previous = signal.signal(signal.SIGUSR1, handler)
    main = threading.main_thread().ident
    assert main is not None
    assert threading.current_thread() is threading.main_thread(), "signals are handled in the main thread only"
    try:
        yield lambda: signal.pthread_kill(main, signal.SIGUSR1)
    finally:
        signal.signal(signal.SIGUSR1, previous)


def stop_when(script: Script, stop: Callable[[], None]) -> threading.Thread:
    def watch() -> None:
        if script.seen.wait(10):
            threading.Event().wait(0.1)
            stop()

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize(
    ("point", "in_doubt"),
    [("hold", True), ("drip", True), (BUSY, True), (SLOW_DOWN, False)],
    ids=["waiting for the answer", "reading the body", "waiting to retry after a 503", "waiting to retry after a 429"],
)
def test_a_sync_write_interrupted_leaves_its_key_in_doubt_once_sent(point: bytes | str, in_doubt: bool) -> None:
    script = Script(point, UNAUTHORIZED)
    with Server(script) as server, ChatClient(server.url, token=TOKEN, max_retries=2) as chat:
        with stopping_on_signal() as stop:
            watcher = stop_when(script, stop)
            with pytest.raises(Stop):
                chat.append_message(SESSION_ID, "user", "Hello", idempotency_key=KEY)
        watcher.join()
        assert asyncio.run(again(chat)) is in_doubt


# socket.create_connection closes its socket on an OSError only: interrupted in connect(), it leaves the
# socket to the garbage collector, which warns. The standard library's, not pyclann's (nor httpcore2's).
@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_sync_write_interrupted_while_connecting_is_not_in_doubt() -> None:
    with unanswered() as port, ChatClient(port.url, token=TOKEN) as chat:
        script = Script(b"")
        port.connecting(script)
        with stopping_on_signal() as stop:
            watcher = stop_when(script, stop)
            with pytest.raises(Stop):
                chat.append_message(SESSION_ID, "user", "Hello", idempotency_key=KEY)
        watcher.join()
        port.serve()
        assert not asyncio.run(again(chat))


def test_a_sync_write_interrupted_by_a_response_hook_leaves_its_key_in_doubt() -> None:
    # Another form: an httpx2 event hook of the user's raising a BaseException once the answer came.
    def hook(response: Any) -> None:
        if response.status_code == 201:
            raise Stop

    script = Script(response(201, MESSAGE), UNAUTHORIZED)

    with Server(script) as server, httpx2.Client(event_hooks={"response": [hook]}) as http:
        chat = ChatClient(server.url, token=TOKEN, http_client=http)
        with pytest.raises(Stop):
            chat.append_message(SESSION_ID, "user", "Hello", idempotency_key=KEY)
        assert asyncio.run(again(chat))
