"""`compare_runs(run_a, run_b)`: per-metric differences of two runs with paired-bootstrap p-values.

Both runs must have scored the same rows (same dataset revision, edit rows and locality sets); each
metric is compared on its per-row values from rows.parquet (one value per row, as for the intervals
in results.json: a locality row's mean over folders, a CLG average's mean over languages). The delta
is B minus A; the p-value tests "no difference", two-sided (harness.report.bootstrap.paired_bootstrap).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from common.errors import ToolkitError
from common.io import to_json, write_text_atomic
from common.provenance import provenance
from harness.report.bootstrap import DEFAULT_RESAMPLES
from harness.report.results import SCHEMA_VERSION, load_result
from harness.report.scoring import RowRecords, metric_keys, row_scores

COMPARE_JSON, COMPARE_MD = "compare.json", "compare.md"
SKIPPED = ("patch_num", "edit_success")  # a count, and edit-time steps that differ between runs


def load_rows(run_dir: str | Path) -> RowRecords:
    """rows.parquet of a run folder as RowRecords."""
    from harness.report.samples import load_samples

    frame = load_samples(run_dir)
    return RowRecords.from_columns({c: frame[c].tolist() for c in RowRecords.names() if c in frame.columns})


def compare_runs(
    run_a: str | Path, run_b: str | Path, *, n_resamples: int = DEFAULT_RESAMPLES, seed: int = 0
) -> dict[str, Any]:
    """{metric: a, b, delta (B - A), ci of the delta, p_value, n_rows} for the metrics both runs have."""
    from harness.report.bootstrap import paired_bootstrap

    data = {name: load_result(run) for name, run in (("a", run_a), ("b", run_b))}
    rows = {"a": load_rows(run_a), "b": load_rows(run_b)}
    revisions = {name: (d["dataset"].get("id"), d["dataset"].get("revision")) for name, d in data.items()}
    if revisions["a"][1] != revisions["b"][1]:
        raise ToolkitError(
            f"compare: the runs used different datasets "
            f"({run_a}: {revisions['a']}, {run_b}: {revisions['b']})"
        )
    langs = data["a"]["dataset"].get("langs", [])
    train = {name: d["editor"].get("settings", {}).get("train_langs") for name, d in data.items()}
    metrics: dict[str, Any] = {}
    for key in data["a"]["metrics"]:
        if key in SKIPPED or key not in data["b"]["metrics"]:
            continue
        if key.startswith("clg_avg_") and train["a"] != train["b"]:
            continue  # seen / held-out over different languages: not the same rows
        keys = metric_keys(key, langs, train["a"])
        a, b = (row_scores(rows[n], "edited", keys) for n in ("a", "b"))
        if set(a) != set(b):
            only_a, only_b = sorted(set(a) - set(b)), sorted(set(b) - set(a))
            raise ToolkitError(
                f"compare: metric {key!r}: the runs scored different rows ({len(a)} in {run_a}, {len(b)} "
                f"in {run_b}; e.g. only in A: {only_a[:3]}, only in B: {only_b[:3]}); compare runs on "
                "the same rows (same dataset, --max-edits, --subset, --langs)"
            )
        ids = sorted(a)
        test = paired_bootstrap([b[i] for i in ids], [a[i] for i in ids], n_resamples=n_resamples, seed=seed)
        metrics[key] = {
            "a": data["a"]["metrics"][key]["value"],
            "b": data["b"]["metrics"][key]["value"],
            "delta": test.delta,
            "ci": [test.low, test.high],
            "p_value": test.p_value,
            "n_rows": test.n_rows,
        }
    if not metrics:
        raise ToolkitError(f"compare: {run_a} and {run_b} have no metric in common")
    return {
        "schema_version": SCHEMA_VERSION,
        "run_a": _describe(run_a, data["a"]),
        "run_b": _describe(run_b, data["b"]),
        "delta": "B minus A",
        "bootstrap": {"method": "paired bootstrap over rows", "n_resamples": n_resamples, "seed": seed},
        "metrics": metrics,
        "provenance": provenance(),
    }


def _describe(run: str | Path, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "run": Path(run).name,
        "editor": data["editor"]["name"],
        "settings": data["editor"].get("settings", {}),
        "seed": data.get("seed"),
        "folders": data.get("folders"),
        "model": f"{data['model'].get('id')}@{data['model'].get('revision')}",
        "dataset": f"{data['dataset'].get('id')}@{data['dataset'].get('revision')}",
    }


def render_markdown(report: dict[str, Any]) -> str:
    a, b = report["run_a"], report["run_b"]
    lines = [
        f"A: {a['run']} ({a['editor']}), B: {b['run']} ({b['editor']}); Δ = B − A in points, "
        f"95 % paired-bootstrap interval, p two-sided ({report['bootstrap']['n_resamples']} resamples, "
        f"seed {report['bootstrap']['seed']}).",
        "",
        "| metric | A | B | Δ | 95 % CI of Δ | p | rows |",
        "|---|---|---|---|---|---|---|",
    ]
    for key, m in report["metrics"].items():
        low, high = (100 * x for x in m["ci"])
        lines.append(
            f"| {key} | {100 * m['a']:.2f} | {100 * m['b']:.2f} | {100 * m['delta']:+.2f} | "
            f"[{low:+.2f}, {high:+.2f}] | {m['p_value']:.3g} | {m['n_rows']} |"
        )
    return "\n".join(lines) + "\n"


def write_compare(report: dict[str, Any], out_dir: str | Path) -> dict[str, Path]:
    """compare.json and compare.md into `out_dir` (atomically)."""
    out = Path(out_dir)
    paths = {"json": out / COMPARE_JSON, "md": out / COMPARE_MD}
    write_text_atomic(paths["json"], to_json(report))
    write_text_atomic(paths["md"], render_markdown(report))
    return paths
