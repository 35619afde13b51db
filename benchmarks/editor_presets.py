"""How far the editors' two presets lie apart: `reference` (the public T-Patcher code) vs `fast` (issue 18).

    python benchmarks/editor_presets.py [--model DIR --dataset DIR] [--seeds 5] [--editors tpatcher]
        [--folders 1] [--max-edits N] [--editor-opt KEY=VALUE ...] [--json-out FILE]

Each editor runs under `--editor-opt preset=reference` and `preset=fast` (with each preset's run
settings: reference trains in train mode on the full path, rows without rephrases dropped, random
folders) over `--seeds` run seeds, and the script prints per metric the mean ± standard deviation
over seeds of each preset and the difference `reference - fast`: reliability, edit success, MLG,
CLG average, locality (train / test), mean optimisation steps per edit and seconds per run.

Without `--model` / `--dataset` it builds the tiny trained model and dataset of the harness tests
(harness.data.tiny); any model and `xfever build` folder works the same (the synthetic
testbed of issue 18 plugs in here). Note that the presets differ in the rows they edit (reference
drops rows without rephrases), so their reliability is over different rows: the table says how
many rows each scored.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

PRESETS = ("reference", "fast")
METRICS = (
    "reliability", "edit_success", "mlg", "clg_avg", "locality_train", "locality_test", "patch_num",
)  # fmt: skip
EXTRA = ("mean_steps", "seconds", "edit_rows")


def run_one(model: str, dataset: str, editor: str, preset: str, seed: int, args: argparse.Namespace) -> dict:
    from harness import evaluate
    from harness.config import EvalConfig
    from harness.editors.options import parse_options

    options = parse_options(args.editor_opt) | {"preset": preset}
    config = EvalConfig(
        model=model,
        dataset=dataset,
        editor=editor,
        editor_options=options,
        folders=args.folders,
        max_edits=args.max_edits,
        seed=seed,
        progress=False,
        bootstrap_resamples=100,
        device=args.device,
    )
    started = time.perf_counter()
    result = evaluate(config)
    seconds = time.perf_counter() - started
    needed = [s for s in result.steps if s.get("needed")]
    metrics = {k: result.metric(k) for k in METRICS}
    metrics["mean_steps"] = statistics.mean(s["steps"] for s in needed) if needed else 0.0
    metrics["seconds"] = seconds
    metrics["edit_rows"] = len({s["id"] for s in result.steps})
    return {"editor": editor, "preset": preset, "seed": seed, "path": result.path, "metrics": metrics}


def summarize(runs: list[dict], editors: list[str]) -> list[dict]:
    table = []
    for editor in editors:
        for metric in METRICS + EXTRA:
            row: dict = {"editor": editor, "metric": metric}
            for preset in PRESETS:
                vals = [
                    r["metrics"][metric]
                    for r in runs
                    if (r["editor"], r["preset"]) == (editor, preset) and r["metrics"].get(metric) is not None
                ]
                if vals:
                    row[preset] = (statistics.mean(vals), statistics.pstdev(vals), len(vals))
            if all(p in row for p in PRESETS):
                row["diff"] = row["reference"][0] - row["fast"][0]
            table.append(row)
    return table


def markdown(table: list[dict]) -> str:
    def cell(v) -> str:
        return "" if v is None else f"{v[0]:.3f} ± {v[1]:.3f}"

    lines = [
        "| editor | metric | reference | fast | reference − fast |",
        "|---|---|---:|---:|---:|",
    ]
    for row in table:
        diff = f"{row['diff']:+.3f}" if "diff" in row else ""
        lines.append(
            f"| {row['editor']} | {row['metric']} | {cell(row.get('reference'))} | {cell(row.get('fast'))} "
            f"| {diff} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="classifier (Hub id or folder) [default: the tests' tiny model]")
    parser.add_argument("--dataset", help="XFEVER folder or Hub id [default: the tests' tiny dataset]")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--editors", default="tpatcher")
    parser.add_argument("--folders", type=int, default=1)
    parser.add_argument("--max-edits", type=int, default=None, help="first N edit rows only (quick runs)")
    parser.add_argument("--editor-opt", action="append", default=[], help="KEY=VALUE for both presets")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--json-out")
    args = parser.parse_args()
    if (args.model is None) != (args.dataset is None):
        parser.error("give both --model and --dataset, or neither (the tests' tiny pair)")

    import torch

    torch.set_num_threads(1)
    editors = args.editors.split(",")
    runs: list[dict] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        model, dataset = args.model, args.dataset
        if model is None:
            from dropout_gap import build_tiny  # the tests' tiny dataset and model

            data_dir, model_dir = build_tiny(Path(tmp))
            model, dataset = str(model_dir), str(data_dir)
        for seed in range(args.seeds):  # seeds outermost: an interrupted run has both presets per seed
            for editor in editors:
                for preset in PRESETS:
                    runs.append(run_one(model, dataset, editor, preset, seed, args))
                    done = runs[-1]
                    print(
                        f"seed {seed} {editor} {preset} ({done['path']}): {done['metrics']['seconds']:.1f} s",
                        file=sys.stderr,
                        flush=True,
                    )
                    if args.json_out:  # after every run: an interrupted benchmark keeps what it measured
                        write_report(Path(args.json_out), args, runs, editors, started)
    table = summarize(runs, editors)
    print(markdown(table))
    seconds = time.perf_counter() - started
    print(f"\n{len(runs)} runs in {seconds:.0f} s; model {model}; dataset {dataset}")
    if args.json_out:
        write_report(Path(args.json_out), args, runs, editors, started)


def write_report(
    path: Path, args: argparse.Namespace, runs: list[dict], editors: list[str], started: float
) -> None:
    report = {"args": vars(args), "runs": runs, "table": summarize(runs, editors)}
    report["seconds"] = time.perf_counter() - started
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
