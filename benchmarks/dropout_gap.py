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
import tempfile
import time
from pathlib import Path

DROPOUTS = ("model", "patch", "none")
HEADERS = {"model": "model (full, reference)", "patch": "patch (cached default)"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--editors", default="tpatcher,mpn")
    parser.add_argument("--folders", type=int, default=2)
    parser.add_argument("--max-edits", type=int, default=None, help="first N edit rows only (quick runs)")
    parser.add_argument("--json-out")
    args = parser.parse_args()

    import torch
    from variants import Variants, build_tiny

    torch.set_num_threads(1)  # tiny tensors: one thread is fastest
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        dataset, model = build_tiny(Path(tmp))
        bench = Variants(
            model=str(model),
            dataset=str(dataset),
            editors=args.editors.split(","),
            variants={d: {"dropout": d} for d in DROPOUTS},
            seeds=args.seeds,
            common={"folders": args.folders, "max_edits": args.max_edits},
            diffs=[("model", "patch"), ("model", "none")],
        )
        out = Path(args.json_out) if args.json_out else None
        bench.run(on_run=(lambda b: b.write(out, {"args": vars(args)}, started)) if out else None)
    print(bench.markdown(HEADERS))
    paths = ", ".join(sorted({f"{r['variant']}={r['path']}" for r in bench.runs}))
    print(f"\n{len(bench.runs)} runs in {time.perf_counter() - started:.0f} s; paths: {paths}")


if __name__ == "__main__":
    main()
