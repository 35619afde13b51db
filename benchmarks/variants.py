"""Editor variants over run seeds: one `harness eval` per (seed, editor, variant), mean ± stdev per
variant, differences between variants, a markdown table and a JSON report written after every run.

The shared engine of benchmarks/editor_presets.py (variants = the presets `reference` / `fast`) and
benchmarks/dropout_gap.py (variants = the dropout settings `model` / `patch` / `none`); a variant is a
name and the EvalConfig fields it sets. `build_tiny` makes the harness tests' tiny model and dataset
for runs without a model of their own.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

METRICS = ("reliability", "edit_success", "mlg", "clg_avg", "locality_train", "locality_test", "patch_num")
EXTRA = ("mean_steps", "seconds", "edit_rows")  # from the run's steps and clock, not its metrics


def build_tiny(root: Path) -> tuple[Path, Path]:
    """The tiny XFEVER folder and the tiny trained BERT, exactly as the `tiny_model` fixture makes them."""
    from harness.data.tiny import train_tiny_model, write_tiny_xfever
    from xfever.data import sample_path

    rows = [json.loads(line) for line in sample_path().read_text(encoding="utf-8").splitlines()]
    dataset = write_tiny_xfever(root / "tiny", rows)
    return dataset, train_tiny_model(dataset, rows, root / "base", root / "trained")


@dataclass
class Variants:
    """What to run: `variants` maps a name to the EvalConfig fields it sets; `common` holds the
    fields every run shares (folders, max_edits, ...); `diffs` the (a, b) pairs whose mean a - b
    the table shows."""

    model: str
    dataset: str
    editors: Sequence[str]
    variants: Mapping[str, Mapping[str, Any]]
    seeds: int
    common: Mapping[str, Any] = field(default_factory=dict)
    diffs: Sequence[tuple[str, str]] = ()
    runs: list[dict] = field(default_factory=list)

    def run(self, on_run: Callable[[Variants], None] | None = None) -> list[dict]:
        """Seeds outermost: an interrupted benchmark still has every variant of the seeds it finished."""
        for seed in range(self.seeds):
            for editor in self.editors:
                for name, fields in self.variants.items():
                    self.runs.append(self._one(editor, name, fields, seed))
                    done = self.runs[-1]
                    print(
                        f"seed {seed} {editor} {name} ({done['path']}): {done['metrics']['seconds']:.1f} s",
                        file=sys.stderr,
                        flush=True,
                    )
                    if on_run is not None:
                        on_run(self)
        return self.runs

    def _one(self, editor: str, name: str, fields: Mapping[str, Any], seed: int) -> dict:
        from harness import evaluate
        from harness.config import EvalConfig

        config = EvalConfig(
            model=self.model,
            dataset=self.dataset,
            editor=editor,
            seed=seed,
            progress=False,
            **{**self.common, **fields},
        )
        started = time.perf_counter()
        result = evaluate(config)
        seconds = time.perf_counter() - started
        needed = [s for s in result.steps if s.get("needed")]
        metrics: dict[str, Any] = {k: result.metric(k) for k in METRICS}
        metrics["mean_steps"] = statistics.mean(s["steps"] for s in needed) if needed else 0.0
        metrics["seconds"] = seconds
        metrics["edit_rows"] = len({s["id"] for s in result.steps})
        return {"editor": editor, "variant": name, "seed": seed, "path": result.path, "metrics": metrics}

    def table(self) -> list[dict]:
        """One row per (editor, metric): (mean, stdev, n) per variant, and each difference of means."""
        rows = []
        for editor in self.editors:
            for metric in METRICS + EXTRA:
                row: dict[str, Any] = {"editor": editor, "metric": metric}
                for name in self.variants:
                    mine = [r for r in self.runs if (r["editor"], r["variant"]) == (editor, name)]
                    vals = [r["metrics"][metric] for r in mine if r["metrics"].get(metric) is not None]
                    if vals:
                        row[name] = (statistics.mean(vals), statistics.pstdev(vals), len(vals))
                for a, b in self.diffs:
                    if a in row and b in row:
                        row[f"{a} - {b}"] = row[a][0] - row[b][0]
                rows.append(row)
        return rows

    def markdown(self, headers: Mapping[str, str] | None = None) -> str:
        """The table in markdown; `headers` renames variant columns (say `model` -> `model (full)`)."""
        names = list(self.variants)
        diffs = [f"{a} - {b}" for a, b in self.diffs]
        shown = [(headers or {}).get(n, n) for n in names] + [d.replace(" - ", " − ") for d in diffs]
        lines = [
            "| editor | metric | " + " | ".join(shown) + " |",
            "|---|---|" + "---:|" * len(shown),
        ]
        for row in self.table():
            cells = [f"{row[n][0]:.3f} ± {row[n][1]:.3f}" if n in row else "" for n in names]
            cells += [f"{row[d]:+.3f}" if d in row else "" for d in diffs]
            lines.append(f"| {row['editor']} | {row['metric']} | " + " | ".join(cells) + " |")
        return "\n".join(lines)

    def write(self, path: Path, extra: Mapping[str, Any], started: float) -> None:
        """The report (settings, every run, the table) to `path`, written to a temporary name first."""
        report = {**extra, "runs": self.runs, "table": self.table(), "seconds": time.perf_counter() - started}
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, path)
