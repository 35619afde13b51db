"""Per-row outcomes of a model on the suite, and the pooled metrics computed from them.

Every metric keeps its rows (`RowRecords`), written to `rows.parquet`, so that confidence intervals
(harness.report.bootstrap) can be computed from the run folder and every prediction can be inspected
(the per-sample log, like lm-eval's `--log_samples` and EasyEdit's pre/post records): one record per
scored text and evaluated model (`original`: before any edit, folder -1; `edited`: each folder's
final model), with the language, gold and predicted label and the probability of the gold label.
Ids only, never texts: XNLI (CC BY-NC 4.0) must not be copied into outputs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from harness.data.suite import EditRow, EvalSuite, Text

# What the bootstrap, `harness compare` and checkpoints have always read (rows.parquet version 1).
COLUMNS = ("model", "folder", "metric", "row_id", "correct")
# The per-sample log (results schema 2): language of the text, gold and predicted label names,
# softmax probability of the gold label.
SAMPLE_COLUMNS = ("lang", "gold", "pred", "prob_gold")
SOURCE_LANG = "en"  # the edit and locality rows of XFEVER and XNLI are English


@dataclass
class RowRecords:
    """Column lists of per-row outcomes (see the module docstring)."""

    model: list[str] = field(default_factory=list)
    folder: list[int] = field(default_factory=list)
    metric: list[str] = field(default_factory=list)
    row_id: list[str] = field(default_factory=list)
    correct: list[bool] = field(default_factory=list)
    lang: list[str | None] = field(default_factory=list)
    gold: list[str | None] = field(default_factory=list)
    pred: list[str | None] = field(default_factory=list)
    prob_gold: list[float | None] = field(default_factory=list)

    @staticmethod
    def names() -> tuple[str, ...]:
        return tuple(f.name for f in fields(RowRecords))

    def extend(self, other: RowRecords) -> None:
        for name in self.names():
            getattr(self, name).extend(getattr(other, name))

    def __len__(self) -> int:
        return len(self.row_id)

    def to_frame(self) -> Any:
        import pandas as pd

        return pd.DataFrame({name: getattr(self, name) for name in self.names()})

    def where(self, keep: Any) -> RowRecords:
        """The records for which `keep(metric, row_id)` is true."""
        mask = [bool(keep(key, rid)) for key, rid in zip(self.metric, self.row_id, strict=True)]
        out = RowRecords()
        for name in self.names():
            getattr(out, name).extend(v for v, m in zip(getattr(self, name), mask, strict=True) if m)
        return out

    @classmethod
    def from_columns(cls, columns: dict[str, list[Any]]) -> RowRecords:
        """From a mapping of column lists; the per-sample columns of a version-1 file become nulls."""
        n = len(columns["row_id"])
        return cls(**{name: list(columns.get(name) or [None] * n) for name in cls.names()})

    @classmethod
    def concat(cls, parts: Iterable[RowRecords]) -> RowRecords:
        out = cls()
        for part in parts:
            out.extend(part)
        return out


def lang_of(key: str) -> str:
    """The language of the texts of metric group `key` (`clg_de`, `clg_rephrase_de` -> de)."""
    for prefix in ("clg_rephrase_", "clg_"):
        if key.startswith(prefix):
            return key.removeprefix(prefix)
    return SOURCE_LANG


def edit_groups(rows: Sequence[EditRow], langs: Sequence[str]) -> dict[str, list[tuple[str, Text, str]]]:
    """metric key -> [(row id, text, label)] for reliability, MLG, CLG and CLG on rephrases."""
    groups: dict[str, list[tuple[str, Text, str]]] = {"reliability": [], "mlg": []}
    for lang in langs:
        groups[f"clg_{lang}"] = []
    for row in rows:
        groups["reliability"].append((row.id, row.text, row.label))
        groups["mlg"] += [(f"{row.id}#{k}", text, row.label) for k, text in enumerate(row.rephrases)]
        for lang in langs:
            if lang in row.parallel:
                groups[f"clg_{lang}"].append((row.id, row.parallel[lang], row.label))
            for k, text in enumerate(row.parallel_rephrases.get(lang, ())):
                groups.setdefault(f"clg_rephrase_{lang}", []).append((f"{row.id}#{k}", text, row.label))
    return groups


def locality_groups(suite: EvalSuite) -> dict[str, list[tuple[str, Text, str]]]:
    return {
        f"locality_{name}": [(e.id, e.text, e.label) for e in rows] for name, rows in suite.locality.items()
    }


def all_texts(suite: EvalSuite, rows: Sequence[EditRow]) -> list[Text]:
    """Every text the protocol scores (for the one-time encoding of the cached path)."""
    groups = edit_groups(rows, suite.langs) | locality_groups(suite)
    return [text for items in groups.values() for _, text, _ in items]


def score_rows(
    view: Any,
    rows: Sequence[EditRow],
    suite: EvalSuite,
    label_ids: dict[str, int],
    *,
    model: str,
    folder: int,
    locality: bool = True,
) -> RowRecords:
    """Predict every scored text once (one batched call) and record which rows are correct."""
    groups = edit_groups(rows, suite.langs) | (locality_groups(suite) if locality else {})
    flat = [(key, rid, text, label) for key, items in groups.items() for rid, text, label in items]
    preds, probs = _predictions(view, [text for _, _, text, _ in flat], [label_ids[x] for *_, x in flat])
    names = {index: name for name, index in label_ids.items()}
    out = RowRecords()
    for (key, rid, _, label), pred, prob in zip(flat, preds, probs, strict=True):
        out.model.append(model)
        out.folder.append(folder)
        out.metric.append(key)
        out.row_id.append(rid)
        out.correct.append(pred == label_ids[label])
        out.lang.append(lang_of(key))
        out.gold.append(label)
        out.pred.append(names.get(pred, f"logit_{pred}"))  # a head wider than the dataset's labels
        out.prob_gold.append(prob)
    return out


def _predictions(view: Any, texts: list[Text], gold: list[int]) -> tuple[list[int], list[float | None]]:
    """Predicted logit index and softmax probability of the gold label per text, in one batched call.

    The prediction is the argmax of the same logits `view.predict` takes it from; a view without
    `logits` (a custom one) gives predictions only."""
    if not texts:
        return [], []
    if not hasattr(view, "logits"):
        return view.predict(texts).tolist(), [None] * len(texts)
    import torch

    logits = view.logits(texts)
    preds = logits.argmax(-1)
    probs = torch.softmax(logits, dim=-1).gather(1, torch.tensor(gold).unsqueeze(1)).squeeze(1)
    return preds.tolist(), probs.tolist()


def pooled_metrics(
    records: RowRecords, model: str, langs: Sequence[str], *, train_langs: Sequence[str] | None = None
) -> dict[str, dict[str, Any]]:
    """{metric key: {"value": accuracy, "n": rows}} for one model's rows, plus the CLG averages.

    `clg_avg` is the paper's Avg. (mean over languages); with `train_langs` (MPN trained on some
    languages only) also `clg_avg_seen` and `clg_avg_heldout` over those / the other languages."""
    sums: dict[str, list[int]] = {}
    for m, key, ok in zip(records.model, records.metric, records.correct, strict=True):
        if m == model:
            acc = sums.setdefault(key, [0, 0])
            acc[0] += int(ok)
            acc[1] += 1
    metrics = {key: {"value": right / n, "n": n} for key, (right, n) in sums.items() if n}
    for key, group in clg_groups(langs, train_langs).items():
        per_lang = [metrics[f"clg_{lang}"] for lang in group if f"clg_{lang}" in metrics]
        if per_lang:  # the paper's Avg.: the mean over languages
            metrics[key] = {
                "value": sum(m["value"] for m in per_lang) / len(per_lang),
                "n": sum(m["n"] for m in per_lang),
            }
    return metrics


def clg_groups(langs: Sequence[str], train_langs: Sequence[str] | None = None) -> dict[str, list[str]]:
    """Average key -> its languages: `clg_avg` (all), and with `train_langs` seen / held-out."""
    groups = {"clg_avg": list(langs)}
    if train_langs:
        groups["clg_avg_seen"] = [lang for lang in langs if lang in train_langs]
        groups["clg_avg_heldout"] = [lang for lang in langs if lang not in train_langs]
    return {key: group for key, group in groups.items() if group}


def row_scores(records: RowRecords, model: str, keys: Sequence[str]) -> dict[str, float]:
    """Row id -> mean correctness over `model`'s records of the metric `keys`.

    One value per row: a locality row scored after every folder gets its mean over folders, and a
    CLG average (keys clg_de, clg_fr, ...) the mean over languages of the same edit row, so that
    resampling rows keeps what belongs to one row together."""
    wanted = set(keys)
    sums: dict[str, list[int]] = {}
    for m, key, rid, ok in zip(records.model, records.metric, records.row_id, records.correct, strict=True):
        if m == model and key in wanted:
            acc = sums.setdefault(rid, [0, 0])
            acc[0] += int(ok)
            acc[1] += 1
    return {rid: right / n for rid, (right, n) in sums.items()}


def metric_keys(key: str, langs: Sequence[str], train_langs: Sequence[str] | None = None) -> list[str]:
    """The record keys behind a metric (an average: its languages' clg_<lang>)."""
    groups = clg_groups(langs, train_langs)
    return [f"clg_{lang}" for lang in groups[key]] if key in groups else [key]


def add_intervals(
    metrics: dict[str, dict[str, Any]],
    records: RowRecords,
    model: str,
    langs: Sequence[str],
    *,
    train_langs: Sequence[str] | None = None,
    steps: Sequence[dict[str, Any]] = (),
    n_resamples: int = 1000,
    seed: int = 0,
) -> dict[str, dict[str, Any]]:
    """Add `ci` (95 % percentile bootstrap interval over rows, `[low, high]`) to every metric entry.

    `patch_num` (a count) gets none; `edit_success` resamples the edit steps that needed an edit."""
    import numpy as np

    from harness.report.bootstrap import bootstrap_interval

    for key, entry in metrics.items():
        if key == "patch_num":
            continue
        if key == "edit_success":
            values = [float(bool(s.get("success"))) for s in steps if s.get("needed")]
        else:
            values = list(row_scores(records, model, metric_keys(key, langs, train_langs)).values())
        if not values:
            continue
        ci = bootstrap_interval(np.asarray(values), n_resamples=n_resamples, seed=seed)
        entry["ci"] = [ci.low, ci.high]
        entry["ci_rows"] = len(values)
    return metrics


def edit_metrics(steps: Sequence[dict[str, Any]], n_folders: int) -> dict[str, dict[str, Any]]:
    """Patch number and edit success at edit time, from steps.jsonl lines."""
    patches = sum(int(s.get("patches_added", 0)) for s in steps)
    asked = [s for s in steps if s.get("needed")]
    out = {"patch_num": {"value": patches, "n": n_folders}}
    if asked:
        out["edit_success"] = {
            "value": sum(bool(s.get("success")) for s in asked) / len(asked),
            "n": len(asked),
        }
    return out


def summarize(
    records: RowRecords,
    model: str,
    langs: Sequence[str],
    train_langs: Sequence[str] | None = None,
    steps: Sequence[dict[str, Any]] | None = None,
    n_folders: int = 0,
    *,
    n_resamples: int = 1000,
    seed: int = 0,
) -> dict[str, dict[str, Any]]:
    """Pooled metrics (+ edit metrics from `steps`) of `model`, each with its bootstrap interval."""
    metrics = pooled_metrics(records, model, langs, train_langs=train_langs)
    if steps is not None:
        metrics |= edit_metrics(steps, n_folders)
    return add_intervals(
        metrics,
        records,
        model,
        langs,
        train_langs=train_langs,
        steps=steps or (),
        n_resamples=n_resamples,
        seed=seed,
    )
