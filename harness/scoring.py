"""Per-row correctness of a model on the suite, and the pooled metrics computed from it.

Every metric keeps its rows (`RowRecords`: model, folder, metric, row id, correct), written to
`rows.parquet`, so that confidence intervals (harness.bootstrap) can be computed from the run folder.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.suite import EditRow, EvalSuite, Text

COLUMNS = ("model", "folder", "metric", "row_id", "correct")


@dataclass
class RowRecords:
    """Column lists of per-row outcomes."""

    model: list[str] = field(default_factory=list)
    folder: list[int] = field(default_factory=list)
    metric: list[str] = field(default_factory=list)
    row_id: list[str] = field(default_factory=list)
    correct: list[bool] = field(default_factory=list)

    def extend(self, other: RowRecords) -> None:
        for name in COLUMNS:
            getattr(self, name).extend(getattr(other, name))

    def __len__(self) -> int:
        return len(self.row_id)

    def to_frame(self) -> Any:
        import pandas as pd

        return pd.DataFrame({name: getattr(self, name) for name in COLUMNS})

    @classmethod
    def concat(cls, parts: Iterable[RowRecords]) -> RowRecords:
        out = cls()
        for part in parts:
            out.extend(part)
        return out


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
    preds = view.predict([text for _, _, text, _ in flat]).tolist() if flat else []
    out = RowRecords()
    for (key, rid, _, label), pred in zip(flat, preds, strict=True):
        out.model.append(model)
        out.folder.append(folder)
        out.metric.append(key)
        out.row_id.append(rid)
        out.correct.append(pred == label_ids[label])
    return out


def pooled_metrics(records: RowRecords, model: str, langs: Sequence[str]) -> dict[str, dict[str, Any]]:
    """{metric key: {"value": accuracy, "n": rows}} for one model's rows, plus `clg_avg`."""
    sums: dict[str, list[int]] = {}
    for m, key, ok in zip(records.model, records.metric, records.correct, strict=True):
        if m == model:
            acc = sums.setdefault(key, [0, 0])
            acc[0] += int(ok)
            acc[1] += 1
    metrics = {key: {"value": right / n, "n": n} for key, (right, n) in sums.items() if n}
    per_lang = [metrics[f"clg_{lang}"] for lang in langs if f"clg_{lang}" in metrics]
    if per_lang:  # the paper's Avg.: the mean over languages
        metrics["clg_avg"] = {
            "value": sum(m["value"] for m in per_lang) / len(per_lang),
            "n": sum(m["n"] for m in per_lang),
        }
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
