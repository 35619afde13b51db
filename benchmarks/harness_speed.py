"""Full vs cached path for sequential T-Patcher edits on an mBERT-shaped classifier (issue 5).

    python benchmarks/harness_speed.py [--quick] [--edits 200] [--full-edits 5] [--device cuda]
        [--json-out FILE]

The model has mBERT's shape (12 layers, hidden 768, FFN 3072, vocab 105,879) with random weights and a
random head (about half the rows wrong: an upper bound on work). Claims: the bundled FEVER sample,
repeated with numbered suffixes. Both paths run the same editor code (paper defaults: <= 2,000 steps,
8 copies, memory of training vectors); the full path is timed on fewer edits (it is the slow one).
The first `--full-edits` edits run on both paths, back to back: the same edits (the cached path is
exact), timed within a minute of each other, give the speed-up per edit and per step; the cached path
then goes on alone to `--edits` for its steady-state time per edit, which the projection uses.
Printed: encoding time, seconds per edit and per step on each path, the ratios, and the projections
for the paper's workload (10,496 edit rows, ~1,250 patches: T-Patcher's count in Table 1; at most
133,916 texts to encode once).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path


def build_model(folder: Path, texts: list[str]) -> Path:
    from transformers import BertConfig, BertForSequenceClassification

    from harness.model.tiny import make_tiny_bert

    make_tiny_bert(folder, texts)  # tokenizer (WordPiece on the claims) + a tiny model we replace
    config = BertConfig(
        vocab_size=105_879,
        hidden_size=768,
        num_hidden_layers=12,
        num_attention_heads=12,
        intermediate_size=3072,
        max_position_embeddings=512,
        num_labels=2,
        id2label={0: "SUPPORTS", 1: "REFUTES"},
        label2id={"SUPPORTS": 0, "REFUTES": 1},
    )
    BertForSequenceClassification(config).save_pretrained(folder)
    return folder


def claims(n: int) -> list[tuple[str, str, str]]:
    from xfever.data import sample_path

    rows = [json.loads(line) for line in sample_path().read_text(encoding="utf-8").splitlines()]
    random.Random(0).shuffle(rows)  # the sample is sorted by label
    out = []
    for i in range(n):
        row = rows[i % len(rows)]
        out.append((f"{row['id']}-{i}", f"{row['input']} {i}", row["output"][0]["answer"]))
    return out


class EditRun:
    """One path's sequential edits, run a block at a time (the paired edits, then the rest)."""

    def __init__(self, view, rows, label_ids, memory, max_steps: int) -> None:
        from harness.editors.tpatcher import TPatcher

        self.view, self.label_ids, self.memory = view, label_ids, memory
        self.editor = TPatcher(max_steps=max_steps)
        self.rows = iter(rows)
        self.times: list[float] = []
        self.steps: list[int] = []
        self.asked = 0

    def edit(self, count: int, *, report: bool = True) -> tuple[float, int]:
        """Up to `count` more edits (rows the model already gets right are skipped); (seconds, steps)."""
        from harness.data.suite import EditRow
        from harness.protocol.folders import make_request

        seconds, steps, done = 0.0, 0, 0
        if count <= 0:
            return seconds, steps
        for row_id, text, label in self.rows:
            request = make_request(EditRow(row_id, (text,), label), self.label_ids, seed=0)
            self.asked += 1
            if self.view.predict(request.texts)[0] == request.label:
                continue
            self.view.reseed(request.seed)
            started = time.perf_counter()
            record = self.editor(self.view, request, self.memory)
            _sync(self.view)
            self.times.append(time.perf_counter() - started)
            self.steps.append(record.steps)
            seconds, steps, done = seconds + self.times[-1], steps + record.steps, done + 1
            if report and (len(self.times) % 10 == 0 or done == count):
                total = sum(self.times)
                print(
                    f"{self.view.path}: {len(self.times)} edits, {total:.0f} s", file=sys.stderr, flush=True
                )
            if done == count:
                break
        return seconds, steps

    def warm_up(self) -> None:
        """One edit left out of the timings (the first call of every kernel, first allocations)."""
        self.edit(1, report=False)
        del self.times[-1:], self.steps[-1:]

    def summary(self) -> dict:
        times, steps, memory = self.times, self.steps, self.memory
        return {
            "edits": len(times),
            "rows_seen": self.asked,
            "seconds_per_edit": statistics.mean(times) if times else None,
            "seconds_per_step": sum(times) / max(sum(steps), 1),
            "mean_steps": statistics.mean(steps) if steps else None,
            "patches": len(self.view.bank),
            "memory_search": {
                "searches": memory.stats.calls,
                "int8": memory.stats.indexed,
                "fallbacks": memory.stats.fallbacks,
                "mean_candidates": memory.stats.mean_candidates(),
            },
        }


def paired_edits(runs: dict[str, EditRun], edits: int, full_edits: int) -> None:
    """One untimed edit on each path, then the first `full_edits` edits on the cached path and the same
    edits on the full path, back to back; then the cached path goes on alone to `edits` timed edits.

    Both paths start from the same model and see the same rows, and the cached path is exact, so edit i
    is the same edit on both (same request, same patches before it, same steps): like-for-like pairs,
    timed within a minute of each other, which the drift of a shared machine's speed barely touches.
    Each path runs its edits in one block, as it would alone: interleaving edit by edit would make the
    cached path re-read its memory from DRAM after every full edit (which streams 700 MB of weights).
    """
    runs["full"].warm_up()
    runs["cached"].warm_up()  # last, so that its memory is warm for its timed block
    for path in ("cached", "full"):
        runs[path].edit(full_edits)
    cached, full = runs["cached"], runs["full"]
    for i, (c_s, c_n, f_s, f_n) in enumerate(
        zip(cached.times, cached.steps, full.times, full.steps, strict=False)
    ):
        print(
            f"pair {i + 1}/{full_edits}: {c_n} / {f_n} steps, cached {1000 * c_s / c_n:.2f} ms/step, "
            f"full {1000 * f_s / f_n:.1f} ms/step",
            file=sys.stderr,
            flush=True,
        )
    runs["cached"].edit(edits - full_edits)


def pair_summary(runs: dict[str, EditRun]) -> dict:
    """Ratios over the paired edits (the first n of each path)."""
    cached, full = runs["cached"], runs["full"]
    n = min(len(cached.times), len(full.times))
    times = {path: sum(run.times[:n]) for path, run in runs.items()}
    steps = {path: sum(run.steps[:n]) for path, run in runs.items()}
    return {
        "edits": n,
        "same_steps": cached.steps[:n] == full.steps[:n],
        "steps": {path: run.steps[:n] for path, run in runs.items()},
        "seconds": times,
        "speedup_per_edit": times["full"] / times["cached"],
        "speedup_per_step": (times["full"] / steps["full"]) / (times["cached"] / steps["cached"]),
    }


def _sync(view) -> None:
    import torch

    if view.device.type == "cuda":
        torch.cuda.synchronize(view.device)


PAPER_EDIT_ROWS = 10_496  # XFEVER edit split
PAPER_PATCHES = 1_250  # about T-Patcher's patch count in the paper's Table 1 (1,207)
PAPER_MEMORY = 40_000  # training [CLS] vectors in T-Patcher's memory (docs/protocol.md)
# Texts the cached path encodes once for the paper's evaluation (docs/protocol.md), at most: per edit row
# the English claim, its rephrase and 5 translations; the memory; locality-train (10,000 training
# rows, which may overlap the memory) and locality-test (KILT FEVER dev, 10,444 rows).
PAPER_TEXTS = PAPER_EDIT_ROWS * 7 + PAPER_MEMORY + 10_000 + 10_444


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=200, help="sequential edits timed on the cached path")
    parser.add_argument(
        "--full-edits", type=int, default=5, help="edits timed on both paths, in pairs (the first ones)"
    )
    parser.add_argument("--max-steps", type=int, default=2000)
    parser.add_argument("--memory", type=int, default=2000, help="memory texts encoded by the model")
    parser.add_argument(
        "--memory-size",
        type=int,
        default=PAPER_MEMORY,
        help="memory rows the editor sees: the encoded vectors tiled up to this size, so the memory "
        "loss costs what it costs at the paper's size without encoding 40,000 texts",
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run: 10 cached, 1 full edit")
    parser.add_argument("--device", default="cpu", help="cpu | cuda")
    parser.add_argument("--json-out")
    args = parser.parse_args()
    if args.quick:
        args.edits, args.full_edits, args.memory = 10, 1, 200
    return args


def load_average() -> float | None:
    import os

    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def tiled(vectors, size: int):
    """The rows of `vectors` repeated up to `size` rows (timing stand-in for a bigger memory).

    Copies after the first get Gaussian noise of 5 % of each dimension's spread, so that every row is
    distinct: the int8 memory search keeps a candidate set whose size depends on the data, and exact
    duplicates (ties) would flatter it.
    """
    import torch

    n = vectors.shape[0]
    if size <= n:
        return vectors
    reps = -(-size // n)
    out = vectors.repeat(reps, 1)[:size].clone()
    gen = torch.Generator(device="cpu").manual_seed(0)
    noise = torch.randn(size - n, vectors.shape[1], generator=gen).to(out) * (0.05 * vectors.std(0))
    out[n:] += noise
    return out


def main() -> None:
    args = parse_args()

    import torch

    from harness.editors.base import Memory
    from harness.model.loading import load_classifier
    from harness.model.views import CachedView, FullView

    torch.manual_seed(0)
    rows = claims(max(3 * args.edits, 60))
    memory_rows = claims(args.memory + len(rows))[len(rows) :]
    report = {
        "device": args.device,
        "threads": torch.get_num_threads(),
        "max_steps": args.max_steps,
        "memory_encoded": args.memory,
        "memory_size": max(args.memory, args.memory_size),
        "load_average_before": load_average(),
    }
    with tempfile.TemporaryDirectory() as tmp:
        folder = build_model(Path(tmp) / "mbert-shaped", [t for _, t, _ in rows])
        runs, memory_vectors = {}, None
        for path, cls in (("cached", CachedView), ("full", FullView)):
            loaded = load_classifier(str(folder), ("SUPPORTS", "REFUTES"), device=args.device)
            view = cls(loaded, dropout="patch")
            if path == "cached":  # the one-time encoding: edit rows and memory texts
                view.cls_vectors([(t,) for _, t, _ in rows[:8]])  # device start-up, outside the timer
                _sync(view)
                started = time.perf_counter()
                view.warm([(t,) for _, t, _ in rows])
                memory_vectors = view.vectors([(t,) for _, t, _ in memory_rows])
                _sync(view)
                seconds = time.perf_counter() - started
                report["encoding"] = {
                    "texts": len(rows) + len(memory_rows),
                    "seconds": seconds,
                    "texts_per_second": (len(rows) + len(memory_rows)) / seconds,
                }
            # Both paths see the same memory (the full path would compute the very same vectors).
            memory = Memory(tiled(memory_vectors, args.memory_size).to(view.device))
            started = time.perf_counter()
            if memory.prepare():
                report["memory_index_seconds"] = time.perf_counter() - started
            report.setdefault("memory_search", {})[path] = dict(memory.search)
            runs[path] = EditRun(view, rows, loaded.label_ids, memory, args.max_steps)
        paired_edits(runs, args.edits, args.full_edits)
        report["paired"] = pair_summary(runs)
        results = {path: run.summary() for path, run in runs.items()}
    report["load_average_after"] = load_average()
    report["paths"] = results
    summarize(report, results)
    print(json.dumps(report, indent=2))
    print(table(report))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


def summarize(report: dict, results: dict) -> None:
    cached, full = results["cached"], results["full"]
    paired = report["paired"]
    report["speedup_per_edit"] = paired["speedup_per_edit"]  # the same edits on both paths
    report["speedup_per_step"] = paired["speedup_per_step"]
    # the full path's steps against every cached step (the memory and the patches grow over 200 edits)
    report["speedup_per_step_all_cached"] = full["seconds_per_step"] / cached["seconds_per_step"]
    # The random head: the share of rows the unedited model gets wrong (each one needs a patch).
    wrong = cached["edits"] / max(cached["rows_seen"], 1)
    report["random_head_wrong_share"] = wrong
    per_edit = cached["seconds_per_edit"] or 0.0
    report["projection_minutes"] = {
        f"{PAPER_PATCHES}_patches_cached": PAPER_PATCHES * per_edit / 60,
        "random_head_upper_bound_cached": PAPER_EDIT_ROWS * wrong * per_edit / 60,
        f"{PAPER_PATCHES}_patches_full": PAPER_PATCHES * (full["seconds_per_edit"] or 0.0) / 60,
        f"encoding_{PAPER_TEXTS}_texts": PAPER_TEXTS / report["encoding"]["texts_per_second"] / 60,
    }


def table(report: dict) -> str:
    cached, full = report["paths"]["cached"], report["paths"]["full"]
    lines = [
        "| path | edits | mean steps/edit | s/edit | ms/step | patches | rows kept/search | int8 / fp32 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in (("full", full), ("cached", cached)):
        search = r["memory_search"]
        kept = f"{search['mean_candidates']:.0f}" if search["mean_candidates"] else "-"
        lines.append(
            f"| {name} | {r['edits']} | {r['mean_steps'] or 0:.1f} | {r['seconds_per_edit'] or 0:.3f} "
            f"| {1000 * r['seconds_per_step']:.2f} | {r['patches']} "
            f"| {kept} | {search['int8'] - search['fallbacks']} / "
            f"{search['searches'] - search['int8'] + search['fallbacks']} |"
        )
    proj = report["projection_minutes"]
    enc = report["encoding"]
    lines += [
        "",
        f"speed-up on the {report['paired']['edits']} paired edits (same steps on both paths: "
        f"{report['paired']['same_steps']}): per edit {report['speedup_per_edit']:.1f}x, per step "
        f"{report['speedup_per_step']:.1f}x; full per step against all {cached['edits']} cached edits "
        f"{report['speedup_per_step_all_cached']:.1f}x",
        f"encoding: {enc['texts']} texts in {enc['seconds']:.1f} s ({enc['texts_per_second']:.1f} texts/s); "
        f"memory search: {report.get('memory_search', {}).get('cached')} "
        f"(int8 index built and timed in {report.get('memory_index_seconds', 0):.1f} s when kept)",
        f"random head: {100 * report['random_head_wrong_share']:.1f} % of rows wrong",
        "projected minutes: " + ", ".join(f"{k} {v:.2f}" for k, v in proj.items()),
        f"load average (1 min) {report['load_average_before']} -> {report['load_average_after']}",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
