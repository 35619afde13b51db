"""Checkpoint cost at the paper's size, lifelong (`--folders 1`) vs 20 folders (issue 15, target 3).

    python benchmarks/checkpoint_growth.py [--rows 10496] [--hidden 768] [--every 50] [--json-out FILE]

Drives the harness's own `Checkpointer` exactly as the folder loop does (`open`, `step` after every
row, `folder_done` after each folder) with what an mBERT-sized T-Patcher run holds: the last FFN's
weights (768 x 3,072), a patch committed on every other row (5,291 of 10,496, the issue's count), the
edit joining the memory as 8 copies, and a step record like the real ones. No model runs, so the
numbers are checkpointing alone: CPU seconds, bytes written under checkpoint/, and the growth of
resident memory over the loop. Runs in a subprocess per setting (its own RSS); works on older
versions of the harness too (PYTHONPATH), for side-by-side ratios.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from process_meters import count_checkpoint_bytes, rss_bytes  # benchmarks/ (the script's folder)


class View:
    """What a checkpoint reads from a view: the patch bank, the last FFN, the dropout generator."""

    def __init__(self, hidden: int) -> None:
        import torch

        from harness.model.patch import PatchBank

        self.bank = PatchBank(hidden)
        gen = torch.Generator().manual_seed(0)
        self.ffn = [torch.randn(4 * hidden, hidden, generator=gen), torch.randn(4 * hidden, generator=gen)]
        self.ffn += [torch.randn(hidden, 4 * hidden, generator=gen), torch.randn(hidden, generator=gen)]
        self.generator = torch.Generator().manual_seed(1)

    def ffn_parameters(self):
        return self.ffn


class Editor:
    changes = "last_ffn"


def step_record(folder: int, row: int, edited: bool) -> dict:
    losses = {"total": 0.1234567, "edit": 0.0123, "memory": 0.5, "memory_hinge": 0.25, "entropy": 0.69}
    info = {"stopped": "success", "lr": 0.01, "steps_to_success": 37, "memory_rows": 40000 + 8 * row}
    record = {"folder": folder, "id": f"row-{row:06d}", "langs": ["en"], "needed": edited}
    record |= {"wrong_langs": ["en"] if edited else [], "edited": edited, "patches_added": int(edited)}
    record |= {"steps": 37 if edited else 0, "losses": losses, "success": True, "success_en": True}
    return record | {"info": info, "seconds": 0.123456}


def child(rows: int, folders: int, hidden: int, every: int) -> dict:
    import torch

    from harness.editors.memory import Memory
    from harness.protocol.checkpoint import Checkpointer
    from harness.protocol.folders import FolderResult, Snapshot, plan_folders
    from harness.protocol.run_dir import RunIdentity
    from harness.report.scoring import RowRecords

    written = count_checkpoint_bytes()
    view, editor = View(hidden), Editor()
    memory = Memory(torch.randn(1000, hidden), index=False)
    identity = RunIdentity({"seed": 0}, "model", "dataset", "editor")
    gen = torch.Generator().manual_seed(2)
    with tempfile.TemporaryDirectory() as tmp:
        ckpt = Checkpointer(tmp, identity, every)
        snapshot = Snapshot(view, "last_ffn")
        ckpt.snapshot = snapshot
        cpu, start_rss = 0.0, rss_bytes()
        clock = time.process_time()
        ckpt.open()
        cpu += time.process_time() - clock
        for index, chunk in enumerate(plan_folders(list(range(rows)), folders)):
            view.bank.clear()
            memory.reset()
            steps = []
            for n in chunk:
                edited = n % 2 == 0
                if edited:
                    key = torch.randn(hidden, generator=gen)
                    view.bank.start(key, key)
                    view.bank.commit()
                    memory.add(key.repeat(8, 1))
                steps.append(step_record(index, n, edited))
                clock = time.process_time()
                ckpt.step(index, steps, 1.0, view, editor, memory)
                cpu += time.process_time() - clock
            result = FolderResult(index, [str(n) for n in chunk], len(view.bank), steps, RowRecords(), 1.0)
            clock = time.process_time()
            ckpt.folder_done(result)
            cpu += time.process_time() - clock
        ckpt.close()
        growth = rss_bytes() - start_rss
    report = {"rows": rows, "folders": folders, "checkpoint_cpu_s": round(cpu, 3)}
    return report | {
        "checkpoint_mb": round(written["bytes"] / 2**20, 1),
        "rss_growth_mb": round(growth / 2**20, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_496)
    parser.add_argument("--hidden", type=int, default=768)
    parser.add_argument("--every", type=int, default=50)
    parser.add_argument("--folders", default="20,1")
    parser.add_argument("--json-out", type=Path)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print("RESULT " + json.dumps(child(args.rows, args.child, args.hidden, args.every)))
        return
    out = []
    for folders in (int(f) for f in args.folders.split(",")):
        cmd = [sys.executable, __file__, "--child", str(folders), "--rows", str(args.rows)]
        cmd += ["--hidden", str(args.hidden), "--every", str(args.every)]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        line = [x for x in done.stdout.splitlines() if x.startswith("RESULT ")]
        if not line:
            sys.exit(done.stderr[-3000:])
        load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
        out.append(json.loads(line[0][7:]) | {"load": load})
        print(out[-1], flush=True)
    if args.json_out:
        args.json_out.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
