"""The dev server under abuse: what a huge request costs it and its other clients.

    python -m bench.abuse                      # this checkout's server
    python -m bench.abuse --cwd DIR --module devserver   # another one, e.g. v0 from `git archive`
    python -m bench.abuse --only headers,fields,slowloris   # some of the sections

Sections (`--only`), each against a server process of its own:

* `bodies`: for each body size, a client streams a JSON body of that many bytes
  (declared with Content-Length, or chunked) while another client sends a GET
  every 5 ms; it prints the server's peak resident memory before and after, and
  the other client's median and slowest answer.
* `query`: the app's answer to ~110 KB of repeated `tree=a` query parameters,
  in process (httpx2 refuses such URLs).
* `headers`: a 64 MB header line, finished, and 200 MB of one never finished:
  the answer, and the server's peak resident memory.
* `fields`: a 0.84 MB body of 105,000 unknown fields, alone and from 16 clients
  at once: the answer's size, the time, the server's peak memory, and the
  slowest answer another client got meanwhile.
* `slowloris`: with the server's RLIMIT_NOFILE at 1024, 1,100 connections each
  send a request's first two lines and nothing more; then whether a normal
  client is answered, and how long SIGTERM takes to stop the server.

Report only: a time here is a figure, never a test.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2

from bench.processes import listening

AUTH = {"Authorization": "Bearer bench-token"}
MB = 1_000_000


@contextmanager
def server(cwd: str, module: str, nofile: int | None = None) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """The server of `module` run from `cwd` on a free port; with RLIMIT_NOFILE at `nofile` if given."""
    with tempfile.TemporaryDirectory() as folder:
        port_file = Path(folder) / "port"
        command = [sys.executable, "-m", module, "--port", "0", "--port-file", str(port_file)]
        command += ["--db", str(Path(folder) / "abuse.sqlite3"), "--token", "alice=bench-token"]
        if nofile is not None:
            command = ["prlimit", f"--nofile={nofile}", *command]
        with listening(command, port_file, cwd, stop_within=30) as started:
            yield started


def peak_rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) / 1024


@contextmanager
def other_client(url: str) -> Iterator[list[float]]:
    """Another client sending a GET every 5 ms while the block runs; how long each answer took."""
    waits: list[float] = []
    stop = threading.Event()

    def poll() -> None:
        with httpx2.Client(headers=AUTH, timeout=120) as client:
            while not stop.is_set():
                started = time.perf_counter()
                client.get(f"{url}/api/chat/sessions?created_by=alice")
                waits.append(time.perf_counter() - started)
                time.sleep(0.005)

    prober = threading.Thread(target=poll)
    prober.start()
    try:
        yield waits
    finally:
        stop.set()
        prober.join()


def huge_post(cwd: str, module: str, megabytes: int, chunked: bool) -> str:
    with server(cwd, module) as (process, url):
        httpx2.get(f"{url}/api/chat/sessions?created_by=alice", headers=AUTH)
        before = peak_rss_mib(process.pid)
        with other_client(url) as waits:
            time.sleep(0.3)
            answer = _send(int(url.rsplit(":", 1)[1]), megabytes * MB, chunked)
            time.sleep(0.3)
        after = peak_rss_mib(process.pid)
    framing = "chunked" if chunked else "Content-Length"
    return (
        f"{megabytes} MB POST ({framing}): answered {answer}; server peak RSS {before:.0f} -> {after:.0f} MiB "
        f"(+{after - before:.0f}); other client: {len(waits)} GETs, median {statistics.median(waits) * 1e3:.1f} ms, "
        f"slowest {max(waits) * 1e3:.0f} ms"
    )


def _send(port: int, size: int, chunked: bool) -> str:
    head = b'{"created_by": "alice", "title": "'
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}"
    request = "POST /api/chat/sessions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer bench-token\r\n"
    request += f"Content-Type: application/json\r\n{framing}\r\n\r\n"
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(request.encode())
        block = b"x" * (1 << 20)
        try:
            left = size - len(head) - 2
            parts = [head]
            while left > 0:
                parts.append(block[: min(left, len(block))])
                left -= len(parts[-1])
            parts.append(b'"}')
            for part in parts:
                sock.sendall(b"%x\r\n%s\r\n" % (len(part), part) if chunked else part)
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server closed: it answered early
        sock.settimeout(120)
        try:
            status = sock.recv(4096).split(b"\r\n", 1)[0].decode()
        except OSError as error:
            status = repr(error)
    return f"{status!r} after {time.perf_counter() - started:.2f} s"


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def _stream(port: int, head: bytes, filler: bytes, size: int, tail: bytes, wait: float) -> str:
    """Send `head`, `size` bytes of `filler` and `tail`, reading as it goes; the answer's status line, and when."""
    started = time.perf_counter()
    answer = b""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.settimeout(wait)

        def read() -> None:
            nonlocal answer
            with contextlib.suppress(OSError):
                while b"\r\n" not in answer:
                    more = sock.recv(4096)
                    if not more:
                        return
                    answer += more

        reader = threading.Thread(target=read)
        reader.start()
        try:
            sock.sendall(head)
            block = filler * ((1 << 20) // len(filler))
            left = size
            while left > 0 and not answer:
                sock.sendall(block[: min(left, len(block))])
                left -= len(block)
            if not answer:
                sock.sendall(tail)
        except OSError:
            pass  # the server closed: it answered early, or gave up
        reader.join()
    status = answer.split(b"\r\n", 1)[0].decode("latin-1") if answer else "no answer"
    return f"{status!r} after {time.perf_counter() - started:.2f} s"


def huge_header(cwd: str, module: str, megabytes: int, finished: bool) -> str:
    with server(cwd, module) as (process, url):
        httpx2.get(f"{url}/api/chat/sessions?created_by=alice", headers=AUTH)
        before = peak_rss_mib(process.pid)
        head = b"GET /api/chat/sessions?created_by=alice HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer bench-token\r\n"
        tail, wait = (b"\r\n\r\n", 60) if finished else (b"", 10)
        answer = _stream(_port(url), head + b"X-Big: ", b"x", megabytes * MB, tail, wait)
        after = peak_rss_mib(process.pid)
    what = "header line" if finished else "header line, never finished"
    return f"{megabytes} MB {what}: answered {answer}; server peak RSS {before:.0f} -> {after:.0f} MiB"


def _unknown_fields_body() -> bytes:
    digits = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    names = (digits[i // 3844] + digits[i // 62 % 62] + digits[i % 62] for i in range(105_000))
    return b'{"title":"t","created_by":"alice",' + ",".join(f'"{n}":0' for n in names).encode() + b"}"


def unknown_fields(cwd: str, module: str, clients: int) -> str:
    body = _unknown_fields_body()
    headers = {**AUTH, "Content-Type": "application/json"}
    with server(cwd, module) as (process, url):
        httpx2.get(f"{url}/api/chat/sessions?created_by=alice", headers=AUTH)
        before = peak_rss_mib(process.pid)
        started = time.perf_counter()
        one = httpx2.post(f"{url}/api/chat/sessions", content=body, headers=headers, timeout=120)
        alone = time.perf_counter() - started

        def post() -> None:
            httpx2.post(f"{url}/api/chat/sessions", content=body, headers=headers, timeout=120)

        with other_client(url) as waits:
            posters = [threading.Thread(target=post) for _ in range(clients)]
            started = time.perf_counter()
            for poster in posters:
                poster.start()
            for poster in posters:
                poster.join()
            together = time.perf_counter() - started
        after = peak_rss_mib(process.pid)
    return (
        f"{len(body) / 1000:.0f} KB body of 105,000 unknown fields: {one.status_code}, {len(one.content):,} bytes "
        f"in {alone * 1e3:.0f} ms; {clients} at once: {together:.2f} s, "
        f"server peak RSS {before:.0f} -> {after:.0f} MiB; "
        f"other client's slowest GET meanwhile {max(waits) * 1e3:.0f} ms"
    )


def slowloris(cwd: str, module: str, connections: int, nofile: int) -> str:
    held: list[socket.socket] = []
    with server(cwd, module, nofile) as (process, url):
        refused = 0
        for _ in range(connections):
            try:
                sock = socket.create_connection(("127.0.0.1", _port(url)), timeout=2)
                sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
                held.append(sock)
            except OSError:
                refused += 1
        time.sleep(1)
        started = time.perf_counter()
        try:
            status = str(httpx2.get(f"{url}/api/chat/sessions?created_by=alice", headers=AUTH, timeout=5).status_code)
        except httpx2.HTTPError as error:
            status = type(error).__name__
        normal = time.perf_counter() - started
        started = time.perf_counter()
        process.terminate()
        try:
            process.wait(60)
            stopped = f"stopped in {time.perf_counter() - started:.1f} s"
        except subprocess.TimeoutExpired:
            stopped = "still running after 60 s"
            process.kill()
    for sock in held:
        sock.close()
    return (
        f"slowloris, RLIMIT_NOFILE {nofile}: {len(held):,} of {connections:,} half-open connections made "
        f"({refused} failed); a normal GET: {status} after {normal:.2f} s; SIGTERM: {stopped}"
    )


def repeated_query(cwd: str, module: str) -> list[str]:
    sys.path.insert(0, cwd)
    app_module = importlib.import_module(f"{module}.app")
    store_module = importlib.import_module(f"{module}.store")
    lines = []
    with tempfile.TemporaryDirectory() as folder:
        store = store_module.Store(f"{folder}/query.sqlite3")
        app = app_module.create_app(store, {"bench-token": "alice"})
        for repeats in (4_000, 15_700, 27_500):
            query = "created_by=alice" + "&tree=a" * repeats
            started = time.perf_counter()
            status = asyncio.run(_call(app, query.encode()))
            took = time.perf_counter() - started
            lines.append(f"{len(query) / 1000:.0f} KB query ({repeats:,} x tree=a): {status} in {took * 1e3:.0f} ms")
        store.close()
    return lines


async def _call(app: Any, query: bytes) -> int:
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/api/chat/sessions",
        "raw_path": b"/api/chat/sessions",
        "query_string": query,
        "headers": [(b"authorization", b"Bearer bench-token")],
        "http_version": "1.1",
        "scheme": "http",
        "server": ("127.0.0.1", 80),
        "client": ("127.0.0.1", 1),
        "root_path": "",
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return int(sent[0]["status"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cwd", default=".", help="the checkout whose server to run (default: this one)")
    parser.add_argument("--module", default="pyclann.devserver", help="its package (default: %(default)s)")
    parser.add_argument("--only", default=",".join(SECTIONS), help="sections to run, comma-separated: %(default)s")
    args = parser.parse_args()
    for section in args.only.split(","):
        if section not in SECTIONS:
            parser.error(f"no section {section!r}; the sections are {', '.join(SECTIONS)}")
    for section in args.only.split(","):
        for line in SECTIONS[section](args.cwd, args.module):
            print(line, flush=True)
    return 0


_BODIES = ((100, False), (300, False), (100, True))
SECTIONS: dict[str, Callable[[str, str], Iterator[str]]] = {
    "bodies": lambda cwd, module: (huge_post(cwd, module, mb, chunked) for mb, chunked in _BODIES),
    "query": lambda cwd, module: iter(repeated_query(cwd, module)),
    "headers": lambda cwd, module: (huge_header(cwd, module, mb, done) for mb, done in ((64, True), (200, False))),
    "fields": lambda cwd, module: iter([unknown_fields(cwd, module, 16)]),
    "slowloris": lambda cwd, module: iter([slowloris(cwd, module, 1100, 1024)]),
}
if __name__ == "__main__":
    sys.exit(main())
