"""The paper's findings on the testbed over several seeds and torch thread counts, with margins.

    PYTHONPATH=. python benchmarks/testbed_findings.py --seeds 0,1,2 --threads 1 --max-edits 60 \
        --workdir /tmp/testbed-findings --json-out findings.json

Builds one testbed per seed (harness.testbed: synthetic languages, tiny model), runs T-Patcher, MPN
and MPN-all in `--folders` folders and FT and T-Patcher with the edits in one sequence, at their
default settings through `harness eval` (harness.testbed.findings.run_findings), and prints each
finding's margin. The regression test (tests/harness/test_findings.py) asserts them.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--max-edits", type=int, default=None)
    parser.add_argument("--folders", type=int, default=20)
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--json-out")
    args = parser.parse_args()

    import torch

    from harness.testbed import CLOSE, FAR, TestbedSettings, build_testbed
    from harness.testbed.findings import as_dicts, findings, run_findings, table

    torch.set_num_threads(args.threads)
    report = {"threads": args.threads, "max_edits": args.max_edits, "folders": args.folders, "seeds": {}}
    for seed in (int(s) for s in args.seeds.split(",")):
        root = Path(args.workdir) / f"seed{seed}-t{args.threads}"
        clock = time.perf_counter()
        testbed = build_testbed(root, TestbedSettings(seed=seed), overwrite=True)
        built = time.perf_counter() - clock
        runs = run_findings(
            testbed.model,
            testbed.dataset,
            root / "runs",
            seed=seed,
            max_edits=args.max_edits,
            folders=args.folders,
        )
        result = findings(runs, CLOSE, FAR)
        seconds = {"build": round(built, 1), "eval": round(time.perf_counter() - clock - built, 1)}
        print(f"seed {seed} ({args.threads} threads; {seconds}):\n{table(result)}\n", flush=True)
        report["seeds"][seed] = {"seconds": seconds, "findings": as_dicts(result)}
        if args.json_out:
            Path(args.json_out).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
