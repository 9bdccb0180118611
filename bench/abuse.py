"""The dev server under abuse: what a huge POST costs it and its other clients, and a repeated query parameter.

    python -m bench.abuse                      # this checkout's server
    python -m bench.abuse --cwd DIR --module devserver   # another one, e.g. v0 from `git archive`

For each body size, a client streams a JSON body of that many bytes (declared
with Content-Length, or chunked) while another client sends a GET every 5 ms;
it prints the server's peak resident memory before and after, and the other
client's median and slowest answer. Then it times the app's answer to ~110 KB
of repeated `tree=a` query parameters, in process (httpx refuses such URLs).
Report only: a time here is a figure, never a test.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

AUTH = {"Authorization": "Bearer bench-token"}
MB = 1_000_000


@contextmanager
def server(cwd: str, module: str) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    with tempfile.TemporaryDirectory() as folder:
        port_file = Path(folder) / "port"
        command = [sys.executable, "-m", module, "--port", "0", "--port-file", str(port_file)]
        command += ["--db", str(Path(folder) / "abuse.sqlite3"), "--token", "alice=bench-token"]
        process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 20
            while not port_file.exists() or not port_file.read_text():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the server did not start")
                time.sleep(0.05)
            yield process, f"http://127.0.0.1:{port_file.read_text()}"
        finally:
            process.terminate()
            process.wait(10)


def peak_rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) / 1024


def huge_post(cwd: str, module: str, megabytes: int, chunked: bool) -> str:
    with server(cwd, module) as (process, url):
        httpx.get(f"{url}/api/chat/sessions?created_by=alice", headers=AUTH)
        before = peak_rss_mib(process.pid)
        waits: list[float] = []
        stop = threading.Event()

        def other_client() -> None:
            with httpx.Client(headers=AUTH, timeout=120) as client:
                while not stop.is_set():
                    started = time.perf_counter()
                    client.get(f"{url}/api/chat/sessions?created_by=alice")
                    waits.append(time.perf_counter() - started)
                    time.sleep(0.005)

        prober = threading.Thread(target=other_client)
        prober.start()
        time.sleep(0.3)
        answer = _send(int(url.rsplit(":", 1)[1]), megabytes * MB, chunked)
        time.sleep(0.3)
        stop.set()
        prober.join()
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
    parser.add_argument("--module", default="clann_devserver", help="its package (default: %(default)s)")
    args = parser.parse_args()
    for megabytes, chunked in ((100, False), (300, False), (100, True)):
        print(huge_post(args.cwd, args.module, megabytes, chunked), flush=True)
    for line in repeated_query(args.cwd, args.module):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
