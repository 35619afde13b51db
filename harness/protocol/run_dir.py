"""The run folder: what a run is (`RunIdentity`), and what to do with a folder that already exists.

A run folder belongs to one run identity: the settings that change results, the model's content
(a Hub commit, or the hash of a local folder's files: weights replaced in place make another run),
the dataset's content, and the editor's code (the source file that defines it: a user's editor file
edited between runs is another run). A folder holding the same identity is resumed from its
checkpoint, or left alone when complete; one holding another identity is refused, with the
differences named, unless `--overwrite`.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from common.errors import ToolkitError, UsageError
from common.io import read_json

# Settings that do not change a run's results: a resume may change them.
# Where the folders ran changes no result either: a run begun locally may resume on Ray.
VOLATILE = ("progress", "out_dir", "checkpoint_every", "cache_dir", "threads")
VOLATILE += ("executor", "ray_address", "gpus_per_task", "retries")


class ResumeError(UsageError):
    """The run folder holds another run (other settings, model, dataset or editor code), or a
    checkpoint that cannot be read: `--out` cannot be used as given (exit status 2)."""


@dataclass(frozen=True)
class RunIdentity:
    """Everything that makes two runs the same run (see the module docstring)."""

    config: dict[str, Any]
    model: str | None
    dataset: str | None
    editor_code: str | None

    @classmethod
    def of(cls, config: Any, model: str | None, dataset: str | None, editor_code: str | None) -> RunIdentity:
        return cls(comparable(config.to_dict()), model, dataset, editor_code)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def differences(self, saved: dict[str, Any]) -> list[str]:
        """What differs from an identity read back from a run folder, one phrase each."""
        diffs = config_difference(saved.get("config", {}), self.config)
        names = {"model": "model content", "dataset": "dataset content", "editor_code": "editor code"}
        for key, label in names.items():
            if saved.get(key) != getattr(self, key):
                diffs.append(f"{label} {getattr(self, key)!r} now, {saved.get(key)!r} in the run folder")
        return diffs


def comparable(config: dict[str, Any]) -> dict[str, Any]:
    """The settings that must match to resume (JSON-normalised: tuples become lists)."""
    data = json.loads(json.dumps(config, default=str))
    return {k: v for k, v in data.items() if k not in VOLATILE}


def config_difference(saved: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """`setting 'seed': 1 now, 0 in the run folder` for every differing setting."""
    a, b = comparable(saved), comparable(now)
    return [
        f"setting {key!r}: {b.get(key)!r} now, {a.get(key)!r} in the run folder"
        for key in sorted(set(a) | set(b))
        if a.get(key) != b.get(key)
    ]


def mismatch(run_dir: Path, diffs: list[str]) -> ResumeError:
    shown = "; ".join(diffs[:5]) + (f"; and {len(diffs) - 5} more" if len(diffs) > 5 else "")
    return ResumeError(
        f"--out: run folder {run_dir} holds another run ({shown}); rerun with the same settings, model, "
        "dataset and editor to resume it, or pass --overwrite (or another --out) to start afresh"
    )


def read_identity(path: Path) -> dict[str, Any]:
    try:
        data = read_json(path)
    except ToolkitError as exc:
        raise ResumeError(f"{exc}; use --overwrite to start afresh") from None
    if "identity" not in data:  # a run folder of an older version: its config is what it has
        return {"config": data.get("config", {}), "model": None, "dataset": None, "editor_code": None}
    return data["identity"]


def run_dir_state(run_dir: Path, identity: RunIdentity) -> str:
    """ "fresh" (absent or empty), "resume" (a checkpoint of this run) or "complete" (this run, done).

    Another run's folder, or a non-empty folder that is no run, is a ResumeError."""
    from harness.protocol.checkpoint import CHECKPOINT_DIR, CHECKPOINT_FILE
    from harness.report.results import RESULTS_FILE

    if not run_dir.exists() or not any(run_dir.iterdir()):
        return "fresh"
    for path, state in (
        (run_dir / CHECKPOINT_DIR / CHECKPOINT_FILE, "resume"),
        (run_dir / RESULTS_FILE, None),
    ):
        if not path.is_file():
            continue
        diffs = identity.differences(read_identity(path))
        if diffs:
            raise mismatch(run_dir, diffs)
        if state is not None:
            return state
        if read_json(path).get("status") == "complete":
            return "complete"
    raise ResumeError(
        f"--out: run folder {run_dir} exists and is not empty, and holds no resumable run "
        "(use --overwrite or another --out)"
    )


def clear(run_dir: Path) -> None:
    """`--overwrite`: remove the folder's contents."""
    if run_dir.exists():
        shutil.rmtree(run_dir)


def run_dir_for(out: str | Path, config: Any) -> Path:
    """Default run folder under `out`: editor, folders and seed."""
    name = config.editor_name.replace(":", "_").replace("/", "_").replace(".py", "")
    return Path(out) / f"{name}-f{config.folders}-s{config.seed}"
