"""The result of one run and its files: results.json, steps.jsonl, rows.parquet, folders/.

Every file is self-describing (schema version, package version, git SHA, model and dataset ids and
revisions, editor settings, seeds, path, dropout, timings) and written atomically (temp + rename).
Per-folder files are written as each folder finishes, so a failed run leaves them readable.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common.io import to_json, write_parquet_atomic, write_text_atomic
from harness.report.scoring import RowRecords

SCHEMA_VERSION = 1
RESULTS_FILE = "results.json"
STEPS_FILE = "steps.jsonl"
ROWS_FILE = "rows.parquet"
FOLDERS_DIR = "folders"


@dataclass
class EvalResult:
    """What `harness.evaluate` returns and the CLI writes."""

    status: str  # complete | failed
    config: dict[str, Any]
    provenance: dict[str, Any]
    model: dict[str, Any]
    dataset: dict[str, Any]
    editor: dict[str, Any]
    path: str  # cached | full
    dropout: str
    seed: int
    folders: int
    metrics: dict[str, dict[str, Any]]  # edited model(s), pooled
    original: dict[str, dict[str, Any]]  # the unedited model
    per_folder: list[dict[str, Any]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    steps: list[dict[str, Any]] = field(default_factory=list, repr=False)
    rows: RowRecords = field(default_factory=RowRecords, repr=False)
    bootstrap: dict[str, Any] = field(default_factory=dict)  # how every metric's `ci` was computed
    schema_version: int = SCHEMA_VERSION

    def metric(self, key: str, original: bool = False) -> float | None:
        entry = (self.original if original else self.metrics).get(key)
        return None if entry is None else entry["value"]

    def to_dict(self) -> dict[str, Any]:
        """The body of results.json (steps and rows go to their own files)."""
        skip = {"steps", "rows"}
        body = {k: v for k, v in self.__dict__.items() if k not in skip}
        body["files"] = {"steps": STEPS_FILE, "rows": ROWS_FILE, "folders": FOLDERS_DIR}
        return {"schema_version": SCHEMA_VERSION, **{k: v for k, v in body.items() if k != "schema_version"}}


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


def write_rows(path: Path, rows: RowRecords) -> None:
    write_parquet_atomic(path, rows.to_frame())


def write_folder(run_dir: str | Path, folder: Any, metrics: dict[str, Any], header: dict[str, Any]) -> None:
    """folders/folder_NNN.json (+ .rows.parquet) for one finished folder."""
    base = Path(run_dir) / FOLDERS_DIR / f"folder_{folder.index:03d}"
    write_rows(base.with_suffix(".rows.parquet"), folder.rows)
    body = {"schema_version": SCHEMA_VERSION, **header, "folder": folder.index, "rows": len(folder.row_ids)}
    body |= {"patches": folder.patches, "seconds": folder.seconds, "metrics": metrics, "steps": folder.steps}
    write_text_atomic(base.with_suffix(".json"), to_json(body))


def write_result(run_dir: str | Path, result: EvalResult) -> Path:
    """results.json, steps.jsonl and rows.parquet; results.json last, so it marks a written run."""
    out = Path(run_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out / STEPS_FILE, "".join(json.dumps(s, default=str) + "\n" for s in result.steps))
    write_rows(out / ROWS_FILE, result.rows)
    write_text_atomic(out / RESULTS_FILE, to_json(result.to_dict()))
    return out


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
    if data.get("schema_version") != SCHEMA_VERSION:
        raise ToolkitError(
            f"{path}: field 'schema_version': {data.get('schema_version')!r}, expected {SCHEMA_VERSION}"
        )
    return data
