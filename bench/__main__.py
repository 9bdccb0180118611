"""`make bench`: pyclann against raw httpx2 and peer SDKs, measured side by side in one run.

Each figure is min / median / max per call over many repetitions; each ratio is
the target's median over its baseline's, both measured in this run, interleaved.
A figure with a goal says whether it was met; `--check` (make bench-check)
exits 1 when one was not. "report" figures have no goal.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys

import httpx2

import pyclann
from bench import devserver, follow, imports, latency, longpoll, mocked, peers, served
from bench.measure import Figure, spread


def cpu() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return f"{line.split(':', 1)[1].strip()} ({os.cpu_count()} cores)"
    except OSError:
        pass
    return f"{platform.processor() or platform.machine()} ({os.cpu_count()} cores)"


def render(figures: list[Figure]) -> str:
    rows = [("figure", "target min / median / max", "baseline min / median / max", "ratio", "goal", "")]
    for f in figures:
        rows.append(
            (
                f.name,
                f"{spread(f.target, f.scale)} {f.unit}",
                f"{spread(f.baseline, f.scale)} {f.unit} ({f.baseline_name})",
                "-" if math.isnan(f.ratio) else f"{f.ratio:.2f}x",
                f.goal,
                f.verdict,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [" | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "-+-".join("-" * width for width in widths))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, for a smoke run")
    parser.add_argument("--check", action="store_true", help="exit 1 if any goal is missed (make bench-check)")
    args = parser.parse_args()
    quick = args.quick
    repeats, inner = (5, 50) if quick else (30, 200)
    print(f"Python {platform.python_version()}, httpx2 {httpx2.__version__}, pyclann {pyclann.__version__}, {cpu()}")
    figures = mocked.per_call(repeats, inner)
    figures.append(mocked.paged_walk(5 if quick else 15))
    figures += mocked.big_listing(5 if quick else 15)
    figures.append(imports.imports("pyclann", "httpx2", 6 if quick else 20, 1.3, "<= 1.3x"))
    figures += latency.figures(1000, 50 if quick else 100, 2 if quick else 3)
    with served.dev_server() as url:
        figures.append(served.sequential_appends(url, 400 if quick else 2000, 4 if quick else 10))
    figures += devserver.figures(4 if quick else 10, 50 if quick else 200, 20 if quick else 50)
    figures += longpoll.figures(1 if quick else 3, 1.0 if quick else 3.0)
    figures.append(follow.wake_up(50 if quick else 300))
    figures += peers.openai_figures(repeats, inner, 6 if quick else 20)
    print(render(figures))
    missed = [f.name for f in figures if f.verdict == "MISSED"]
    print(f"\n{len(missed)} target(s) missed" + (": " + "; ".join(missed) if missed else ""))
    return 1 if missed and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
