"""How far the reference dropout (`model`, full path) and the cached default (`patch`) lie apart (issue 5).

    python benchmarks/dropout_gap.py [--seeds 5] [--editors tpatcher,mpn] [--folders 2] [--max-edits N]
        [--json-out FILE]

The reference trains every patch with the model in train mode, so the 8 copies of an edit differ
through dropout in every layer; cached [CLS] vectors cannot reproduce that, so the harness records
dropout as a setting: `none` (eval mode), `patch` (dropout on the patch's input vector only: the
cached default) and `model` (the reference; full path only). This script runs each editor under each
setting over several run seeds on the tiny trained model of the harness tests (tests/harness/
harness.data.tiny: a 128-hidden BERT trained on a tiny XFEVER-shaped folder of the bundled FEVER sample,
pseudo-translations in de/fr/es) and prints, per metric, mean and standard deviation over seeds per
setting and the gap `model - patch` (and `model - none`).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

DROPOUTS = ("model", "patch", "none")
METRICS = ("reliability", "edit_success", "mlg", "clg_avg", "locality_train", "locality_test", "patch_num")


def build_tiny(root: Path) -> tuple[Path, Path]:
    """The tiny XFEVER folder and the tiny trained BERT, exactly as the `tiny_model` fixture makes them."""
    from harness.data.tiny import train_tiny_model, write_tiny_xfever
    from xfever.data import sample_path

    rows = [json.loads(line) for line in sample_path().read_text(encoding="utf-8").splitlines()]
    dataset = write_tiny_xfever(root / "tiny", rows)
    return dataset, train_tiny_model(dataset, rows, root / "base", root / "trained")


def run_one(
    model: Path, dataset: Path, editor: str, dropout: str, seed: int, folders: int, max_edits: int | None
) -> dict:
    from harness import evaluate
    from harness.config import EvalConfig

    config = EvalConfig(
        model=str(model),
        dataset=str(dataset),
        editor=editor,
        folders=folders,
        max_edits=max_edits,
        seed=seed,
        dropout=dropout,
        progress=False,
    )
    started = time.perf_counter()
    result = evaluate(config)
    values = {key: entry["value"] for key, entry in result.metrics.items() if "value" in entry}
    return {
        "editor": editor,
        "dropout": dropout,
        "seed": seed,
        "path": result.path,
        "metrics": values,
        "seconds": time.perf_counter() - started,
    }


def summarize(runs: list[dict], editors: list[str]) -> list[dict]:
    """One row per (editor, metric): mean and stdev per dropout setting, and the gaps."""
    table = []
    for editor in editors:
        for metric in METRICS:
            row: dict = {"editor": editor, "metric": metric}
            for dropout in DROPOUTS:
                vals = [
                    r["metrics"].get(metric) for r in runs if (r["editor"], r["dropout"]) == (editor, dropout)
                ]
                vals = [v for v in vals if v is not None]
                if vals:
                    row[dropout] = (statistics.mean(vals), statistics.pstdev(vals))
            if "model" in row and "patch" in row:
                row["gap_patch"] = row["model"][0] - row["patch"][0]
            if "model" in row and "none" in row:
                row["gap_none"] = row["model"][0] - row["none"][0]
            table.append(row)
    return table


def markdown(table: list[dict]) -> str:
    def cell(v) -> str:
        return "" if v is None else f"{v[0]:.3f} ± {v[1]:.3f}"

    lines = [
        "| editor | metric | model (full, reference) | patch (cached default) | none "
        "| model − patch | model − none |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for row in table:
        gaps = [f"{row[k]:+.3f}" if k in row else "" for k in ("gap_patch", "gap_none")]
        cells = [cell(row.get(d)) for d in DROPOUTS]
        lines.append(f"| {row['editor']} | {row['metric']} | " + " | ".join(cells + gaps) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--editors", default="tpatcher,mpn")
    parser.add_argument("--folders", type=int, default=2)
    parser.add_argument("--max-edits", type=int, default=None, help="first N edit rows only (quick runs)")
    parser.add_argument("--json-out")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(1)  # tiny tensors: one thread is fastest
    editors = args.editors.split(",")
    runs: list[dict] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        dataset, model = build_tiny(Path(tmp))
        # Seeds outermost: an interrupted run still has every setting for the seeds it finished.
        for seed in range(args.seeds):
            for editor in editors:
                for dropout in DROPOUTS:
                    runs.append(run_one(model, dataset, editor, dropout, seed, args.folders, args.max_edits))
                    done = runs[-1]
                    print(
                        f"seed {seed} {editor} {dropout} ({done['path']}): {done['seconds']:.0f} s",
                        file=sys.stderr,
                        flush=True,
                    )
                    report = make_report(runs, editors, args, started)
                    if args.json_out:
                        write_json(Path(args.json_out), report)
    print(markdown(report["table"]))
    paths = ", ".join(sorted({f"{r['dropout']}={r['path']}" for r in runs}))
    print(f"\n{len(runs)} runs in {report['seconds']:.0f} s; paths: {paths}")


def make_report(runs: list[dict], editors: list[str], args: argparse.Namespace, started: float) -> dict:
    return {
        "seeds": args.seeds,
        "folders": args.folders,
        "max_edits": args.max_edits,
        "editors": editors,
        "runs": runs,
        "table": summarize(runs, editors),
        "seconds": time.perf_counter() - started,
    }


def write_json(path: Path, report: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


if __name__ == "__main__":
    main()
