"""`make soak`: 5,000 calls through a faulting proxy to the dev server, audited against what the server holds.

Half the calls are made with `ChatClient` (4 users at once, each in a thread),
half with `AsyncChatClient` (8 users at once), each half against a dev server
and a fault proxy of its own on 127.0.0.1. Then sync and async followers follow
sessions that several writers append to, through the proxy, across a restart of
the dev server (scripts/faults/follow.py). Exits 1 if the audit found anything:
a message or session lost or doubled, a phantom delete, a wrong listing, a
message a follower missed or was given twice, or any of the other kinds it
counts (see scripts/faults/audit.py).

    python -m scripts.soak [--calls 5000] [--seed 2026] [--rate 0.3] [--scale 0.01] [--part all|calls|follow]
"""

from __future__ import annotations

import argparse
import sys
import time

from scripts.faults import follow
from scripts.faults.workload import Settings, headline, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.soak", description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5000, help="calls in all, half sync and half async")
    parser.add_argument("--seed", type=int, default=2026, help="seeds the calls and the faults (the async half: +1)")
    parser.add_argument("--rate", type=float, default=0.3, help="the chance that a request meets a fault")
    parser.add_argument("--scale", type=float, default=0.01, help="every wait is slept this many times as long")
    parser.add_argument("--part", choices=["all", "calls", "follow"], default="all", help="which part to run")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    halves = [
        Settings("sync", calls=args.calls // 2, seed=args.seed, lanes=4, rate=args.rate, scale=args.scale),
        Settings(
            "async", calls=args.calls - args.calls // 2, seed=args.seed + 1, lanes=8, rate=args.rate, scale=args.scale
        ),
    ]
    results = []
    for settings in halves if args.part != "follow" else []:
        result = run(settings)
        results.append(result)
        print("\n".join(result.lines()), flush=True)
        for category, examples in result.audit.examples.items():
            print(f"  {category}, for example:")
            for example in examples:
                print(f"    {example}")
        print()
    failures = sum(result.failures for result in results)
    followed = None
    if args.part != "calls":
        followed = follow.run(follow.FollowSettings(seed=args.seed, rate=args.rate, scale=args.scale))
        print("\n".join(followed.lines()))
        for example in followed.examples:
            print(f"    {example}")
        print()
        failures += followed.failures
    if results:
        print(f"soak: {args.calls} calls in {time.perf_counter() - started:.0f} s: {headline(results)}")
    if followed is not None:
        counts = ", ".join(f"{followed.counts[name]} {name}" for name in follow.FOLLOW_HEADLINE)
        print(f"soak: {len(followed.followers)} followers of {followed.appended} messages: {counts}")
    print("FAILED: see the counts above" if failures else "OK: nothing lost, doubled or wrong")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
