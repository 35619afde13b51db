"""The one-time encoding, side by side (issue 15): whole model vs stopped at the last FFN's [CLS] input,
float32 vs bfloat16, 1 vs 2 torch threads, optionally with a competing busy process.

    python benchmarks/encode_speed.py [--texts 512] [--layers 12] [--hidden 256] [--repeats 3]
        [--busy 1] [--json-out FILE]

The model is a random BERT classifier of the given shape (mBERT: --layers 12 --hidden 768; the
default is narrower so that it runs in a minute on a shared 2-core machine); texts are the bundled
FEVER claims with numbered suffixes, 32 tokens at most. Every variant encodes the same texts in the
same process, alternated, `--repeats` times; the table gives the median wall and CPU seconds and
the ratio to the whole-model fp32 pass. bfloat16's effect on predictions: the rows whose predicted
label differs from the float32 encoding's (logits from the cached path on either set of vectors).
`--busy N` starts N busy-looping processes first (a loaded machine), ended before exit.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import tempfile
import time
from pathlib import Path


def spin() -> None:
    while True:
        pass


def build(folder: Path, texts: list[str], layers: int, hidden: int):
    from transformers import BertConfig, BertForSequenceClassification

    from harness.model.loading import load_classifier
    from harness.model.tiny import make_tiny_bert

    make_tiny_bert(folder, texts)
    config = BertConfig(
        vocab_size=len((folder / "vocab.txt").read_text(encoding="utf-8").splitlines()),
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=max(1, hidden // 64),
        intermediate_size=4 * hidden,
        max_position_embeddings=64,
        num_labels=2,
        id2label={0: "SUPPORTS", 1: "REFUTES"},
        label2id={"SUPPORTS": 0, "REFUTES": 1},
    )
    BertForSequenceClassification(config).save_pretrained(folder)
    return load_classifier(str(folder), ("SUPPORTS", "REFUTES"), device="cpu")


def whole_model(view, texts):
    """The previous encoder: every layer, the head included, the vector taken by a hook."""
    import torch

    out = torch.empty(len(texts), view.bank.hidden_size)
    taken = []
    hook = view.layer.intermediate.register_forward_pre_hook(lambda _m, a: taken.append(a[0][:, 0]))
    try:
        with torch.no_grad():
            order = view._order(texts)
            for start in range(0, len(order), view.batch_size):
                idx = order[start : start + view.batch_size]
                taken.clear()
                view.model(**view.tokenize([texts[i] for i in idx]))
                out[torch.tensor(idx)] = taken[0]
    finally:
        hook.remove()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", type=int, default=512)
    parser.add_argument("--layers", type=int, default=12)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--busy", type=int, default=0)
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()

    import torch

    from harness.model.views import CachedView
    from xfever.data import sample_path

    claims = [json.loads(x)["input"] for x in sample_path().read_text(encoding="utf-8").splitlines()]
    texts = [(f"{claims[i % len(claims)]} {i}",) for i in range(args.texts)]
    with tempfile.TemporaryDirectory() as tmp:
        loaded = build(Path(tmp), [t[0] for t in texts], args.layers, args.hidden)
    views = {d: CachedView(loaded, encode_dtype=d) for d in ("float32", "bfloat16")}
    variants = {
        "whole model fp32": lambda: whole_model(views["float32"], texts),
        "stopped fp32": lambda: views["float32"].cls_vectors(texts),
        "stopped bf16": lambda: views["bfloat16"].cls_vectors(texts),
    }
    busy = [multiprocessing.Process(target=spin, daemon=True) for _ in range(args.busy)]
    for p in busy:
        p.start()
    times: dict[tuple[str, int], list[tuple[float, float]]] = {}
    vectors = {}
    try:
        for _ in range(args.repeats):
            for threads in (1, 2):
                torch.set_num_threads(threads)
                for name, run in variants.items():
                    wall, cpu = time.perf_counter(), time.process_time()
                    vectors[name] = run()
                    times.setdefault((name, threads), []).append(
                        (time.perf_counter() - wall, time.process_time() - cpu)
                    )
    finally:
        for p in busy:
            p.terminate()
    torch.set_num_threads(1)
    exact = torch.equal(vectors["whole model fp32"], vectors["stopped fp32"])
    with torch.no_grad():
        p32 = views["float32"].forward(vectors["stopped fp32"]).logits.argmax(-1)
        p16 = views["float32"].forward(vectors["stopped bf16"]).logits.argmax(-1)
    flipped = int((p32 != p16).sum())
    base = statistics.median(w for w, _ in times[("whole model fp32", 1)])
    rows = []
    for (name, threads), values in times.items():
        wall = statistics.median(w for w, _ in values)
        cpu = statistics.median(c for _, c in values)
        rows.append({"variant": name, "threads": threads, "wall_s": round(wall, 3), "cpu_s": round(cpu, 3)})
        rows[-1]["speedup_vs_whole_fp32_1t"] = round(base / wall, 2)
    report = {
        "model": f"BERT {args.layers} layers, hidden {args.hidden}",
        "texts": args.texts,
        "busy_processes": args.busy,
        "load": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "stopped_equals_whole_bitwise": exact,
        "bf16_flipped_predictions": f"{flipped} of {len(texts)}",
        "rows": rows,
    }
    print("| variant | threads | wall s | CPU s | speed-up vs whole fp32, 1 thread |")
    print("|---|---|---|---|---|")
    for r in rows:
        cells = (r["variant"], r["threads"], r["wall_s"], r["cpu_s"], r["speedup_vs_whole_fp32_1t"])
        print("| " + " | ".join(str(c) for c in cells) + " |")
    print({k: v for k, v in report.items() if k != "rows"})
    if args.json_out:
        args.json_out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
