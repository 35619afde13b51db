"""`reproduce(table, model, dataset, out)`: the editor matrix of one of the paper's tables, then its
leaderboard with the paper's rows beside ours.

Table 1: XFEVER; Table 2: XNLI (`--task xnli`); Table 3: XFEVER restricted to the edit rows the
original model gets wrong in every language (`--subset all-wrong`). Rerunning the same command
skips the runs that finished and resumes a partial one from its checkpoint (`harness eval`'s
rules). The texts are encoded once for the whole matrix: the runs share the on-disk [CLS] cache
(`--cache-dir`, default `OUT/cache`; keyed by model and dataset revision, split, max_length and
encoding dtype), so only the first run of a matrix encodes. Every run scores the original
model too, so the table's "Original model" row needs no run of its own. Run folders go to
`OUT/runs/<editor>`, the leaderboard to `OUT`, and `OUT/reproduce.json` records what was run.

Every run uses the editor preset `preset` (default `reference`: the public Transformer-Patcher
code's behaviour, harness.editors.presets; `fast` for the harness's quicker default), and the run
settings of that preset (reference: train-mode dropout in every layer, so the full path) for every
editor alike, so that the table's runs score the same rows.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from common.errors import UsageError
from common.io import write_json_atomic
from common.provenance import provenance
from harness.config import EvalConfig
from harness.report.results import SCHEMA_VERSION

log = logging.getLogger(__name__)

TASKS = {1: ("xfever", None), 2: ("xnli", None), 3: ("xfever", "all-wrong")}
RUNS_DIR, RECORD_FILE, CACHE_DIR = "runs", "reproduce.json", "cache"
MPN_EDITORS = ("mpn", "mpn-all", "ft-mpn")


def table_editors(table: int) -> tuple[str, ...]:
    """The editors of the paper's rows of `table` (Table 1: ft, tpatcher, mpn, mpn-all; 2, 3: no mpn-all)."""
    from harness.report.paper import paper_table

    return tuple(row.editor for row in paper_table(table) if row.editor != "none")


def table_config(table: int, model: str, dataset: str | None, **settings: Any) -> EvalConfig:
    """The settings shared by a table's runs (editor set per run); the task's defaults are EvalConfig's."""
    if table not in TASKS:
        raise UsageError(f"--table: the paper has Tables 1, 2 and 3; got {table}")
    task, subset = TASKS[table]
    if dataset is None and task != "xnli":
        raise UsageError(f"--dataset: required for Table {table} (an XFEVER Hub id or folder)")
    return EvalConfig(model=model, dataset=dataset, task=task, subset=subset, **settings)


def reproduce(
    table: int,
    base: EvalConfig,
    out_dir: str | Path,
    *,
    editors: Sequence[str] | None = None,
    overwrite: bool = False,
    train_langs: Sequence[str] | None = None,
    preset: str = "reference",
) -> dict[str, Path]:
    """Run every editor of `table` with `base`'s settings; write the leaderboard (+ paper rows).

    `train_langs` restricts the MPN editors (mpn, mpn-all) to those languages: the table then also
    reports seen / held-out CLG."""
    from harness.config import AUTO, RUN_CHOICES
    from harness.editors.presets import PRESETS, run_settings_for
    from harness.editors.registry import BUILTINS
    from harness.protocol.run import evaluate
    from harness.report.leaderboard import leaderboard

    if preset not in PRESETS:
        raise UsageError(f"--preset: expected one of {PRESETS}, got {preset!r}")
    run_level = {k: v for k, v in run_settings_for(preset).items() if getattr(base, k) == AUTO}
    base = replace(base, **{k: v for k, v in run_level.items() if k in RUN_CHOICES})
    out = Path(out_dir)
    if base.cache_dir is None:  # encode once, share the vectors across the matrix
        base = replace(base, cache_dir=str(out / CACHE_DIR))
    editors = tuple(editors or table_editors(table))
    run_dirs = [out / RUNS_DIR / name.replace(":", "_").replace("/", "_") for name in editors]
    record: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "table": table,
        "config": base.to_dict(),
        "train_langs": list(train_langs) if train_langs else None,
        "encoding_cache": _shown(Path(base.cache_dir), out),
        "preset": preset,
        "runs": [],
        "provenance": provenance(),
    }
    configs = []
    for editor, run_dir in zip(editors, run_dirs, strict=True):
        options = dict(base.editor_options)
        if train_langs and editor in MPN_EDITORS:
            options["train_langs"] = ",".join(train_langs)
        if editor in BUILTINS and editor != "none":
            options.setdefault("preset", preset)
        configs.append(replace(base, editor=editor, editor_options=options, out_dir=str(run_dir)))
    if base.executor != "local":  # every editor's folders submitted at once
        from harness.protocol.distributed import evaluate_runs

        started = time.perf_counter()
        results = evaluate_runs(configs, overwrite=overwrite)
        seconds = [round(time.perf_counter() - started, 3)] * len(configs)  # they ran together
    else:
        results, seconds = [], []
        for config in configs:
            log.info("Table %d: editor %s -> %s", table, config.editor_name, config.out_dir)
            started = time.perf_counter()
            results.append(evaluate(config, overwrite=overwrite))  # a finished run is reused
            seconds.append(round(time.perf_counter() - started, 3))
    for config, result, secs in zip(configs, results, seconds, strict=True):
        entry = {"editor": config.editor_name, "run": f"{RUNS_DIR}/{Path(config.out_dir).name}"}
        encoding = result.provenance.get("encoding") or {}
        entry |= {"seconds": secs, "encoded_now": encoding.get("encoded_now"), "origin": result.origin}
        record["runs"].append(entry)
        log.info("editor %s: reliability %.4f", config.editor_name, result.metric("reliability") or 0.0)
    paths = leaderboard(run_dirs, out, compare_paper=True, table=table)
    paths["record"] = out / RECORD_FILE
    write_json_atomic(paths["record"], record)
    return paths


def _shown(path: Path, out: Path) -> str:
    """`path` relative to the reproduce folder when inside it (no machine-specific prefix)."""
    try:
        return str(path.resolve().relative_to(out.resolve()))
    except ValueError:
        return str(path)
