"""Bootstrap intervals and paired tests."""

from __future__ import annotations

import time

import numpy as np
import pytest

from harness.report.bootstrap import (
    bootstrap_interval,
    paired_bootstrap,
    paired_bootstrap_pvalue,
    resample_means,
)


def rows(n: int, p: float, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).random(n) < p


def test_interval_contains_the_estimate_and_is_deterministic():
    correct = rows(500, 0.8)
    interval = bootstrap_interval(correct, n_resamples=500, seed=7)
    assert interval.low < correct.mean() < interval.high
    assert interval == bootstrap_interval(correct, n_resamples=500, seed=7)
    assert interval != bootstrap_interval(correct, n_resamples=500, seed=8)
    assert (interval.n_resamples, interval.seed, interval.confidence) == (500, 7, 0.95)


def test_interval_shrinks_with_more_rows():
    small = bootstrap_interval(rows(200, 0.7))
    large = bootstrap_interval(rows(20_000, 0.7))
    assert large.high - large.low < (small.high - small.low) / 5  # width ~ 1/sqrt(n): 10x fewer


def test_interval_width_matches_the_normal_approximation():
    correct = rows(4000, 0.6)
    interval = bootstrap_interval(correct, n_resamples=2000)
    p = correct.mean()
    expected = 2 * 1.96 * np.sqrt(p * (1 - p) / len(correct))
    assert interval.high - interval.low == pytest.approx(expected, rel=0.1)


def test_constant_rows_give_a_point_interval():
    interval = bootstrap_interval(np.ones(50, dtype=bool))
    assert interval.low == interval.high == 1.0


def test_ten_thousand_rows_by_a_thousand_resamples_is_fast():
    started = time.perf_counter()
    means = resample_means(rows(10_000, 0.9), n_resamples=1000, seed=0)
    assert len(means) == 1000 and time.perf_counter() - started < 5


def test_paired_pvalue_small_for_a_clearly_better_system_and_one_for_identical():
    b = rows(1000, 0.7, seed=2)
    a = b.copy()
    a[np.flatnonzero(~b)[:100]] = True  # A fixes 100 of B's errors, breaks none
    assert paired_bootstrap_pvalue(a, b, n_resamples=999, seed=0) == pytest.approx(1 / 1000)
    assert paired_bootstrap_pvalue(b, b, n_resamples=999, seed=0) == 1.0
    result = paired_bootstrap(a, b, n_resamples=999)
    assert result.delta == pytest.approx(0.1) and result.low > 0 and result.n_rows == 1000


def test_paired_pvalue_large_for_noise():
    b = rows(1000, 0.7, seed=3)
    a = b.copy()
    a[np.flatnonzero(~b)[:5]] = True
    a[np.flatnonzero(b)[:5]] = False  # as many fixed as broken: no difference
    assert paired_bootstrap_pvalue(a, b, n_resamples=999) > 0.5


def test_bad_input():
    with pytest.raises(ValueError, match="same rows"):
        paired_bootstrap(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="non-empty"):
        bootstrap_interval(np.array([]))
    with pytest.raises(ValueError, match="confidence"):
        bootstrap_interval(np.ones(3), confidence=1.5)
