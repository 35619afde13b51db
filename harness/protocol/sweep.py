"""`sweep(spec, base, out)`: a grid of editors x seeds x editor-option values, one run each, all runs'
folders submitted at once (`--executor ray`: harness.protocol.distributed), then one leaderboard per
comparable group of runs (harness.report.comparable: runs that scored the same rows the same way).

Run folders go to `OUT/runs/<editor>-s<seed>[-KEY=VALUE...]`, leaderboards to
`OUT/leaderboards/<group>/`, and `OUT/sweep.json` records the grid, the runs and the groups.
Rerunning the same command reuses finished runs and resumes partial ones (`harness eval`'s rules).
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common.errors import UsageError
from common.io import write_json_atomic
from common.provenance import provenance
from harness.config import EvalConfig
from harness.report.results import SCHEMA_VERSION

log = logging.getLogger(__name__)

RUNS_DIR, BOARDS_DIR, RECORD_FILE = "runs", "leaderboards", "sweep.json"


@dataclass(frozen=True)
class SweepSpec:
    """The grid: every editor x seed x combination of the option values in `grid`."""

    editors: tuple[str, ...]
    seeds: tuple[int, ...] = (0,)
    grid: dict[str, tuple[Any, ...]] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "sweep") -> SweepSpec:
        unknown = sorted(set(data) - {"editors", "seeds", "grid"})
        if unknown:
            raise UsageError(f"{where}: unknown key(s) {unknown}; known: editors, seeds, grid")
        editors = _items(data.get("editors"), str)
        if not editors:
            raise UsageError(f"{where}: 'editors' needs at least one editor")
        seeds = _items(data.get("seeds", [0]), int)
        grid = data.get("grid") or {}
        if not isinstance(grid, dict):
            raise UsageError(f"{where}: 'grid' must map editor options to lists of values")
        values = {str(k): tuple(v) if isinstance(v, list | tuple) else (v,) for k, v in grid.items()}
        empty = [k for k, v in values.items() if not v]
        if empty:
            raise UsageError(f"{where}: grid option(s) {empty} have no values")
        return cls(tuple(editors), tuple(seeds), values)

    def points(self) -> list[tuple[str, int, dict[str, Any]]]:
        """(editor, seed, options) of every run, in grid order."""
        keys = list(self.grid)
        combos = [dict(zip(keys, vals, strict=True)) for vals in itertools.product(*self.grid.values())]
        return [(e, s, c) for e in self.editors for s in self.seeds for c in combos]


def _items(value: Any, kind: type) -> list[Any]:
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    try:
        return [kind(str(v).strip()) if kind is int else str(v).strip() for v in items if str(v).strip()]
    except ValueError as exc:
        raise UsageError(f"sweep: {exc}") from None


def parse_grid(values: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """`("max_steps=10,20", "lr=1e-3")` -> {"max_steps": ("10", "20"), "lr": ("1e-3",)}."""
    grid: dict[str, tuple[str, ...]] = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key.strip() or not rest.strip():
            raise UsageError(f"--grid: expected KEY=V1,V2,..., got {value!r}")
        grid[key.strip()] = tuple(v.strip() for v in rest.split(",") if v.strip())
    return grid


def run_name(editor: str, seed: int, options: dict[str, Any]) -> str:
    name = f"{editor}-s{seed}" + "".join(f"-{k}={v}" for k, v in options.items())
    return re.sub(r"[^A-Za-z0-9._=+-]", "_", name)


def sweep_configs(spec: SweepSpec, base: EvalConfig, out: Path) -> list[EvalConfig]:
    from harness.editors.options import parse_options

    configs, names = [], set()
    for editor, seed, options in spec.points():
        name = run_name(editor, seed, options)
        if name in names:
            raise UsageError(f"sweep: two runs would share the folder {name}; list each value once")
        names.add(name)
        merged = dict(base.editor_options) | parse_options([f"{k}={v}" for k, v in options.items()])
        run_dir = out / RUNS_DIR / name
        configs.append(base.replace(editor=editor, seed=seed, editor_options=merged, out_dir=str(run_dir)))
    return configs


def sweep(
    spec: SweepSpec, base: EvalConfig, out_dir: str | Path, *, overwrite: bool = False
) -> dict[str, Any]:
    """Run the grid (all folders at once with --executor ray), then a leaderboard per comparable group."""
    out = Path(out_dir)
    configs = sweep_configs(spec, base, out)
    if base.executor == "local":
        from harness.protocol.run import evaluate

        results = [evaluate(config, overwrite=overwrite) for config in configs]
    else:
        from harness.protocol.distributed import evaluate_runs

        results = evaluate_runs(configs, overwrite=overwrite)
    boards = leaderboards([Path(c.out_dir) for c in configs], out / BOARDS_DIR)
    record = {
        "schema_version": SCHEMA_VERSION,
        "grid": {"editors": list(spec.editors), "seeds": list(spec.seeds), "grid": spec.grid},
        "config": base.to_dict(),
        "runs": [
            {"run": f"{RUNS_DIR}/{Path(c.out_dir).name}", "editor": c.editor_name, "seed": c.seed}
            | {"editor_options": c.editor_options, "origin": r.origin}
            for c, r in zip(configs, results, strict=True)
        ],
        "groups": [
            {"group": tag, "leaderboard": f"{BOARDS_DIR}/{tag}", "runs": runs} for tag, runs in boards.items()
        ],
        "provenance": provenance(),
    }
    write_json_atomic(out / RECORD_FILE, record)
    return {"record": out / RECORD_FILE, "groups": boards}


def leaderboards(run_dirs: list[Path], out: Path) -> dict[str, list[str]]:
    """One leaderboard per comparable group of `run_dirs`: group tag -> its runs' folder names."""
    from harness.report.comparable import group_runs, identity
    from harness.report.leaderboard import leaderboard
    from harness.report.results import load_result

    identities = [identity(path, load_result(path)) for path in run_dirs]
    groups = {}
    for group in group_runs(identities):
        members = [run_dirs[i] for i in group.runs]
        leaderboard(members, out / group.tag)
        groups[group.tag] = [p.name for p in members]
    return groups
