"""Whether a run was made with stand-in models or synthetic translations: results.json `stand_in`.

The testbed (harness.testbed: synthetic languages, tiny model), the demo built on it and the tests run
the real pipeline on stand-ins: a tiny untrained BERT for mBERT
(`harness/model/tiny.py` writes STAND_IN.txt into its folder; `harness train-base` records that note
as `provenance.stand_in` in the train_base.json of a model fine-tuned from it) and tiny random MarianMT
models for opus-mt (`xfever build` records `engines.<lang>.stand_in` in build.json). Their numbers
mean nothing, so every run records it, and plots and leaderboards say so where a reader looks.

`stand_in` is null for a run on real models, else `{"model": note or null, "dataset": note or null}`.
Only local folders are inspected: a Hub model or dataset counts as real (its card says otherwise).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

STAND_IN_FILE = "STAND_IN.txt"  # written by harness.model.tiny and xfever.tiny
TRAIN_RECORD = "train_base.json"  # harness.train.base.RECORD_FILE
BUILD_RECORD = "build.json"  # xfever.schema.BUILD_FILE
TESTBED_MARK = "synthetic languages"  # harness.testbed.LABEL is built on it; its notes all carry it
STAND_IN_TITLE = "STAND-IN MODELS: these numbers measure nothing real"
TESTBED_TITLE = (
    "SYNTHETIC LANGUAGES, TINY MODEL: a controlled testbed where the truth is known; "
    "the numbers say nothing about real languages or mBERT"
)


def model_stand_in(model: str | Path) -> str | None:
    """The stand-in note of a local model folder, or of the model it was fine-tuned from."""
    folder = Path(str(model))
    if not folder.is_dir():
        return None
    note = folder / STAND_IN_FILE
    if note.is_file():
        return note.read_text(encoding="utf-8").strip() or "stand-in model"
    base = _read_json(folder / TRAIN_RECORD).get("provenance", {}).get("stand_in")
    return f"fine-tuned from a stand-in: {base}" if base else None


def dataset_stand_in(dataset: str | Path) -> str | None:
    """Which languages of a local `xfever build` folder were translated by stand-in models, and which
    are synthetic languages (the lexicon engine of the testbed), not translations."""
    folder = Path(str(dataset))
    if not folder.is_dir():
        return None
    engines = _read_json(folder / BUILD_RECORD).get("engines") or {}
    engines = {lang: info for lang, info in engines.items() if isinstance(info, dict)}
    stand_in = [lang for lang, info in engines.items() if info.get("stand_in")]
    synthetic = [lang for lang, info in engines.items() if info.get("synthetic")]
    notes = []
    if stand_in:
        notes.append(f"synthetic translations (stand-in translation models) for {', '.join(stand_in)}")
    if synthetic:
        notes.append(f"{TESTBED_MARK} (lexicon engine), not translations: {', '.join(synthetic)}")
    return "; ".join(notes) or None


def stand_in_record(model: str | Path, dataset: str | Path) -> dict[str, str | None] | None:
    """results.json `stand_in`: null when neither the model nor the dataset is a stand-in."""
    record = {"model": model_stand_in(model), "dataset": dataset_stand_in(dataset)}
    return record if any(record.values()) else None


def stand_in_notes(results: list[dict[str, Any]]) -> list[str]:
    """The distinct stand-in notes of several results.json bodies (for plots and leaderboards)."""
    notes: list[str] = []
    for data in results:
        for part, note in (data.get("stand_in") or {}).items():
            text = f"{part}: {note}"
            if note and text not in notes:
                notes.append(text)
    return notes


def stand_in_title(notes: list[str] | tuple[str, ...]) -> str:
    """The warning over stand-in notes: the testbed's (meaningful, controlled) or real stand-ins'."""
    return TESTBED_TITLE if notes and all(TESTBED_MARK in note for note in notes) else STAND_IN_TITLE


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
