"""Translation throughput: a naive transformers loop vs our engines, side by side in one run.

The model has the real opus-mt shape (6+6 layers, d_model 512, ffn 2048, 8 heads, vocab 58,101) with
random weights: a SentencePiece model trained on the bundled FEVER claims, its vocab.json padded to
the real size so the embedding and output matrices are full-sized. Every engine decodes greedily with
a fixed output length (16 new tokens), so all do the same work; the `out tok/sent` column shows it.

    python benchmarks/translate_throughput.py            # CPU: 1,000 FEVER claims
    python benchmarks/translate_throughput.py --quick    # CPU: 200 claims
    python benchmarks/translate_throughput.py --device cuda   # GPU: 10,496 x 5 claims, fp16
"""

from __future__ import annotations

import itertools
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import click

OPUS_VOCAB = 58_101  # Helsinki-NLP/opus-mt-en-de
NEW_TOKENS = 16
EDIT_ROWS, LANGS = 10_496, 5


@dataclass(frozen=True)
class Row:
    name: str
    sentences: int
    seconds: float
    out_tokens: float  # mean generated tokens per sentence: equal work check

    @property
    def per_second(self) -> float:
        return self.sentences / self.seconds


def build_model(out: Path, claims: list[str], seed: int = 0) -> Path:
    """Write an opus-mt-shaped MarianMT checkpoint with random weights (idempotent)."""
    import torch
    from transformers import GenerationConfig, MarianConfig, MarianMTModel

    from xfever.tiny import make_tiny_marian

    if (out / "config.json").is_file() and (out / "DONE").is_file():
        return out
    # Tokenizer files in the opus-mt layout; its tiny model is replaced below.
    make_tiny_marian(out, claims, claims, vocab_size=4000, max_length=512)
    vocab = json.loads((out / "vocab.json").read_text(encoding="utf-8"))
    vocab.pop("<pad>")
    for index in range(len(vocab), OPUS_VOCAB - 1):
        vocab[f"<unused{index}>"] = index
    vocab["<pad>"] = pad = OPUS_VOCAB - 1  # last, as in opus-mt (ct2 drops it)
    (out / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    config = MarianConfig(
        vocab_size=OPUS_VOCAB,
        d_model=512,
        encoder_layers=6,
        decoder_layers=6,
        encoder_attention_heads=8,
        decoder_attention_heads=8,
        encoder_ffn_dim=2048,
        decoder_ffn_dim=2048,
        max_position_embeddings=512,
        pad_token_id=pad,
        eos_token_id=0,
        decoder_start_token_id=pad,
        scale_embedding=True,
        share_encoder_decoder_embeddings=True,
    )
    torch.manual_seed(seed)
    model = MarianMTModel(config).eval()
    model.generation_config = GenerationConfig(
        num_beams=4, max_length=512, pad_token_id=pad, eos_token_id=0, decoder_start_token_id=pad,
        bad_words_ids=[[pad]],
    )  # fmt: skip
    model.save_pretrained(out)
    (out / "DONE").write_text("")
    return out


def run_naive(model_dir: Path, texts: list[str], device: str, batch_size: int = 8) -> Row:
    """What a first script does: fp32, fixed batches in input order, no sorting, no inference mode."""
    from transformers import MarianMTModel, MarianTokenizer

    tokenizer = MarianTokenizer.from_pretrained(model_dir)
    model = MarianMTModel.from_pretrained(model_dir).to(device)
    fixed = {"num_beams": 1, "min_new_tokens": NEW_TOKENS, "max_new_tokens": NEW_TOKENS}

    def translate(chunk: list[str]) -> int:
        batch = tokenizer(chunk, return_tensors="pt", padding=True).to(device)
        out = model.generate(**batch, **fixed)
        tokenizer.batch_decode(out, skip_special_tokens=True)
        return int((out[:, 1:] != model.config.pad_token_id).sum())

    translate(texts[:batch_size])  # warm-up
    _sync(device)
    start, tokens = time.perf_counter(), 0
    for index in range(0, len(texts), batch_size):
        tokens += translate(texts[index : index + batch_size])
    _sync(device)
    seconds = time.perf_counter() - start
    return Row(
        f"naive transformers fp32, batch {batch_size}, unsorted", len(texts), seconds, tokens / len(texts)
    )


def run_ours(name: str, translator, texts: list[str], device: str) -> Row:
    """Our engine through its public `translate`, after a warm-up."""
    translator.translate(texts[:16])
    _sync(device)
    start = time.perf_counter()
    translator.translate(texts)
    _sync(device)
    seconds = time.perf_counter() - start
    lengths = [len(row) for row in translator.translate_ids(texts[:200])]  # untimed: equal work check
    return Row(name, len(texts), seconds, sum(lengths) / len(lengths))


def _sync(device: str) -> None:
    if device == "cuda":
        import torch

        torch.cuda.synchronize()


def engines(model_dir: Path, cache: Path, device: str, batch_size: int):
    """(name, translator) pairs: ours with transformers, then ct2 at the device's precisions.

    The classes are the ones `load_translator` builds; constructed here to pass the fixed-length overrides.
    """
    from xfever.translate import DecodeSettings
    from xfever.translate.ct2 import CT2Translator
    from xfever.translate.marian import MarianTranslator

    def settings(precision: str) -> DecodeSettings:
        return DecodeSettings(batch_size=batch_size, num_beams=1, device=device, precision=precision)

    hf_fixed = {"min_new_tokens": NEW_TOKENS, "max_new_tokens": NEW_TOKENS}
    ct2_fixed = {"min_decoding_length": NEW_TOKENS, "max_decoding_length": NEW_TOKENS}
    hf_precision = "fp16" if device == "cuda" else "fp32"
    yield (
        f"ours transformers {hf_precision}, batch {batch_size}, sorted",
        MarianTranslator("de", model_dir, settings=settings(hf_precision), generate_overrides=hf_fixed),
    )
    for precision in ("fp16", "int8_float16") if device == "cuda" else ("fp32", "int8"):
        yield (
            f"ours ct2 {precision}, batch {batch_size}, sorted",
            CT2Translator(
                "de", model_dir, settings=settings(precision), cache_dir=cache, decode_overrides=ct2_fixed
            ),
        )


def machine() -> dict[str, object]:
    import ctranslate2
    import torch
    import transformers

    info: dict[str, object] = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": _cpu_name(),
        "cores": os.cpu_count(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "transformers": transformers.__version__,
        "ctranslate2": ctranslate2.__version__,
        "git_sha": _git_sha(),
    }
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    if hasattr(os, "getloadavg"):
        info["load_average_before"] = os.getloadavg()
    return info


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _git_sha() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip()


def table(rows: list[Row]) -> str:
    base = rows[0].per_second
    lines = [
        "| engine | sentences | seconds | sentences/s | out tok/sent | vs naive |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row.name} | {row.sentences:,} | {row.seconds:.1f} | {row.per_second:.1f} | "
            f"{row.out_tokens:.1f} | {row.per_second / base:.2f}x |"
        )
    return "\n".join(lines)


@click.command()
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True)
@click.option("--quick", is_flag=True, help="200 claims instead of 1,000 (CPU) or 10,496 x 5 (GPU).")
@click.option("--sentences", type=int, default=None, help="Override the number of claims.")
@click.option("--batch-size", type=int, default=None, help="Our engines' batch (default 64 CPU, 512 GPU).")
@click.option("--workdir", type=click.Path(path_type=Path), default=None, help="Keep model + ct2 cache here.")
@click.option(
    "--json-out", type=click.Path(path_type=Path), default=None, help="Also write the rows as JSON."
)
def main(device, quick, sentences, batch_size, workdir, json_out) -> None:
    """Print sentences/s of the naive baseline and of our engines, with ratios."""
    from transformers.utils import logging as hf_logging

    from xfever.data import sample_path

    hf_logging.set_verbosity_error()  # the naive loop's max_length notice would interleave the table
    claims = [json.loads(line)["input"] for line in sample_path().read_text(encoding="utf-8").splitlines()]
    total = sentences or (200 if quick else 1_000 if device == "cpu" else EDIT_ROWS * LANGS)
    texts = list(itertools.islice(itertools.cycle(claims), total))
    # On a GPU the naive loop over 52,480 claims would take many minutes: time it on a slice.
    naive_texts = texts if device == "cpu" else texts[: min(total, 2_048)]
    batch_size = batch_size or (64 if device == "cpu" else 512)
    info = machine()
    with tempfile.TemporaryDirectory() as scratch:
        root = workdir or Path(scratch)
        model_dir = build_model(root / "opus-mt-shaped", claims)
        rows = [run_naive(model_dir, naive_texts, device)]
        for name, translator in engines(model_dir, root / "ct2", device, batch_size):
            rows.append(run_ours(name, translator, texts, device))
            del translator
    if hasattr(os, "getloadavg"):
        info["load_average_after"] = os.getloadavg()
    click.echo("machine: " + json.dumps(info))
    click.echo(table(rows))
    if json_out:
        record = {"schema": 1, "benchmark": "translate_throughput", "machine": info, "new_tokens": NEW_TOKENS}
        record["rows"] = [asdict(row) | {"sentences_per_s": row.per_second} for row in rows]
        tmp = json_out.with_suffix(".tmp")
        tmp.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, json_out)


if __name__ == "__main__":
    sys.exit(main())
