"""Timing helpers: interleaved repetitions, so that a noisy machine slows both sides alike."""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Figure:
    name: str
    unit: str
    scale: float  # seconds (or bytes) -> unit
    target: list[float]
    baseline: list[float]
    baseline_name: str
    goal: str
    limit: float | None  # the highest acceptable ratio target/baseline; None: report only
    ceiling: float | None = None  # an absolute goal: the highest acceptable median of the target, in seconds

    @property
    def ratio(self) -> float:
        """The target's median over the baseline's; NaN over a baseline of 0 (a server's CPU when idle)."""
        baseline = statistics.median(self.baseline)
        return statistics.median(self.target) / baseline if baseline else math.nan

    @property
    def verdict(self) -> str:
        if self.limit is None and self.ceiling is None:
            return "reported"
        met = (self.limit is None or self.ratio <= self.limit) and (
            self.ceiling is None or statistics.median(self.target) <= self.ceiling
        )
        return "met" if met else "MISSED"


def interleaved(
    target: Callable[[], object], baseline: Callable[[], object], repeats: int, inner: int
) -> tuple[list[float], list[float]]:
    """Per-call seconds of each, over `repeats` rounds of `inner` calls, alternating which goes first."""
    ours: list[float] = []
    theirs: list[float] = []
    for round_ in range(repeats):
        pair = [(target, ours), (baseline, theirs)]
        for function, into in pair if round_ % 2 == 0 else reversed(pair):
            started = time.perf_counter()
            for _ in range(inner):
                function()
            into.append((time.perf_counter() - started) / inner)
    return ours, theirs


def spread(values: list[float], scale: float) -> str:
    """min / median / max, in the figure's unit."""
    return " / ".join(f"{value * scale:.1f}" for value in (min(values), statistics.median(values), max(values)))
