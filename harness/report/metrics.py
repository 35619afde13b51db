"""The metrics of the editing protocol (paper §4.1.2), declared once.

Every metric is an accuracy pooled over rows (except `patch_num`, a count). Per-language metrics use
the key template `clg_<lang>`. `METRICS` is the one table the results, leaderboard and plots read.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    key: str
    display: str
    higher_is_better: bool | None  # None: no direction (a count)
    per_language: bool = False
    percent: bool = True  # shown ×100 in tables

    def key_for(self, lang: str | None = None) -> str:
        return f"{self.key}_{lang}" if self.per_language else self.key

    def display_for(self, lang: str | None = None) -> str:
        return f"{self.display} {lang}" if self.per_language else self.display


METRICS: tuple[Metric, ...] = (
    Metric("patch_num", "Patch Num.", None, percent=False),
    Metric("reliability", "Reliability (en)", True),
    Metric("mlg", "MLG", True),
    Metric("clg", "CLG", True, per_language=True),
    Metric("clg_avg", "CLG Avg.", True),
    Metric("clg_avg_seen", "Avg. seen", True),  # MPN with train_langs: languages it trained on
    Metric("clg_avg_heldout", "Avg. held-out", True),  # ... and the others
    Metric("locality_train", "Locality Train", True),
    Metric("locality_test", "Locality Test", True),
    Metric("locality_validation", "Locality", True),  # XNLI: English validation rows
    Metric("edit_success", "Edit success", True),
    Metric("clg_rephrase", "CLG rephrases", True, per_language=True),
)
BY_KEY = {m.key: m for m in METRICS}


def metric_for(key: str, langs: Iterable[str] = ()) -> Metric | None:
    """The declaration behind a concrete key (`clg_de` -> the `clg` metric)."""
    if key in BY_KEY:
        return BY_KEY[key]
    for m in METRICS:
        if m.per_language and any(key == m.key_for(lang) for lang in langs):
            return m
    return None


TABLE_KEYS = (
    "patch_num", "reliability", "edit_success", "mlg", "clg", "clg_avg", "clg_avg_seen", "clg_avg_heldout",
    "locality_train", "locality_test", "locality_validation", "clg_rephrase",
)  # fmt: skip


def table_columns(langs: Sequence[str]) -> list[tuple[str, Metric]]:
    """(key, metric) in the paper's Table 1 order: Patch Num, Reliability, MLG, CLG langs, Avg, Locality;
    then what the paper leaves out: seen / held-out averages and CLG on translated rephrases.

    Leaderboards drop the columns no run has (e.g. MLG and Locality train/test on XNLI)."""
    cols: list[tuple[str, Metric]] = []
    for m in (BY_KEY[key] for key in TABLE_KEYS):
        cols += [(m.key_for(lang), m) for lang in langs] if m.per_language else [(m.key, m)]
    return cols


def metrics_info(keys: Iterable[str], langs: Sequence[str] = ()) -> dict[str, dict[str, object]]:
    """results.json `metrics_info`: per metric key, its display name, direction and unit.

    `higher_is_better` is null for counts (`patch_num`), as in `METRICS`; keys no declaration covers
    (a custom editor's extra metric) get nulls rather than a guess."""
    info: dict[str, dict[str, object]] = {}
    for key in keys:
        metric = metric_for(key, langs)
        lang = key.removeprefix(metric.key + "_") if metric is not None and metric.per_language else None
        info[key] = {
            "display": metric.display_for(lang) if metric is not None else key,
            "higher_is_better": metric.higher_is_better if metric is not None else None,
            "unit": ("fraction" if metric.percent else "count") if metric is not None else None,
        }
    return info


def accuracy(correct: Sequence[bool]) -> float | None:
    return sum(map(bool, correct)) / len(correct) if len(correct) else None
