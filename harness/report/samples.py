"""The per-sample log of a run: rows.parquet, and the original model's records beside the edited ones.

rows.parquet holds one record per scored text and evaluated model (see `harness.report.scoring`):
`model` (`original` | `edited`), `folder` (-1 for the original model), `metric` (the metric group:
`reliability`, `mlg`, `clg_<lang>`, `clg_rephrase_<lang>`, `locality_<split>`), `row_id` (the edit
row's id; `<id>#<k>` for its k-th rephrase; a locality row's own id), `correct`, `lang`, `gold`,
`pred`, `prob_gold`, and from steps.jsonl `needed_edit` (the edit row was mispredicted when its turn
came, so the editor was asked) and `edited` (... and the editor changed the model), both null for
locality rows. `before_after` pairs each edited record with the original model's record of the same
text, which is how EasyEdit reports pre/post.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from common.errors import ToolkitError
from harness.report.scoring import COLUMNS, SAMPLE_COLUMNS, RowRecords

EDIT_FLAGS = ("needed_edit", "edited")
PAIR_KEYS = ("metric", "row_id")
SHARED = ("lang", "gold")  # the same for both records of a text


def edit_flags(steps: Sequence[dict[str, Any]]) -> dict[str, tuple[bool, bool]]:
    """Edit row id -> (needed an edit, was edited) from steps.jsonl lines."""
    return {
        str(s["id"]): (bool(s.get("needed")), bool(s.get("needed")) and bool(s.get("edited"))) for s in steps
    }


def frame(rows: RowRecords, steps: Sequence[dict[str, Any]]) -> Any:
    """rows.parquet as a DataFrame: the records plus `needed_edit` / `edited` from the steps."""
    out = rows.to_frame()
    flags = edit_flags(steps)
    # null for locality rows, and for edit rows no step reached (a failed run's unfinished folders)
    found = [
        None if key.startswith("locality_") else flags.get(rid.split("#")[0])
        for key, rid in zip(rows.metric, rows.row_id, strict=True)
    ]
    for i, name in enumerate(EDIT_FLAGS):
        out[name] = [None if f is None else f[i] for f in found]
    return out


def load_samples(run_dir: str | Path) -> Any:
    """rows.parquet of a run folder as a DataFrame (version-1 files lack the per-sample columns)."""
    import pandas as pd

    from harness.report.results import ROWS_FILE

    path = Path(run_dir) / ROWS_FILE
    if not path.is_file():
        raise ToolkitError(f"{run_dir}: no {ROWS_FILE} (not a finished harness run)")
    data = pd.read_parquet(path)
    missing = [c for c in COLUMNS if c not in data.columns]
    if missing:
        raise ToolkitError(f"{path}: missing column(s) {missing}")
    return data


def before_after(samples: Any) -> Any:
    """One row per edited record with the original model's record of the same text beside it:
    `<column>_before` / `<column>_after` for `correct`, `pred`, `prob_gold`. A locality row appears
    once per folder (each folder's edited model), an edit row once (the folder that edited it)."""
    import pandas as pd

    if not isinstance(samples, pd.DataFrame):
        samples = load_samples(samples)
    if not set(SAMPLE_COLUMNS) <= set(samples.columns):
        raise ToolkitError("before_after: rows.parquet has no per-sample columns (a version-1 run)")
    changing = ["correct", "pred", "prob_gold"]
    before = samples[samples.model == "original"][[*PAIR_KEYS, *changing]]
    after = samples[samples.model == "edited"]
    keep = [*PAIR_KEYS, "folder", *SHARED, *changing, *(c for c in EDIT_FLAGS if c in samples.columns)]
    paired = after[keep].merge(before, on=list(PAIR_KEYS), how="left", suffixes=("_after", "_before"))
    order = [*PAIR_KEYS, "folder", *SHARED, *(c for c in EDIT_FLAGS if c in samples.columns)]
    order += [f"{c}_{when}" for c in changing for when in ("before", "after")]
    return paired[order].reset_index(drop=True)
