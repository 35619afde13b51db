"""The dataset card: `cards/dataset_card.md` rendered with `huggingface_hub.DatasetCard`.

The card is made from the build record (the content of build.json without its timings), so it holds
no timestamps and a resumed build renders the same bytes. `pending_record()` gives the record of the
canonical build with every number that only a real run can give marked "pending" (DATASET_CARD.md).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from xfever.schema import DEFAULT_LANGS, EDIT_SPLIT, EN_SPLITS, LABELS, SCHEMA_VERSION, SOURCE_LANG

TEMPLATE = "dataset_card.md"
PENDING = "pending"
DEFAULT_REPO_ID = "ORG/xfever"
# The paper's appendix A.1 averages, shown next to ours.
PAPER_MEAN_LENGTHS = {"en": 8.2, "de": 7.8, "fr": 8.9, "es": 8.8, "zh": 13.2, "ar": 7.4}
_SIZE_CATEGORIES = ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"))
TAGS = ["cross-lingual", "model-editing", "fact-checking", "machine-translated"]
SOURCE_DATASETS = ["fever/fever", "facebook/kilt_tasks"]  # Hub ids of FEVER and of its KILT version
# Language and script of each config's text (ISO 639-3 + ISO 15924, as FLORES / NLLB name them): zh is
# Simplified Chinese, the script opus-mt-en-zh writes with its `>>cmn_Hans<<` target token.
LANGUAGE_DETAILS = {
    "en": "eng_Latn",
    "de": "deu_Latn",
    "fr": "fra_Latn",
    "es": "spa_Latn",
    "zh": "zho_Hans",
    "ar": "ara_Arab",
}


def size_category(rows: int | None) -> str:
    if rows is None:
        return "100K<n<1M"
    for limit, name in _SIZE_CATEGORIES:
        if rows < limit:
            return name
    return "1M<n<10M"


def language_details(record: Mapping[str, Any]) -> dict[str, str]:
    """config -> language and script of its text; zh follows the script its target token asked for."""
    details = {config: LANGUAGE_DETAILS[config] for config in record["configs"] if config in LANGUAGE_DETAILS}
    token = str((record.get("engines", {}).get("zh") or {}).get("target_token") or "")
    if "zh" in details and "_Hant" in token:
        details["zh"] = "zho_Hant"
    return details


def card_data(record: Mapping[str, Any]) -> Any:
    """YAML front matter: Hub metadata and the `configs` that `load_dataset` resolves."""
    from huggingface_hub import DatasetCardData

    from xfever.layout import card_configs, card_dataset_info

    counts = record["configs"]
    total = sum(n for splits in counts.values() for n in splits.values() if isinstance(n, int))
    return DatasetCardData(
        language=list(counts),
        language_details=list(language_details(record).values()),
        license="cc-by-sa-3.0",
        pretty_name="XFEVER (cross-lingual FEVER model-editing set)",
        tags=list(TAGS),
        task_categories=["text-classification"],
        task_ids=["fact-checking"],
        annotations_creators=["crowdsourced"],
        language_creators=["found", "machine-generated"],
        multilinguality=["multilingual", "translation"],
        size_categories=[size_category(total if total else None)],
        source_datasets=list(SOURCE_DATASETS),
        configs=card_configs(counts),
        # Sizes only from a real build; the canonical card (numbers pending) lists the features alone.
        dataset_info=card_dataset_info(list(counts), record.get("dataset_sizes")),
    )


def _display_model(engine: Mapping[str, Any]) -> str:
    """Hub ids as they are; a local folder by its name only (no machine paths in a published card)."""
    model = str(engine.get("model_id", PENDING))
    local = engine.get("model_sha256") or Path(model).is_absolute()
    return Path(model).name + " (local folder)" if local else model


def render_card(record: Mapping[str, Any], *, repo_id: str = DEFAULT_REPO_ID) -> str:
    """The card text for a build record."""
    from huggingface_hub import DatasetCard

    from cards import template

    engines = {lang: {**e, "model_display": _display_model(e)} for lang, e in record["engines"].items()}
    card = DatasetCard.from_template(
        card_data(record),
        template_str=template(TEMPLATE),
        record=record,
        engines=engines,
        repo_id=repo_id,
        langs=[c for c in record["configs"] if c != SOURCE_LANG],
        language_details=language_details(record),
        labels=LABELS,
        paper_lengths=PAPER_MEAN_LENGTHS,
        example=json.dumps(record.get("example", {}), ensure_ascii=False, indent=2),
        pending=PENDING,
    )
    # Template tags leave blank-line runs behind; Markdown needs at most one blank line anywhere here.
    return re.sub(r"\n{3,}", "\n\n", str(card.content)).rstrip("\n") + "\n"


def pending_record() -> dict[str, Any]:
    """The canonical build (`xfever build --langs de,fr,es,zh,ar` from the Hub's KILT FEVER), before a run."""
    from xfever.config import DEFAULT_RATIOS, DEFAULT_SPLIT_SEED, HUB_FEVER
    from xfever.qa import CHAR_LANGS
    from xfever.qa import settings as qa_settings
    from xfever.split import split_sizes
    from xfever.translate.targets import DEFAULT_MODELS, DEFAULT_TARGET_TOKENS

    sizes = dict(zip(("train", "validation", "edit"), split_sizes(104_966, DEFAULT_RATIOS), strict=True))
    counts = {
        SOURCE_LANG: {**sizes, "test": 10_444},
        **{lang: {EDIT_SPLIT: sizes["edit"]} for lang in DEFAULT_LANGS},
    }
    inputs = [
        {
            "role": role,
            "source": HUB_FEVER,
            "sha256": None,
            "revision": PENDING,
            "hub_config": "fever",
            "hub_split": split,
            "rows_kept": PENDING,
            "rows_dropped_not_enough_info": PENDING,
        }
        for role, split in (("train", "train"), ("dev", "validation"))
    ]
    engines = {
        lang: {
            "engine": "transformers",
            "engine_version": PENDING,
            "model_id": DEFAULT_MODELS[lang],
            "model_revision": PENDING,
            "target_token": DEFAULT_TARGET_TOKENS.get(lang),
            "device": PENDING,
            "precision": PENDING,
            "decoding": {"num_beams": "model generation config (4)"},
        }
        for lang in DEFAULT_LANGS
    }
    qa_keys = (
        "rows",
        "flagged",
        "wrong_language",
        "wrong_script",
        "empty",
        "copy_of_source",
        "repetition_loop",
        "length_outlier",
    )
    return {
        "schema_version": SCHEMA_VERSION,
        "xfever_version": PENDING,
        "git_sha": PENDING,
        "fingerprint": PENDING,
        "inputs": inputs,
        "split": {
            "mode": "split",
            "seed": DEFAULT_SPLIT_SEED,
            "ratios": list(DEFAULT_RATIOS),
            "leftover_rows_dropped": 104_966 - sum(sizes.values()),
            "sizes": sizes,
        },
        "configs": counts,
        "engines": engines,
        "qa": {lang: {EDIT_SPLIT: dict.fromkeys(qa_keys, PENDING)} for lang in DEFAULT_LANGS},
        "qa_settings": qa_settings(),
        "lengths": {
            c: {
                "rows": PENDING,
                "unit": "characters" if c in CHAR_LANGS else "words",
                "mean": PENDING,
                "median": PENDING,
                "p95": PENDING,
                "max": PENDING,
            }
            for c in (SOURCE_LANG, *DEFAULT_LANGS)
        },
        "figures": {},
        "example": {},
        "translate_rephrases": False,
        "en_splits": list(EN_SPLITS),
    }


def write_canonical(path: str | Path, *, repo_id: str = DEFAULT_REPO_ID) -> Path:
    """Write the canonical build's card (DATASET_CARD.md), numbers pending a real run."""
    from common.io import write_text_atomic

    write_text_atomic(path, render_card(pending_record(), repo_id=repo_id))
    return Path(path)


def rerender(folder: str | Path, *, repo_id: str = DEFAULT_REPO_ID) -> Path:
    """Render `folder`/README.md again from its build.json (after a template change, or for a repo id)."""
    from common.errors import ToolkitError
    from common.io import write_text_atomic
    from xfever.schema import BUILD_FILE, CARD_FILE

    source = Path(folder) / BUILD_FILE
    try:
        record = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ToolkitError(f"{source}: cannot read the build record ({err})") from None
    record.pop("run", None)
    write_text_atomic(Path(folder) / CARD_FILE, render_card(record, repo_id=repo_id))
    return Path(folder) / CARD_FILE
