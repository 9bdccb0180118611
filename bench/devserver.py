"""The dev server's own speed, over real HTTP on 127.0.0.1, against the floor of the same HTTP stack.

Two figures, each with an absolute goal (issue 14, kept by issue 21 on stock
uvicorn) and, for scale, the same requests answered by a do-nothing ASGI app
under the same uvicorn settings (the floor: what httpx2 and uvicorn cost before
the dev server does anything):

* sequential `append_message` from one raw httpx2 client: at least 1,000 a
  second, so at most 1 ms each;
* a page of 100 messages (`GET .../messages?limit=100`): at most 5 ms.

Both servers run in processes of their own, so they do not share the client's
GIL. Needs only the server extra and httpx2; `python -m bench.devserver` prints
the two figures alone.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2

from bench.measure import Figure, interleaved, spread
from bench.processes import listening

TOKEN = "bench-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
APPENDS_PER_SECOND = 1000
PAGE_MS = 5.0

# The floor: answers as the dev server would, with fixed bytes and no work. The
# same stock uvicorn settings as pyclann.devserver.server (h11, uvloop where installed).
_FLOOR = textwrap.dedent(
    """
    import socket, sys, uvicorn
    from pathlib import Path

    answers = {{"POST": (201, {message!r}), "GET": (200, {page!r})}}

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        status, body = answers[scope["method"]]
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({{"type": "http.response.start", "status": status, "headers": headers}})
        await send({{"type": "http.response.body", "body": body}})

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    Path(sys.argv[1]).write_text(str(sock.getsockname()[1]))
    config = uvicorn.Config(
        app, http="h11", ws="none", log_config=None, access_log=False, lifespan="off", proxy_headers=False
    )
    uvicorn.Server(config).run(sockets=[sock])
    """
)


@contextmanager
def dev_server(folder: Path) -> Iterator[str]:
    """`clann-devserver` on a free port with a fresh database, as a user runs it; its URL."""
    command = [sys.executable, "-m", "pyclann.devserver", "--port", "0", "--port-file", str(folder / "port")]
    command += ["--db", str(folder / "bench.sqlite3"), "--token", f"alice={TOKEN}"]
    with listening(command, folder / "port") as (_, url):
        yield url


@contextmanager
def floor_server(folder: Path, message: bytes, page: bytes) -> Iterator[str]:
    """The do-nothing app, answering a POST with `message` and a GET with `page`; its URL."""
    code = _FLOOR.format(message=message, page=page)
    with listening([sys.executable, "-c", code, str(folder / "floor-port")], folder / "floor-port") as (_, url):
        yield url


def figures(rounds: int, appends_per_round: int, pages_per_round: int) -> list[Figure]:
    """The two figures, each interleaved with the floor over `rounds` rounds."""
    with tempfile.TemporaryDirectory(prefix="clann-bench-server-") as name, dev_server(Path(name)) as url:
        client = httpx2.Client(headers=AUTH)
        session = client.post(f"{url}/api/chat/sessions", json={"title": "bench", "created_by": "alice"}).json()
        messages = f"{url}/api/chat/sessions/{session['id'].split(':')[1]}/messages"
        body = {"role": "user", "content": "a message of about a hundred characters, as a chat turn might be. " * 2}
        for _ in range(100):
            client.post(messages, json=body).raise_for_status()
        page = client.get(messages, params={"limit": 100})
        assert len(page.json()["data"]) == 100
        appended = client.post(messages, json=body)
        with floor_server(Path(name), appended.content, page.content) as floor_url:
            floor = httpx2.Client(headers=AUTH)
            floor_messages = f"{floor_url}/api/chat/sessions/{session['id'].split(':')[1]}/messages"
            # A second session takes the appends, so the page of the first stays 100 messages.
            other = client.post(f"{url}/api/chat/sessions", json={"title": "appends", "created_by": "alice"}).json()
            appends = f"{url}/api/chat/sessions/{other['id'].split(':')[1]}/messages"
            append_target, append_floor = interleaved(
                lambda: client.post(appends, json=body).raise_for_status(),
                lambda: floor.post(floor_messages, json=body).raise_for_status(),
                rounds,
                appends_per_round,
            )
            page_target, page_floor = interleaved(
                lambda: client.get(messages, params={"limit": 100}).raise_for_status(),
                lambda: floor.get(floor_messages, params={"limit": 100}).raise_for_status(),
                rounds,
                pages_per_round,
            )
            floor.close()
        client.close()
    floor_name = "the same HTTP stack answering fixed bytes"
    return [
        Figure(
            "sequential append_message, one client (dev server)",
            "ms",
            1e3,
            append_target,
            append_floor,
            floor_name,
            f">= {APPENDS_PER_SECOND:,}/s (<= {1000 / APPENDS_PER_SECOND:g} ms)",
            None,
            ceiling=1 / APPENDS_PER_SECOND,
        ),
        Figure(
            "a page of 100 messages (dev server)",
            "ms",
            1e3,
            page_target,
            page_floor,
            floor_name,
            f"<= {PAGE_MS:g} ms",
            None,
            ceiling=PAGE_MS / 1e3,
        ),
    ]


def main() -> int:
    """Print the two figures; exit 1 if a goal is missed."""
    found = figures(rounds=10, appends_per_round=200, pages_per_round=50)
    for figure in found:
        print(
            f"{figure.name}: {spread(figure.target, figure.scale)} {figure.unit} (min / median / max; "
            f"{1 / statistics.median(figure.target):,.0f}/s); floor {spread(figure.baseline, figure.scale)} "
            f"{figure.unit}; goal {figure.goal}: {figure.verdict}"
        )
    return 1 if any(f.verdict == "MISSED" for f in found) else 0


if __name__ == "__main__":
    sys.exit(main())
