"""Per-folder scoring of the locality rows with and without the run-long frozen-FFN memo (issue 15).

    python benchmarks/locality_memo.py [--rows 5000] [--folders 3] [--hidden 768] [--json-out FILE]

A one-layer BERT with mBERT's FFN shape (hidden 768, FFN 3,072; the layers below the last do not
matter on the cached path), `--rows` locality texts encoded once, then scored `--folders` times as
every folder's final model scores them, each folder after a few patches (the bank is cleared between
folders, as the protocol does). Side by side in one process: a view without `keep_frozen` (each
folder passes the FFN again) and one with it (the first folder fills the memo). Logits must agree
to float32 rounding; the table gives CPU seconds per folder after the first and the ratio.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--folders", type=int, default=3)
    parser.add_argument("--hidden", type=int, default=768)
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()

    import importlib.util

    import torch

    from harness.model.views import CachedView
    from xfever.data import sample_path

    spec = importlib.util.spec_from_file_location("encode_speed", Path(__file__).with_name("encode_speed.py"))
    encode_speed = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(encode_speed)
    torch.set_num_threads(1)
    claims = [json.loads(x)["input"] for x in sample_path().read_text(encoding="utf-8").splitlines()]
    texts = [(f"{claims[i % len(claims)]} {i}",) for i in range(args.rows)]
    with tempfile.TemporaryDirectory() as tmp:
        loaded = encode_speed.build(Path(tmp), [t[0] for t in texts], 1, args.hidden)
    plain, memo = CachedView(loaded, batch_size=64), CachedView(loaded, batch_size=64)
    plain.warm(texts)
    memo.cache_items().update(plain.cache_items())
    memo.keep_frozen(texts)
    gen = torch.Generator().manual_seed(0)
    keys = torch.randn(args.folders, 4, args.hidden, generator=gen) * 0.05
    cpu: dict[str, list[float]] = {"without memo": [], "with memo": []}
    worst = 0.0
    for folder in range(args.folders):
        logits = {}
        for name, view in (("without memo", plain), ("with memo", memo)):
            view.bank.clear()
            for key in keys[folder]:  # a few patches, as a folder's edits leave
                view.bank.start(key, -key, amp=1.0)
                view.bank.commit()
            start = time.process_time()
            logits[name] = view.logits(texts)
            cpu[name].append(time.process_time() - start)
        worst = max(worst, float((logits["without memo"] - logits["with memo"]).abs().max()))
    later = {k: sum(v[1:]) / max(1, len(v) - 1) for k, v in cpu.items()}
    report = {
        "shape": f"hidden {args.hidden}, FFN {4 * args.hidden}",
        "rows": args.rows,
        "folders": args.folders,
        "load": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
        "cpu_s_per_folder": {k: [round(x, 3) for x in v] for k, v in cpu.items()},
        "ratio_after_first_folder": round(later["without memo"] / later["with memo"], 2),
        "max_abs_logit_difference": worst,
    }
    print(json.dumps(report, indent=2))
    assert worst < 1e-4, worst
    if args.json_out:
        args.json_out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
