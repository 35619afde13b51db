"""A tiny XFEVER-shaped folder and a tiny trained BERT, for the tests and the benchmarks.

The folder is written like `xfever build` writes it (parquet at `schema.parquet_path`, README.md with
YAML `configs` and `dataset_info`), so `datasets.load_dataset` resolves it exactly as it would the Hub
dataset; only the "translations" are deterministic pseudo-translations (a per-language mapping of
function words; names and content words stay, as in MT). For a controlled cross-lingual testbed
with close and far synthetic languages, see `harness.testbed`.
"""

from __future__ import annotations

import json
from pathlib import Path

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
    table = FUNCTION_WORDS.get(lang) or {**FUNCTION_WORDS["es"], "the": f"the-{lang}"}  # other codes: marked
    return " ".join(table.get(w.lower(), w) for w in text.split())


def rephrases_of(claim: str, n: int) -> list[str]:
    """English 'rephrases': every fifth row has none (the harness must cope)."""
    if n % 5 == 4:
        return []
    out = [f"reportedly , {claim}"]
    if n % 2 == 0:
        out.append(claim.replace(" is ", " was ") if " is " in claim else f"it is said that {claim}")
    return out


def write_tiny_xfever(
    out: Path,
    rows: list[dict],
    langs: tuple[str, ...] = LANGS,
    *,
    translated_rephrases: bool = True,
    sizes: dict[str, int] | None = None,
) -> Path:
    """Write an XFEVER-shaped folder from KILT-like rows (id, input, output[0].answer).

    Tables, columns and dtypes come from the builder's own writers (xfever.layout, QA columns from
    xfever.qa), so the folder has exactly the layout `xfever build` writes; only the translations
    are the pseudo-translations above.
    """
    import random

    from xfever import layout, qa
    from xfever.sources import Claim

    records = [(r["id"], r["output"][0]["answer"], r["input"]) for r in rows]
    random.Random(0).shuffle(records)  # the sample is sorted by label
    start, splits = 0, {}
    for split, size in (sizes or SPLIT_SIZES).items():
        part = records[start : start + size]
        start += size
        splits[split] = [
            Claim(i, label, claim, tuple(rephrases_of(claim, n)) if split == "edit" else ())
            for n, (i, label, claim) in enumerate(part)
        ]
    counts = {
        schema.SOURCE_LANG: {
            s: layout.write_split(out, "en", s, layout.en_table(c)) for s, c in splits.items()
        }
    }
    edit = splits[schema.EDIT_SPLIT]
    bases = {
        schema.EDIT_SPLIT: {
            "id": [c.id for c in edit],
            "label": [c.label for c in edit],
            "claim_en": [c.claim for c in edit],
        }
    }
    if translated_rephrases:
        pairs = [(c, k, t) for c in edit for k, t in enumerate(c.rephrases)]
        bases[schema.REPHRASE_SPLIT] = {
            "id": [c.id for c, _, _ in pairs],
            "rephrase_index": [k for _, k, _ in pairs],
            "label": [c.label for c, _, _ in pairs],
            "claim_en": [t for _, _, t in pairs],
        }
    for lang in langs:
        counts[lang] = {}
        for split, base in bases.items():
            claims = [pseudo_translate(t, lang) for t in base["claim_en"]]
            cols = qa.qa_columns(base["claim_en"], claims, lang, langs)
            table = layout.translated_table({**base, "claim": claims}, cols)
            counts[lang][split] = layout.write_split(out, lang, split, table)
    _write_card(out, counts)
    # the pseudo-translations stand in for opus-mt, as the builder records stand-in engines
    engines = {lang: {"engine": "pseudo-translation (test fixture)", "stand_in": True} for lang in langs}
    record = {"schema_version": schema.SCHEMA_VERSION, "build_id": "tiny-test", "langs": list(langs)}
    record |= {"configs": counts, "engines": engines}
    (out / schema.BUILD_FILE).write_text(json.dumps(record), encoding="utf-8")
    return out


def _write_card(out: Path, counts: dict[str, dict[str, int]]) -> None:
    """A minimal card with the builder's `configs` and `dataset_info` front matter (what `load_dataset`
    resolves)."""
    from huggingface_hub import DatasetCardData

    from xfever.layout import card_configs, card_dataset_info, dataset_sizes

    info = card_dataset_info(list(counts), dataset_sizes(out, counts))
    front = DatasetCardData(license="cc-by-sa-3.0", configs=card_configs(counts), dataset_info=info).to_yaml()
    text = f"---\n{front}\n---\n\n# tiny XFEVER-shaped test dataset\n"
    (out / schema.CARD_FILE).write_text(text, encoding="utf-8")


def train_tiny_model(dataset: Path, rows: list[dict], base_dir: Path, out_dir: Path) -> Path:
    """The tiny BERT of the harness tests, trained briefly on `dataset`'s train split.

    Shared by the `tiny_model` fixture and benchmarks/variants.py, so both measure one model.
    """
    from harness.model.tiny import make_tiny_bert
    from harness.train.base import TrainSettings, train_classifier
    from harness.train.data import load_fever_examples

    texts = [r["input"] for r in rows]
    texts += [pseudo_translate(t, lang) for t in texts for lang in LANGS]
    texts += ["reportedly it is said that was"]
    base = make_tiny_bert(base_dir, texts, seed=0, hidden_size=128, intermediate_size=256)
    train = load_fever_examples(str(dataset), "train")
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
    train_classifier(base, train, train, out_dir, settings)
    return out_dir
