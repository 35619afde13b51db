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
import sys
import tempfile
import time
from pathlib import Path

PRESETS = ("reference", "fast")


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
    from variants import Variants, build_tiny

    from harness.editors.options import parse_options

    torch.set_num_threads(1)
    options = parse_options(args.editor_opt)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        model, dataset = args.model, args.dataset
        if model is None:
            data_dir, model_dir = build_tiny(Path(tmp))
            model, dataset = str(model_dir), str(data_dir)
        bench = Variants(
            model=model,
            dataset=dataset,
            editors=args.editors.split(","),
            variants={p: {"editor_options": options | {"preset": p}} for p in PRESETS},
            seeds=args.seeds,
            common={
                "folders": args.folders,
                "max_edits": args.max_edits,
                "bootstrap_resamples": 100,
                "device": args.device,
            },
            diffs=[PRESETS],
        )
        out = Path(args.json_out) if args.json_out else None
        # after every run: an interrupted benchmark keeps what it measured
        bench.run(on_run=(lambda b: b.write(out, {"args": vars(args)}, started)) if out else None)
    print(bench.markdown())
    seconds = time.perf_counter() - started
    print(f"\n{len(bench.runs)} runs in {seconds:.0f} s; model {model}; dataset {dataset}")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
