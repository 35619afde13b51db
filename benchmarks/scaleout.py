"""Scale-out: the same full-path run on the local executor and on Ray with N workers (issue 16).

    python benchmarks/scaleout.py [--workers 2] [--folders 4] [--max-edits 80] [--editor tpatcher]
        [--max-steps 50] [--json-out FILE]

A T-Patcher run on the full path (`cache=False`: every edit step runs the whole model) with 4
folders, on the tiny trained model of the harness tests (tests/harness/conftest.py), once with
`--executor local` (this process, torch's default threads), once with `--executor ray` on a private
Ray of `--workers` CPUs (one folder per worker, one torch thread each), and once more locally with
one torch thread (the local executor as each worker runs it). Ray is started and its workers warmed
up (torch, transformers' BERT and the harness imported) before the clock starts, as on a running
cluster; its workers run at niceness 0 like the local process (Ray's default is 15). The script
checks the three runs' metrics are equal, then prints wall time (whole run, and the editing phase)
and the ratios side by side, with the machine and its load average. Needs the `dist` extra.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from variants import build_tiny  # noqa: E402 - the harness tests' tiny model and dataset


def _warm() -> int:
    import torch  # noqa: F401
    import transformers.models.bert.modeling_bert  # noqa: F401

    import harness.protocol.distributed  # noqa: F401

    return os.getpid()


def run(model: Path, dataset: Path, out: Path, executor: str, args: argparse.Namespace) -> dict:
    from harness import evaluate
    from harness.config import EvalConfig

    config = EvalConfig(
        model=str(model),
        dataset=str(dataset),
        editor=args.editor,
        editor_options={"max_steps": args.max_steps},
        folders=args.folders,
        max_edits=args.max_edits,
        cache=False,
        progress=False,
        bootstrap_resamples=200,
        out_dir=str(out),
        executor=executor,
        retries=0,
    )
    started = time.perf_counter()
    result = evaluate(config)
    wall = time.perf_counter() - started
    edits = sum(1 for s in result.steps if s.get("edited"))
    return {
        "wall_s": round(wall, 2),
        "editing_s": result.timings["editing"],
        "edits": edits,
        "metrics": {k: v["value"] for k, v in result.metrics.items()},
    }


def machine() -> dict:
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads_local": torch.get_num_threads(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--folders", type=int, default=4)
    parser.add_argument("--max-edits", type=int, default=80)
    parser.add_argument("--editor", default="tpatcher")
    parser.add_argument("--max-steps", type=int, default=50, help="The editor's training steps per edit.")
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()
    import ray

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        dataset, model = build_tiny(root)
        # Ray runs its workers at niceness 15 by default; on a shared machine that alone would slow
        # them against the local run (niceness 0): both run at 0 here.
        os.environ.setdefault("RAY_worker_niceness", "0")
        ray.init(num_cpus=args.workers, include_dashboard=False, log_to_driver=False)
        warm = ray.remote(_warm)
        ray.get([warm.remote() for _ in range(args.workers * 2)])
        load_before = os.getloadavg()
        import torch

        local = run(model, dataset, root / "local", "local", args)
        distributed = run(model, dataset, root / "ray", "ray", args)
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # the local executor as each Ray worker runs: one torch thread
        local1 = run(model, dataset, root / "local1", "local", args)
        torch.set_num_threads(threads)
        load_after = os.getloadavg()
        ray.shutdown()
    if not local["metrics"] == distributed["metrics"] == local1["metrics"]:
        raise SystemExit("the two executors gave different metrics: not a fair comparison")
    report = {
        "run": {
            "editor": args.editor,
            "path": "full",
            "folders": args.folders,
            "max_edits": args.max_edits,
            "edits": local["edits"],
        },
        "machine": machine(),
        "ray_version": ray.__version__,
        "workers": args.workers,
        "load_avg_1_5_15": {
            "before": [round(x, 2) for x in load_before],
            "after": [round(x, 2) for x in load_after],
        },
        "local": {k: v for k, v in local.items() if k != "metrics"},
        "local_1_thread": {k: v for k, v in local1.items() if k != "metrics"},
        "ray": {k: v for k, v in distributed.items() if k != "metrics"},
        "speedup_wall": round(local["wall_s"] / distributed["wall_s"], 2),
        "speedup_editing": round(local["editing_s"] / distributed["editing_s"], 2),
        "speedup_wall_vs_1_thread": round(local1["wall_s"] / distributed["wall_s"], 2),
    }
    head = f"{'':<20}{'local':>8}{'ray x' + str(args.workers):>9}{'ratio':>8}{'local 1 thr':>13}{'ratio':>8}"
    print(head)
    for key, name in (("wall_s", "wall (s)"), ("editing_s", "editing phase (s)")):
        a, b, c = local[key], distributed[key], local1[key]
        print(f"{name:<20}{a:>8.2f}{b:>9.2f}{a / b:>7.2f}x{c:>13.2f}{c / b:>7.2f}x")
    print(json.dumps({k: report[k] for k in ("machine", "load_avg_1_5_15", "run")}))
    if args.json_out:
        args.json_out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
