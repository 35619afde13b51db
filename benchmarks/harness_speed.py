"""Full vs cached path for sequential T-Patcher edits on an mBERT-shaped classifier (issue 5).

    python benchmarks/harness_speed.py --edits 200 --full-edits 3 [--device cuda] [--json-out FILE]

The model has mBERT's shape (12 layers, hidden 768, FFN 3072, vocab 105,879) with random weights and a
random head (about half the rows wrong: an upper bound on work). Claims: the bundled FEVER sample,
repeated with numbered suffixes. Both paths run the same editor code (paper defaults: <= 2,000 steps,
8 copies, memory of training vectors); the full path is timed on fewer edits (it is the slow one).
Printed: encoding time, seconds per edit and per step on each path, the ratio, and the projection
for the paper's workload (10,496 edit rows, ~1,250 patches: T-Patcher's count in Table 1).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path


def build_model(folder: Path, texts: list[str]) -> Path:
    from transformers import BertConfig, BertForSequenceClassification

    from harness.tiny import make_tiny_bert

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
    out = []
    for i in range(n):
        row = rows[i % len(rows)]
        out.append((f"{row['id']}-{i}", f"{row['input']} {i}", row["output"][0]["answer"]))
    return out


def run_edits(view, rows, label_ids, memory, edits: int, max_steps: int) -> dict:
    from harness.editors.tpatcher import TPatcher
    from harness.protocol import make_request
    from harness.suite import EditRow

    editor = TPatcher(max_steps=max_steps)
    times, steps, asked = [], [], 0
    for row_id, text, label in rows:
        if len(times) >= edits:
            break
        request = make_request(EditRow(row_id, (text,), label), label_ids, seed=0)
        asked += 1
        if view.predict(request.texts)[0] == request.label:
            continue
        view.reseed(request.seed)
        started = time.perf_counter()
        record = editor(view, request, memory)
        _sync(view)
        times.append(time.perf_counter() - started)
        steps.append(record.steps)
    return {
        "edits": len(times),
        "rows_seen": asked,
        "seconds_per_edit": statistics.mean(times) if times else None,
        "seconds_per_step": sum(times) / max(sum(steps), 1),
        "mean_steps": statistics.mean(steps) if steps else None,
        "patches": len(view.bank),
    }


def _sync(view) -> None:
    import torch

    if view.device.type == "cuda":
        torch.cuda.synchronize()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=200)
    parser.add_argument("--full-edits", type=int, default=3)
    parser.add_argument("--max-steps", type=int, default=2000)
    parser.add_argument("--memory", type=int, default=2000, help="training vectors in memory (paper: 40,000)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--json-out")
    args = parser.parse_args()

    import torch

    from harness.editors.base import Memory
    from harness.model import load_classifier
    from harness.views import CachedView, FullView

    torch.manual_seed(0)
    rows = claims(max(4 * args.edits, 400))
    memory_rows = claims(args.memory + len(rows))[len(rows) :]
    with tempfile.TemporaryDirectory() as tmp:
        folder = build_model(Path(tmp) / "mbert-shaped", [t for _, t, _ in rows])
        report = {"device": args.device, "threads": torch.get_num_threads(), "max_steps": args.max_steps}
        results = {}
        for path, cls, edits in (("cached", CachedView, args.edits), ("full", FullView, args.full_edits)):
            loaded = load_classifier(str(folder), ("SUPPORTS", "REFUTES"), device=args.device)
            view = cls(loaded, dropout="patch")
            started = time.perf_counter()
            if path == "cached":
                view.warm([(t,) for _, t, _ in rows])
            memory = Memory(view.vectors([(t,) for _, t, _ in memory_rows]))
            _sync(view)
            encode = time.perf_counter() - started
            results[path] = run_edits(view, rows, loaded.label_ids, memory, edits, args.max_steps)
            results[path]["encoding_seconds"] = encode
            encoded = len(rows) + len(memory_rows) if path == "cached" else len(memory_rows)
            results[path]["encoded_texts"] = encoded
            del view, loaded
    ratio = results["full"]["seconds_per_step"] / results["cached"]["seconds_per_step"]
    steps = results["cached"]["mean_steps"] or 0
    report |= {"paths": results, "speedup_per_step": ratio}
    per_step = {path: results[path]["seconds_per_step"] for path in results}
    report["projection_1250_patches_minutes"] = 1250 * steps * per_step["cached"] / 60
    report["projection_full_path_1250_patches_hours"] = 1250 * steps * per_step["full"] / 3600
    print(json.dumps(report, indent=2))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
