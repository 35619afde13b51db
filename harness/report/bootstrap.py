"""Uncertainty over rows: percentile bootstrap intervals and paired bootstrap tests.

Every metric in a results file is a mean over rows (1 = correct, 0 = wrong), so one resampler of
rows serves them all. For a metric that averages several columns per row (CLG avg over languages on
the same edit rows), pass the per-row mean: resampling rows then keeps the languages together.
Seeded with numpy's PCG64 (`np.random.default_rng(seed)`): the same seed gives the same interval.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

DEFAULT_RESAMPLES = 1000
DEFAULT_CONFIDENCE = 0.95
_CHUNK_CELLS = 4_000_000  # resampled indices held at once (32 MB of int64)


@dataclass(frozen=True)
class Interval:
    """A percentile bootstrap interval for a mean over rows (same scale as the values)."""

    low: float
    high: float
    n_resamples: int
    seed: int
    confidence: float = DEFAULT_CONFIDENCE

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PairedComparison:
    """System A minus system B on the same rows: difference, its interval and a two-sided p-value."""

    delta: float
    low: float
    high: float
    p_value: float
    n_rows: int
    n_resamples: int
    seed: int
    confidence: float = DEFAULT_CONFIDENCE

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def resample_means(values: np.ndarray, *, n_resamples: int = DEFAULT_RESAMPLES, seed: int = 0) -> np.ndarray:
    """Means of `n_resamples` resamples of the rows (with replacement, each the size of the input)."""
    values = _as_rows(values)
    rng = np.random.default_rng(seed)
    n = len(values)
    per_chunk = max(1, _CHUNK_CELLS // n)
    means = np.empty(n_resamples, dtype=np.float64)
    for start in range(0, n_resamples, per_chunk):
        size = min(per_chunk, n_resamples - start)
        index = rng.integers(0, n, size=(size, n))
        means[start : start + size] = values[index].mean(axis=1)
    return means


def bootstrap_interval(
    correct: np.ndarray,
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    confidence: float = DEFAULT_CONFIDENCE,
) -> Interval:
    """Percentile bootstrap interval of the mean of `correct` (bools or per-row scores)."""
    _check(n_resamples, confidence)
    means = resample_means(correct, n_resamples=n_resamples, seed=seed)
    low, high = _percentiles(means, confidence)
    return Interval(low, high, n_resamples, seed, confidence)


def paired_bootstrap(
    a: np.ndarray,
    b: np.ndarray,
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    confidence: float = DEFAULT_CONFIDENCE,
) -> PairedComparison:
    """Paired bootstrap of mean(a) - mean(b) over the same rows (row i of a and b is one example).

    The p-value tests "no difference", two-sided, with the null distribution obtained by centring the
    resampled differences on zero (Efron & Tibshirani 1993, sec. 16.4), plus one:
    p = (1 + #{|d* - d| >= |d|}) / (1 + n_resamples).
    """
    _check(n_resamples, confidence)
    a, b = _as_rows(a), _as_rows(b)
    if a.shape != b.shape:
        raise ValueError(f"paired bootstrap needs the same rows: {len(a)} vs {len(b)} values")
    diff = a - b
    delta = float(diff.mean())
    resampled = resample_means(diff, n_resamples=n_resamples, seed=seed)
    # A tiny tolerance so that float noise in the means does not turn ties into misses.
    extreme = np.abs(resampled - delta) >= abs(delta) - 1e-12
    p_value = float((1 + extreme.sum()) / (1 + n_resamples))
    low, high = _percentiles(resampled, confidence)
    return PairedComparison(delta, low, high, p_value, len(diff), n_resamples, seed, confidence)


def paired_bootstrap_pvalue(
    a: np.ndarray, b: np.ndarray, *, n_resamples: int = DEFAULT_RESAMPLES, seed: int = 0
) -> float:
    """Two-sided paired bootstrap p-value for "A and B have the same mean" on the same rows."""
    return paired_bootstrap(a, b, n_resamples=n_resamples, seed=seed).p_value


def _as_rows(values: np.ndarray) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1 or len(array) == 0:
        raise ValueError(f"bootstrap needs a non-empty 1-D array of per-row values, got shape {array.shape}")
    return array


def _percentiles(means: np.ndarray, confidence: float) -> tuple[float, float]:
    tail = (1 - confidence) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return float(low), float(high)


def _check(n_resamples: int, confidence: float) -> None:
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be >= 1, got {n_resamples}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
