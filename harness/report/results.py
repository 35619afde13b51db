"""The result of one run and its files: results.json, steps.jsonl, rows.parquet, folders/.

Every file is self-describing (schema version, package version, git SHA, model and dataset ids and
revisions, editor settings, seeds, path, dropout, timings) and written atomically (temp + rename).
Per-folder files are written as each folder finishes, so a failed run leaves them readable.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common.io import to_json, write_parquet_atomic, write_text_atomic
from harness.report.scoring import RowRecords

SCHEMA_VERSION = 2  # 2: identity, provenance.environment, folders = what ran, metrics_info, scored,
# stand_in; rows.parquet per-sample columns
READABLE_VERSIONS = (1, 2)  # leaderboards and comparisons still read version-1 run folders
RESULTS_FILE = "results.json"
STEPS_FILE = "steps.jsonl"
ROWS_FILE = "rows.parquet"
FOLDERS_DIR = "folders"


@dataclass(frozen=True)
class EvalResult:
    """What `harness.evaluate` returns and results.json holds; built once, at the end of a run."""

    status: str  # complete | failed
    config: dict[str, Any]
    identity: dict[str, Any]  # harness.protocol.run_dir.RunIdentity: what makes a run the same run
    provenance: dict[str, Any]
    model: dict[str, Any]
    dataset: dict[str, Any]
    editor: dict[str, Any]
    path: str  # cached | full
    dropout: str
    seed: int
    folders: int  # folders that ran (at most config.folders: never more than edit rows)
    metrics: dict[str, dict[str, Any]]  # edited model(s), pooled
    original: dict[str, dict[str, Any]]  # the unedited model
    per_folder: list[dict[str, Any]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    steps: list[dict[str, Any]] = field(default_factory=list, repr=False)
    rows: RowRecords = field(default_factory=RowRecords, repr=False)
    bootstrap: dict[str, Any] = field(default_factory=dict)  # how every metric's `ci` was computed
    stand_in: dict[str, Any] | None = None  # stand-in model / synthetic translations (report.standin)
    run_settings: dict[str, Any] | None = None  # resolved auto run settings: {name: {value, from}}
    schema_version: int = SCHEMA_VERSION
    origin: str = "run"  # run | resumed | reused (a complete run folder read back); not written

    def metric(self, key: str, original: bool = False) -> float | None:
        entry = (self.original if original else self.metrics).get(key)
        return None if entry is None else entry["value"]

    def scored(self) -> dict[str, Any]:
        """The rows scored, per metric group (count and id hash): what leaderboards group runs by."""
        from harness.report.comparable import scored_summary

        return scored_summary(self.rows)

    def metrics_info(self) -> dict[str, dict[str, Any]]:
        """Display name, `higher_is_better` and unit of every metric key in `metrics` / `original`."""
        from harness.report.metrics import metrics_info

        keys = list(dict.fromkeys([*self.original, *self.metrics]))
        return metrics_info(keys, self.dataset.get("langs", ()))

    def to_dict(self) -> dict[str, Any]:
        """The body of results.json (steps and rows go to their own files)."""
        skip = {"steps", "rows", "origin", "schema_version"}
        body = {k: v for k, v in self.__dict__.items() if k not in skip}
        body["files"] = {"steps": STEPS_FILE, "rows": ROWS_FILE, "folders": FOLDERS_DIR}
        body["metrics_info"] = self.metrics_info()
        body["scored"] = self.scored()
        return {"schema_version": SCHEMA_VERSION, **body}


def result_from(
    *,
    config: Any,
    identity: Any,
    provenance: dict[str, Any],
    model: dict[str, Any],
    suite: Any,
    editor: Any,
    path: str,
    original: RowRecords,
    folders: list[Any],
    planned_folders: int,
    timings: dict[str, float],
    status: str,
    error: str | None,
    stand_in: dict[str, Any] | None = None,
    run_settings: dict[str, Any] | None = None,
) -> EvalResult:
    """Pool the original model's records and the finished folders into the run's result."""
    from harness.report.scoring import summarize

    steps = [s for f in folders for s in f.steps]
    rows = RowRecords.concat([original] + [f.rows for f in folders])
    train_langs = (editor.settings or {}).get("train_langs")
    intervals = {"n_resamples": config.bootstrap_resamples, "seed": config.bootstrap_seed}
    original_metrics = summarize(original, "original", suite.langs, train_langs, **intervals)
    original_metrics["patch_num"] = {"value": 0, "n": 1}
    metrics = summarize(rows, "edited", suite.langs, train_langs, steps, len(folders), **intervals)
    per_folder = [
        {"index": f.index, "rows": len(f.row_ids), "patches": f.patches, "seconds": round(f.seconds, 3)}
        for f in folders
    ]
    return EvalResult(
        status=status,
        config=config.to_dict(),
        identity=identity.to_dict(),
        provenance=provenance,
        model=model,
        dataset=suite.summary(),
        editor=editor_record(editor),
        path=path,
        dropout=config.dropout,
        seed=config.seed,
        folders=planned_folders,
        metrics=metrics,
        original=original_metrics,
        per_folder=per_folder,
        timings={k: round(v, 3) for k, v in timings.items()},
        error=error,
        steps=steps,
        rows=rows,
        bootstrap=bootstrap_info(config),
        stand_in=stand_in,
        run_settings=run_settings,
    )


def editor_record(editor: Any) -> dict[str, Any]:
    """The editor as results.json records it, with its `report()` (e.g. the early stop's memory)."""
    record = editor.describe()
    getter = getattr(editor.editor, "report", None)
    report = getter() if callable(getter) else None
    if report:
        record["report"] = report
    return record


def bootstrap_info(config: Any) -> dict[str, Any]:
    """How the `ci` of every metric entry was computed (results.json `bootstrap`)."""
    from harness.report.bootstrap import DEFAULT_CONFIDENCE

    return {
        "method": "percentile bootstrap over rows",
        "confidence": DEFAULT_CONFIDENCE,
        "n_resamples": config.bootstrap_resamples,
        "seed": config.bootstrap_seed,
        "rows": "one value per scored row (a locality row: its mean over folders; a CLG average: "
        "the edit row's mean over the averaged languages; edit_success: steps that needed an edit)",
    }


def write_rows(path: Path, rows: RowRecords, steps: list[dict[str, Any]] | None = None) -> None:
    """rows.parquet: the records plus the edit flags from `steps` (harness.report.samples)."""
    from harness.report.samples import frame

    write_parquet_atomic(path, frame(rows, steps or []))


def write_folder(run_dir: str | Path, folder: Any, metrics: dict[str, Any], header: dict[str, Any]) -> None:
    """folders/folder_NNN.json (+ .rows.parquet) for one finished folder."""
    base = Path(run_dir) / FOLDERS_DIR / f"folder_{folder.index:03d}"
    write_rows(base.with_suffix(".rows.parquet"), folder.rows, folder.steps)
    body = {"schema_version": SCHEMA_VERSION, **header, "folder": folder.index, "rows": len(folder.row_ids)}
    body |= {"patches": folder.patches, "seconds": folder.seconds, "metrics": metrics, "steps": folder.steps}
    write_text_atomic(base.with_suffix(".json"), to_json(body))


class RunWriter:
    """Writes one run folder: each finished folder as it finishes, then the result once."""

    def __init__(self, run_dir: str | Path, editor: str, seed: int, langs: Sequence[str]) -> None:
        self.run_dir = Path(run_dir)
        self.header = {"editor": editor, "seed": seed}
        self.langs = tuple(langs)

    def folder(self, folder: Any) -> None:
        from harness.report.scoring import edit_metrics, pooled_metrics

        metrics = pooled_metrics(folder.rows, "edited", self.langs) | edit_metrics(folder.steps, 1)
        write_folder(self.run_dir, folder, metrics, self.header)

    def result(self, result: EvalResult) -> Path:
        return write_result(self.run_dir, result)


def write_result(run_dir: str | Path, result: EvalResult) -> Path:
    """results.json, steps.jsonl and rows.parquet; results.json last, so it marks a written run."""
    out = Path(run_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out / STEPS_FILE, "".join(json.dumps(s, default=str) + "\n" for s in result.steps))
    write_rows(out / ROWS_FILE, result.rows, result.steps)
    write_text_atomic(out / RESULTS_FILE, to_json(result.to_dict()))
    return out


def load_run(run_dir: str | Path) -> EvalResult:
    """A finished run folder read back as an EvalResult (steps and rows included)."""
    import pandas as pd

    data = load_result(run_dir)
    body = {k: v for k, v in data.items() if k in EvalResult.__dataclass_fields__}
    steps_path = Path(run_dir) / STEPS_FILE
    steps = [json.loads(line) for line in steps_path.read_text(encoding="utf-8").splitlines() if line]
    frame = pd.read_parquet(Path(run_dir) / ROWS_FILE)
    rows = RowRecords(**{name: frame[name].tolist() for name in RowRecords.__dataclass_fields__})
    return EvalResult(**body | {"steps": steps, "rows": rows, "origin": "reused"})


def load_result(run_dir: str | Path) -> dict[str, Any]:
    """results.json of a run folder, as a dict (for leaderboards)."""
    from common.errors import ToolkitError

    path = Path(run_dir) / RESULTS_FILE
    if not path.is_file():
        raise ToolkitError(f"{run_dir}: no {RESULTS_FILE} (not a finished harness run)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ToolkitError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from exc
    if data.get("schema_version") not in READABLE_VERSIONS:
        raise ToolkitError(
            f"{path}: field 'schema_version': {data.get('schema_version')!r}, expected one of "
            f"{list(READABLE_VERSIONS)}"
        )
    return data
