"""An HTTP/1.1 server on 127.0.0.1 whose every answer waits 20 ms: latency that is waiting, not CPU.

    python -m bench.slowserver PORT_FILE [DELAY_MS]

It answers any request with 201 and one chat message (what `append_message`
expects), after sleeping the delay, with keep-alive; it writes its port to
PORT_FILE once it listens. asyncio (uvloop where installed), with no framework,
so that a thousand calls at concurrency 50 cost it little CPU: what a client
gains by concurrency is then the client's own doing.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
from pathlib import Path
from typing import cast

MESSAGE = json.dumps(
    {
        "id": "chat_message:01JDXV3C5Z0K8Y8T6W3M2Q9R4P",
        "session": "chat_session:01JDXV3C5Z0K8Y8T6W3M2Q9R4N",
        "role": "user",
        "content": "a message",
        "created_at": "2026-11-26T09:05:00.000001Z",
    }
).encode()
ANSWER = (
    b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nX-Request-Id: slow\r\n"
    b"Content-Length: %d\r\n\r\n%s" % (len(MESSAGE), MESSAGE)
)


class _Connection(asyncio.Protocol):
    """One keep-alive connection: requests are read in order, each answered after the delay."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is one, without subclassing it
        sock = transport.get_extra_info("socket")
        if sock is not None:  # answers go out at once, not held back waiting for an ACK (Nagle)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            head = self.buffer[:end].lower()
            size = 0
            if (at := head.find(b"content-length:")) >= 0:
                size = int(head[at + 15 :].split(b"\r\n", 1)[0])
            if len(self.buffer) < end + 4 + size:
                return  # the body is still arriving
            self.buffer = self.buffer[end + 4 + size :]
            asyncio.get_running_loop().call_later(self.delay, self._answer)

    def _answer(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(ANSWER)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


async def serve(sock: socket.socket, delay: float) -> None:
    server = await asyncio.get_running_loop().create_server(lambda: _Connection(delay), sock=sock)
    async with server:
        await server.serve_forever()


def main() -> None:
    delay = (float(sys.argv[2]) if len(sys.argv) > 2 else 20.0) / 1000
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    Path(sys.argv[1]).write_text(str(sock.getsockname()[1]))
    try:
        import uvloop
    except ModuleNotFoundError:
        asyncio.run(serve(sock, delay))
    else:
        uvloop.run(serve(sock, delay))


if __name__ == "__main__":
    main()
