"""Import time in a fresh process, measured inside it (interpreter start-up excluded)."""

from __future__ import annotations

import subprocess
import sys

from bench.measure import Figure

_PROBE = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"


def import_seconds(module: str) -> float:
    output = subprocess.run(
        [sys.executable, "-c", _PROBE.format(module=module)], capture_output=True, check=True, text=True
    )
    return float(output.stdout)


def imports(module: str, baseline: str, runs: int, limit: float | None, goal: str) -> Figure:
    target: list[float] = []
    base: list[float] = []
    for run in range(runs):
        for name, into in [(module, target), (baseline, base)][:: 1 if run % 2 == 0 else -1]:
            into.append(import_seconds(name))
    return Figure(f"import {module} (fresh process)", "ms", 1e3, target, base, f"import {baseline}", goal, limit)
