"""The result of one run and its files: results.json, steps.jsonl, rows.parquet, folders/.

Every file is self-describing (schema version, package version, git SHA, model and dataset ids and
revisions, editor settings, seeds, path, dropout, timings) and written atomically (temp + rename).
Per-folder files are written as each folder finishes, so a failed run leaves them readable.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.report.scoring import RowRecords

SCHEMA_VERSION = 2  # 2: metrics_info, scored, stand_in; rows.parquet per-sample columns
READABLE_VERSIONS = (1, 2)  # leaderboards and comparisons still read version-1 run folders
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
    stand_in: dict[str, Any] | None = None  # stand-in model / synthetic translations (report.standin)
    schema_version: int = SCHEMA_VERSION

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
        skip = {"steps", "rows"}
        body = {k: v for k, v in self.__dict__.items() if k not in skip}
        body["files"] = {"steps": STEPS_FILE, "rows": ROWS_FILE, "folders": FOLDERS_DIR}
        body["metrics_info"] = self.metrics_info()
        body["scored"] = self.scored()
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


def provenance() -> dict[str, Any]:
    """Package version, git SHA, library versions, time."""
    from importlib import metadata

    def version(name: str) -> str | None:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return None

    try:
        sha = (
            subprocess.run(
                ["git", "rev-parse", "HEAD"],
                cwd=Path(__file__).parent,
                capture_output=True,
                text=True,
                timeout=10,
            ).stdout.strip()
            or None
        )
    except (OSError, subprocess.SubprocessError):
        sha = None
    from harness import __version__

    return {
        "package_version": __version__,
        "git_sha": sha,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "libraries": {n: version(n) for n in ("torch", "transformers", "datasets", "xfever")},
    }


def write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_rows(path: Path, rows: RowRecords, steps: list[dict[str, Any]] | None = None) -> None:
    """rows.parquet: the records plus the edit flags from `steps` (harness.report.samples)."""
    from harness.report.samples import frame

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    frame(rows, steps or []).to_parquet(tmp, index=False)
    os.replace(tmp, path)


def _json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"


def write_folder(run_dir: str | Path, folder: Any, metrics: dict[str, Any], header: dict[str, Any]) -> None:
    """folders/folder_NNN.json (+ .rows.parquet) for one finished folder."""
    base = Path(run_dir) / FOLDERS_DIR / f"folder_{folder.index:03d}"
    write_rows(base.with_suffix(".rows.parquet"), folder.rows, folder.steps)
    body = {"schema_version": SCHEMA_VERSION, **header, "folder": folder.index, "rows": len(folder.row_ids)}
    body |= {"patches": folder.patches, "seconds": folder.seconds, "metrics": metrics, "steps": folder.steps}
    write_text(base.with_suffix(".json"), _json(body))


def write_result(run_dir: str | Path, result: EvalResult) -> Path:
    """results.json, steps.jsonl and rows.parquet; results.json last, so it marks a written run."""
    out = Path(run_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_text(out / STEPS_FILE, "".join(json.dumps(s, default=str) + "\n" for s in result.steps))
    write_rows(out / ROWS_FILE, result.rows, result.steps)
    write_text(out / RESULTS_FILE, _json(result.to_dict()))
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
    if data.get("schema_version") not in READABLE_VERSIONS:
        raise ToolkitError(
            f"{path}: field 'schema_version': {data.get('schema_version')!r}, expected one of "
            f"{list(READABLE_VERSIONS)}"
        )
    return data
