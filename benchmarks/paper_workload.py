"""The paper's workload, phase by phase, on a synthetic XFEVER-sized folder and a tiny model (issue 15).

    python benchmarks/paper_workload.py [--max-rows 800] [--sizes 50,200,800,3200,full]
        [--folders 20,1] [--max-steps 20] [--threads 1] [--workdir DIR] [--json-out FILE]

The folder has the paper's sizes (en/train 84,000 rows: 10,000 locality-train + 40,000 memory drawn
from it; edit 10,496 rows with ~1.2 English rephrases each and 5 translated configs; test 10,444:
~134k texts to encode), written with the project's own writers (xfever.layout, xfever.qa, through
the harness tests' fixture module); the claims are the bundled FEVER sample with numbered suffixes,
the "translations" pseudo-translations. The model is a tiny random BERT (2 layers, hidden 64): the
protocol's own costs (reading, encoding bookkeeping, scoring, checkpoints, memory growth) show,
not mBERT's matrix products. T-Patcher runs with `--max-steps` steps per edit (the lean step is
measured by benchmarks/harness_speed.py).

Each run (`harness.evaluate` with a run folder, checkpoints every 50 rows) is one subprocess, so its
peak RSS is its own. Printed per run: CPU seconds of each phase (load, encoding, original_eval,
editing; inside editing: checkpointing and per-folder scoring), bytes of checkpoint files written,
peak RSS and the RSS growth over the edit loop. The growth with N shows as ratios between rows.
`--max-rows` caps N so that the whole table runs in a few minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from process_meters import count_checkpoint_bytes, rss_bytes  # benchmarks/ (the script's folder)

SIZES = {"train": 84_000, "validation": 1_000, "edit": 10_496, "test": 10_444}
LANGS = ("de", "fr", "es", "id", "ja")


def build(root: Path) -> tuple[Path, Path]:
    """The synthetic folder and the tiny model (reused when already there)."""
    from harness.data.tiny import write_tiny_xfever
    from harness.model.tiny import make_tiny_bert
    from xfever.data import sample_path

    data, model = root / "xfever", root / "model"
    if (data / "README.md").is_file() and (model / "config.json").is_file():
        return data, model
    sample = [json.loads(line) for line in sample_path().read_text(encoding="utf-8").splitlines()]
    rows = []
    for i in range(sum(SIZES.values())):
        base = sample[i % len(sample)]
        rows.append({"id": f"{base['id']}-{i}", "input": f"{base['input']} {i}", "output": base["output"]})
    random.Random(0).shuffle(rows)
    write_tiny_xfever(data, rows, langs=LANGS, translated_rephrases=False, sizes=dict(SIZES))
    texts = [r["input"] for r in rows[:5000]]
    make_tiny_bert(model, texts, hidden_size=64, intermediate_size=128, max_position_embeddings=64)
    return data, model


class Meter:
    """CPU seconds of functions, wrapped in their modules (works on older versions of the harness)."""

    def __init__(self) -> None:
        self.cpu: dict[str, float] = {}
        self.rss: dict[str, int] = {}

    def wrap(self, owner, name: str, key: str, when=None) -> None:
        real = getattr(owner, name)

        def timed(*args, **kwargs):
            if when is not None and not when(args, kwargs):
                return real(*args, **kwargs)
            start = time.process_time()
            try:
                return real(*args, **kwargs)
            finally:
                self.cpu[key] = self.cpu.get(key, 0.0) + time.process_time() - start

        setattr(owner, name, timed)


def child(args: argparse.Namespace) -> None:
    import torch

    from harness import EvalConfig, evaluate
    from harness.protocol import checkpoint, folders, run

    meter = Meter()
    written = count_checkpoint_bytes()
    for name in ("open", "step", "folder_done"):
        meter.wrap(checkpoint.Checkpointer, name, "checkpointing")
    meter.wrap(folders, "score_rows", "folder_scoring")
    real_run_folders = run.run_folders

    def run_folders(*a, **k):
        meter.rss["edit_start"], cpu = rss_bytes(), time.process_time()
        try:
            return real_run_folders(*a, **k)
        finally:
            meter.rss["edit_end"] = rss_bytes()
            meter.cpu["editing"] = time.process_time() - cpu

    run.run_folders = run_folders
    real_timed = run._timed

    class timed(real_timed):  # the run's own phases, in CPU seconds too
        def __enter__(self):
            self.cpu = time.process_time()
            return super().__enter__()

        def __exit__(self, *exc):
            meter.cpu[self.name] = meter.cpu.get(self.name, 0.0) + time.process_time() - self.cpu
            return super().__exit__(*exc)

    run._timed = timed
    settings = dict(
        model=args.model,
        dataset=args.dataset,
        editor="tpatcher",
        editor_options={"max_steps": args.max_steps},
        folders=args.run_folders,
        max_edits=args.rows,
        out_dir=args.out,
        checkpoint_every=50,
        progress=False,
        cache_dir=args.cache_dir,
        bootstrap_resamples=10,
    )
    if "threads" in EvalConfig.__dataclass_fields__:
        settings["threads"] = args.threads
    else:
        torch.set_num_threads(args.threads)
    start_cpu, start_wall = time.process_time(), time.perf_counter()
    shutil.rmtree(args.out, ignore_errors=True)
    result = evaluate(EvalConfig(**settings))
    report = {
        "rows": args.rows,
        "folders": args.run_folders,
        "patches": result.metrics.get("patch_num", {}).get("value"),
        "edited": sum(1 for s in result.steps if s.get("edited")),
        "cpu": {k: round(v, 3) for k, v in meter.cpu.items()},
        "wall": dict(result.timings),
        "total_cpu": round(time.process_time() - start_cpu, 3),
        "total_wall": round(time.perf_counter() - start_wall, 3),
        "checkpoint_bytes": written["bytes"],
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "edit_rss_growth_mb": round((meter.rss["edit_end"] - meter.rss["edit_start"]) / 2**20, 1),
    }
    print("RESULT " + json.dumps(report))


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-rows", type=int, default=800, help="Cap on N (edit rows per run).")
    parser.add_argument("--sizes", default="50,200,800,3200,full")
    parser.add_argument("--folders", default="20,1", help="Folder settings: 20 and 1 (lifelong).")
    parser.add_argument("--max-steps", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1)
    default_dir = Path(tempfile.gettempdir()) / "xfever-paper-workload"
    parser.add_argument("--workdir", type=Path, default=default_dir, help="Folder, model, runs (reused).")
    parser.add_argument("--json-out", type=Path)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--run-folders", type=int, help=argparse.SUPPRESS)
    for hidden in ("--model", "--dataset", "--out", "--cache-dir"):
        parser.add_argument(hidden, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    started = time.process_time()
    data, model = build(args.workdir)
    build_cpu = time.process_time() - started
    sizes = []
    for s in args.sizes.split(","):
        n = SIZES["edit"] if s == "full" else int(s)
        if min(n, args.max_rows) not in sizes:
            sizes.append(min(n, args.max_rows))
    cache = args.workdir / "cache"
    report = {"machine": machine(), "load_before": load_average(), "build_cpu": round(build_cpu, 1)}
    report["runs"] = []
    for folders in (int(f) for f in args.folders.split(",")):
        for n in sizes:
            cmd = [sys.executable, __file__, "--child", "--rows", str(n), "--run-folders", str(folders)]
            cmd += ["--model", str(model), "--dataset", str(data), "--cache-dir", str(cache)]
            cmd += ["--out", str(args.workdir / f"run-f{folders}-n{n}"), "--max-steps", str(args.max_steps)]
            cmd += ["--threads", str(args.threads)]
            done = subprocess.run(cmd, capture_output=True, text=True, check=False)
            line = [x for x in done.stdout.splitlines() if x.startswith("RESULT ")]
            if not line:
                sys.exit(f"run failed:\n{done.stderr[-3000:]}")
            entry = json.loads(line[-1][7:]) | {"load": load_average()}
            report["runs"].append(entry)
            print(row(entry), flush=True)
    report["load_after"] = load_average()
    if args.json_out:
        args.json_out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


def machine() -> dict:
    import platform

    import torch

    lines = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((x.split(":", 1)[1].strip() for x in lines if x.startswith("model name")), "?")
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "torch": torch.__version__,
        "python": platform.python_version(),
    }


HEADER = (
    "| folders | N | patches | load | encoding | original_eval | editing | of which ckpt | "
    "of which folder scoring | ckpt MB | peak RSS MB | edit RSS growth MB | load avg |"
)


def row(e: dict) -> str:
    c = e["cpu"]
    cells = [e["folders"], e["rows"], e["patches"], c.get("load"), c.get("encoding"), c.get("original_eval")]
    cells += [c.get("editing"), c.get("checkpointing"), c.get("folder_scoring")]
    cells += [round(e["checkpoint_bytes"] / 2**20, 2), e["peak_rss_mb"], e["edit_rss_growth_mb"], e["load"]]
    return "| " + " | ".join(str(x) for x in cells) + " |"


if __name__ == "__main__":
    main()
