"""The benchmarks still run: each figure over MockTransport, once, sending what its baseline sends.

`make bench` is not part of `make test` (its goals are timings, never asserted in tests), so a
change that broke a figure (a canned answer pyclann now refuses, say) went unseen until a bench
run. This runs each MockTransport figure once, with no timing asserted: `per_call`'s warm-up
also checks that pyclann and the raw baseline send the same request.
"""

from __future__ import annotations

from bench import mocked


def test_each_per_call_figure_runs_and_sends_what_raw_httpx2_sends() -> None:
    figures = mocked.per_call(1, 1)
    assert len(figures) == 10
    assert all(figure.target and figure.baseline for figure in figures)


def test_the_walk_and_listing_figures_run() -> None:
    assert mocked.paged_walk(1).target
    assert all(figure.target for figure in mocked.big_listing(1))
