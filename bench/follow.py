"""How soon a follow hears of an append: `follow_messages` against the dev server over loopback.

A `ChatClient` follows a session in a thread (`wait=30`: it waits in a long poll);
the main thread appends one message at a time with raw httpx2 and notes when it
sent it; the figure is the time from sending the append to the follower's loop
receiving the message, the append's own round trip included (its goal says too how
long after the append's answer the follower had it). The goal (issue 23): at most
10 ms at the median, and at most 50 ms at the 95th percentile. The baseline, for scale, is the append's own
round trip. The dev server runs in a process of its own, as in bench/devserver.py;
`python -m bench.follow` prints the figure alone.
"""

from __future__ import annotations

import contextlib
import random
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx2

from bench.devserver import AUTH, TOKEN, dev_server
from bench.measure import Figure, spread
from pyclann import ChatClient, ClannUsageError

P50_MS = 10.0
P95_MS = 50.0


@dataclass
class Percentiles(Figure):
    """A figure whose goal is on its median and its 95th percentile."""

    p95_ceiling: float | None = None

    @property
    def p95(self) -> float:
        return statistics.quantiles(self.target, n=20)[-1]

    @property
    def verdict(self) -> str:
        met = statistics.median(self.target) <= (self.ceiling or 0) and self.p95 <= (self.p95_ceiling or 0)
        return "met" if met else "MISSED"


def wake_up(messages: int) -> Percentiles:
    """Append `messages` messages one at a time while a follower waits; each one's delay until it is received."""
    with tempfile.TemporaryDirectory(prefix="clann-bench-follow-") as name, dev_server(Path(name)) as url:
        raw = httpx2.Client(headers=AUTH)
        session = raw.post(f"{url}/api/chat/sessions", json={"title": "followed", "created_by": "alice"}).json()
        appends = f"{url}/api/chat/sessions/{session['id'].split(':')[1]}/messages"
        received: dict[str, float] = {}
        arrived = threading.Condition()
        chat = ChatClient(url, token=TOKEN)

        def follow() -> None:
            with contextlib.suppress(ClannUsageError):  # the client closed: how the run ends it
                for message in chat.follow_messages(session["id"], wait=30):
                    now = time.perf_counter()
                    with arrived:
                        received[message.id] = now
                        arrived.notify()

        follower = threading.Thread(target=follow, name="bench-follower", daemon=True)
        follower.start()
        rng = random.Random(23)
        delays: list[float] = []
        round_trips: list[float] = []
        after_answer: list[float] = []  # from the append's answer (0: the follower had it first)
        body = {"role": "assistant", "content": "a reply of about a hundred characters, as a chat turn might be."}
        for _ in range(messages):
            time.sleep(rng.uniform(0.002, 0.01))  # the follower is back in its long poll, as between chat turns
            sent = time.perf_counter()
            answer = raw.post(appends, json=body)
            answered = time.perf_counter()
            answer.raise_for_status()
            message_id = answer.json()["id"]
            with arrived:
                if not arrived.wait_for(lambda: message_id in received, timeout=35):  # noqa: B023 - called here
                    raise RuntimeError(f"the follower never received {message_id}")
            delays.append(received[message_id] - sent)
            round_trips.append(answered - sent)
            after_answer.append(max(received[message_id] - answered, 0.0))
        chat.close()  # ends the follower's poll
        follower.join(5)
        raw.close()
    return Percentiles(
        f"follow_messages receives an append, {messages} appends (dev server)",
        "ms",
        1e3,
        delays,
        round_trips,
        "the append's own round trip",
        f"p50 <= {P50_MS:g} ms, p95 <= {P95_MS:g} ms (p95 {statistics.quantiles(delays, n=20)[-1] * 1e3:.1f} ms;"
        f" from the append's answer: p50 {statistics.median(after_answer) * 1e3:.1f} ms,"
        f" p95 {statistics.quantiles(after_answer, n=20)[-1] * 1e3:.1f} ms)",
        None,
        ceiling=P50_MS / 1e3,
        p95_ceiling=P95_MS / 1e3,
    )


def main() -> int:
    """Print the figure; exit 1 if its goal is missed."""
    figure = wake_up(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
    print(
        f"{figure.name}: {spread(figure.target, figure.scale)} {figure.unit} (min / median / max),"
        f" p95 {figure.p95 * 1e3:.1f} ms; append round trip {spread(figure.baseline, figure.scale)} {figure.unit};"
        f" goal {figure.goal}: {figure.verdict}"
    )
    return 1 if figure.verdict == "MISSED" else 0


if __name__ == "__main__":
    sys.exit(main())
