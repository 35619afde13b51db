"""Which runs may share a leaderboard: the same things scored, by the same rules.

Two runs are comparable when they scored the same rows of the same data with the same model under
the same settings, so that only the editor (and its seed) differs. `identity(run)` lists what each
run scored, from its results.json (`config`, `model`, `dataset`, `dropout`, `folders`, `scored`);
`group_runs` puts runs with equal identities together, and `differences` names the fields in which
groups differ, for the error a mixed leaderboard gets and for its visible mark.

Not part of the identity: the editor and its settings (what a leaderboard compares), the seeds (the
spread a reader wants to see), the bootstrap settings (they change intervals, not values), and the
path (cached / full: identical predictions on CPU, `harness/model/views.py`; on a GPU a flipped
borderline row shows up as a difference in the original-model metrics, which are compared).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.report.scoring import RowRecords

ORIGINAL_METRICS = "original-model metrics"
# (field, how the leaderboard names it); the order of the error message and of the groups table.
FIELDS: tuple[tuple[str, str], ...] = (
    ("model", "model"),
    ("dataset", "dataset"),
    ("task", "task"),
    ("subset", "subset"),
    ("langs", "languages"),
    ("edit_rows", "edit rows"),
    ("locality_rows", "locality rows"),
    ("max_length", "max_length"),
    ("label_map", "label map"),
    ("dropout", "dropout"),
    ("folders", "folders"),
    ("original", ORIGINAL_METRICS),
)
LABELS = dict(FIELDS)
# Original-model metrics that exist only for some editors: the seen / held-out CLG averages follow an
# MPN run's train_langs (harness.report.scoring.clg_groups), so they are not compared across runs.
EDITOR_DEPENDENT = frozenset({"clg_avg_seen", "clg_avg_heldout"})


def ids_digest(ids: Sequence[str]) -> str:
    """A short content hash of a set of row ids (order does not matter)."""
    text = "\n".join(sorted(set(map(str, ids))))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def scored_summary(rows: RowRecords) -> dict[str, Any]:
    """results.json `scored`: the rows the original model was scored on, per metric group (count and
    id hash), and the edit rows (the reliability group) on their own. The same rows for every model."""
    ids: dict[str, list[str]] = {}
    for model, key, rid in zip(rows.model, rows.metric, rows.row_id, strict=True):
        if model == "original":
            ids.setdefault(key, []).append(rid)
    groups = {key: {"rows": len(set(v)), "ids_sha256": ids_digest(v)} for key, v in sorted(ids.items())}
    edit = groups.get("reliability", {"rows": 0, "ids_sha256": ids_digest([])})
    return {"edit_rows": edit["rows"], "edit_ids_sha256": edit["ids_sha256"], "groups": groups}


@dataclass(frozen=True)
class RunIdentity:
    """What a run scored: field -> (comparison key, display text)."""

    run: str
    keys: dict[str, Any]
    shown: dict[str, str]

    def key(self, fields: Sequence[str]) -> tuple:
        return tuple(self.keys[f] for f in fields)


def identity(path: Path, data: dict[str, Any]) -> RunIdentity:
    """The identity of one run (results.json `data`, folder `path`)."""
    config, model, dataset = data.get("config", {}), data.get("model", {}), data.get("dataset", {})
    scored = data.get("scored") or _scored_from_rows(path)
    groups = scored.get("groups", {})
    locality = tuple((k, v["rows"], v["ids_sha256"]) for k, v in groups.items() if k.startswith("locality_"))
    label_map = tuple(sorted((model.get("label_ids") or {}).items()))
    original = tuple(
        sorted(
            (k, round(float(v["value"]), 10))
            for k, v in data.get("original", {}).items()
            if k not in EDITOR_DEPENDENT
        )
    )
    subset = dataset.get("subset")
    subset = subset.get("name") if isinstance(subset, dict) else subset
    langs = tuple(dataset.get("langs", ()))
    entries: dict[str, tuple[Any, str]] = {
        # content (a local folder's hash, a Hub commit) identifies a model or dataset; the id only
        # when no revision is known
        "model": (model.get("revision") or model.get("id"), f"{model.get('id')}@{model.get('revision')}"),
        "dataset": (
            dataset.get("revision") or dataset.get("id"),
            f"{dataset.get('id')}@{dataset.get('revision')}",
        ),
        "task": (config.get("task", "xfever"), str(config.get("task", "xfever"))),
        "subset": (subset, subset or "–"),
        "langs": (langs, ", ".join(langs) or "–"),
        "edit_rows": (
            (scored.get("edit_rows"), scored.get("edit_ids_sha256")),
            f"{scored.get('edit_rows')} ({scored.get('edit_ids_sha256')})",
        ),
        "locality_rows": (
            locality,
            "; ".join(f"{k.removeprefix('locality_')} {n} ({h})" for k, n, h in locality),
        ),
        "max_length": (config.get("max_length"), str(config.get("max_length"))),
        "label_map": (label_map, ", ".join(f"{k}={v}" for k, v in label_map) or "–"),
        "dropout": (data.get("dropout"), str(data.get("dropout"))),
        "folders": (data.get("folders"), str(data.get("folders"))),
        "original": (original, _original_text(data.get("original", {}))),
    }
    return RunIdentity(
        path.name, {k: v[0] for k, v in entries.items()}, {k: v[1] for k, v in entries.items()}
    )


def _original_text(original: dict[str, Any]) -> str:
    shown = [k for k in ("reliability", "clg_avg") if k in original]
    return ", ".join(f"{k} {100 * original[k]['value']:.2f}" for k in shown) or "–"


def _scored_from_rows(path: Path) -> dict[str, Any]:
    """`scored` of a version-1 run (results.json without it), from its rows.parquet."""
    from harness.report.compare import load_rows

    return scored_summary(load_rows(path))


@dataclass
class Group:
    """Runs with one identity; `tag` (A, B, ...) names the group in a mixed table."""

    tag: str
    runs: list[int]  # indices into the runs as given
    identity: RunIdentity


def group_runs(identities: Sequence[RunIdentity]) -> list[Group]:
    """Runs with equal identities, groups in order of their first run."""
    fields = [f for f, _ in FIELDS]
    groups: dict[tuple, Group] = {}
    for i, ident in enumerate(identities):
        key = ident.key(fields)
        if key not in groups:
            groups[key] = Group(_tag(len(groups)), [], ident)
        groups[key].runs.append(i)
    return list(groups.values())


def _tag(n: int) -> str:
    return chr(ord("A") + n) if n < 26 else f"G{n + 1}"


def differences(groups: Sequence[Group]) -> list[str]:
    """The identity fields whose values differ between groups (FIELDS order). Original-model metrics
    are named only when nothing else differs: other rows or settings change them anyway."""
    found = [f for f, _ in FIELDS if len({g.identity.keys[f] for g in groups}) > 1]
    return [f for f in found if f != "original"] or found


def describe_differences(groups: Sequence[Group], identities: Sequence[RunIdentity]) -> str:
    """One line per differing field: each value and the runs that have it."""
    lines = []
    for field in differences(groups):
        values: dict[str, list[str]] = {}
        for group in groups:
            names = [identities[i].run for i in group.runs]
            values.setdefault(group.identity.shown[field], []).extend(names)
        listed = "; ".join(f"{value} in {', '.join(runs)}" for value, runs in values.items())
        lines.append(f"  {LABELS[field]}: {listed}")
    return "\n".join(lines)
