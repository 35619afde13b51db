"""Fixtures for the harness tests: a tiny XFEVER-shaped folder and a tiny trained BERT classifier.

The folder is written like `xfever build` writes it (parquet at `schema.parquet_path`, README.md with
YAML `configs`), so `datasets.load_dataset` resolves it exactly as it would the Hub dataset. The
"translations" are deterministic pseudo-translations (a per-language word mapping), so they are
different token sequences from the English claims.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from xfever import schema

LANGS = ("de", "fr", "es")
SPLIT_SIZES = {"train": 110, "validation": 30, "edit": 50, "test": 49}


FUNCTION_WORDS = {
    "de": {
        "is": "ist",
        "was": "war",
        "the": "der",
        "a": "ein",
        "an": "ein",
        "of": "von",
        "in": "im",
        "and": "und",
        "by": "von",
        "only": "nur",
        "not": "nicht",
        "has": "hat",
        "film": "Film",
    },
    "fr": {
        "is": "est",
        "was": "était",
        "the": "le",
        "a": "un",
        "an": "un",
        "of": "de",
        "in": "dans",
        "and": "et",
        "by": "par",
        "only": "seulement",
        "not": "pas",
        "has": "a",
        "film": "film",
    },
    "es": {
        "is": "es",
        "was": "fue",
        "the": "el",
        "a": "un",
        "an": "un",
        "of": "de",
        "in": "en",
        "and": "y",
        "by": "por",
        "only": "solo",
        "not": "no",
        "has": "tiene",
        "film": "película",
    },
}


def pseudo_translate(text: str, lang: str) -> str:
    """A word mapping per language on function words; names and content words stay (as in MT)."""
    table = FUNCTION_WORDS[lang]
    return " ".join(table.get(w.lower(), w) for w in text.split())


def rephrases_of(claim: str, n: int) -> list[str]:
    """English 'rephrases': every fifth row has none (the harness must cope)."""
    if n % 5 == 4:
        return []
    out = [f"reportedly , {claim}"]
    if n % 2 == 0:
        out.append(claim.replace(" is ", " was ") if " is " in claim else f"it is said that {claim}")
    return out


def write_tiny_xfever(out: Path, rows: list[dict], langs=LANGS, *, translated_rephrases: bool = True) -> Path:
    """Write an XFEVER-shaped folder from KILT-like rows (id, input, output[0].answer)."""
    import pandas as pd

    out.mkdir(parents=True, exist_ok=True)
    import random

    records = [{"id": r["id"], "label": r["output"][0]["answer"], "claim": r["input"]} for r in rows]
    random.Random(0).shuffle(records)  # the sample is sorted by label
    start, splits = 0, {}
    for split, size in SPLIT_SIZES.items():
        part = [dict(rec) for rec in records[start : start + size]]
        start += size
        for n, rec in enumerate(part):
            rec["rephrases"] = rephrases_of(rec["claim"], n) if split == "edit" else []
        splits[split] = part
    files: dict[str, list[tuple[str, str]]] = {"en": []}
    for split, part in splits.items():
        _write(out, "en", split, pd.DataFrame(part), files)
    for lang in langs:
        files[lang] = []
        edit = [
            {
                "id": r["id"],
                "label": r["label"],
                "claim": pseudo_translate(r["claim"], lang),
                "claim_en": r["claim"],
            }
            for r in splits["edit"]
        ]
        _write(out, lang, "edit", pd.DataFrame(edit), files)
        if translated_rephrases:
            reph = [
                {
                    "id": r["id"],
                    "rephrase_index": k,
                    "label": r["label"],
                    "claim": pseudo_translate(t, lang),
                    "claim_en": t,
                }
                for r in splits["edit"]
                for k, t in enumerate(r["rephrases"])
            ]
            _write(out, lang, "rephrases", pd.DataFrame(reph), files)
    _write_card(out, files)
    (out / schema.BUILD_FILE).write_text(
        json.dumps({"build_id": "tiny-test", "langs": list(langs)}), encoding="utf-8"
    )
    return out


def _write(out: Path, config: str, split: str, frame, files) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rel = schema.parquet_path(config, split)
    (out / rel).parent.mkdir(parents=True, exist_ok=True)
    types = {schema.REPHRASES: pa.list_(pa.string()), schema.REPHRASE_INDEX: pa.int64()}
    fields = [pa.field(c, types.get(c, pa.string())) for c in frame.columns]
    pq.write_table(pa.Table.from_pandas(frame, schema=pa.schema(fields), preserve_index=False), out / rel)
    files[config].append((split, rel))


def _write_card(out: Path, files: dict[str, list[tuple[str, str]]]) -> None:
    lines = ["---", "configs:"]
    for config, items in files.items():
        lines.append(f"- config_name: {config}")
        lines.append("  data_files:")
        for split, rel in items:
            lines += [f"  - split: {split}", f"    path: {rel}"]
    lines += ["---", "", "# tiny XFEVER-shaped test dataset", ""]
    (out / schema.CARD_FILE).write_text("\n".join(lines), encoding="utf-8")


@pytest.fixture(scope="session", autouse=True)
def one_thread():
    """Tiny tensors run fastest on one thread (and the suite shares 2 cores)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def fever_rows(fever_sample: Path) -> list[dict]:
    return [json.loads(line) for line in fever_sample.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="session")
def tiny_xfever(tmp_path_factory, fever_rows) -> Path:
    return write_tiny_xfever(tmp_path_factory.mktemp("xfever") / "tiny", fever_rows)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory, tiny_xfever: Path, fever_rows) -> Path:
    """A tiny BERT trained briefly on the tiny train split: some edit rows right, some wrong."""
    from harness.tiny import make_tiny_bert
    from harness.train_base import TrainSettings, load_fever_examples, train_classifier

    texts = [r["input"] for r in fever_rows]
    texts += [pseudo_translate(t, lang) for t in texts for lang in LANGS]
    texts += ["reportedly it is said that was"]
    base = make_tiny_bert(
        tmp_path_factory.mktemp("bert") / "base", texts, seed=0, hidden_size=128, intermediate_size=256
    )
    train = load_fever_examples(str(tiny_xfever), "train")
    # Selecting on the training rows keeps the most-fitted checkpoint: locality-train near 1.0 (so
    # damage shows), edit rows about half right (110 training claims do not generalise far).
    settings = TrainSettings(
        epochs=8,
        batch_size=16,
        lr=3e-3,
        warmup_steps=0,
        label_smoothing=0.0,
        seed=0,
        progress=False,
        device="cpu",
    )
    out = tmp_path_factory.mktemp("bert") / "trained"
    train_classifier(base, train, train, out, settings)
    return out
