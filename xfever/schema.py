"""The XFEVER dataset layout: configs, splits and columns.

This module is the single contract between the builder (`xfever`) and its readers (`harness`):
anything that writes or reads an XFEVER folder takes names from here.

Layout (Hub style, one config per language, see docs/builder.md):

    <out>/README.md                          dataset card (YAML `configs` + body)
    <out>/build.json                         machine-readable provenance, row counts, QA counts
    <out>/en/{train,validation,edit,test}-00000-of-00001.parquet
    <out>/<lang>/edit-00000-of-00001.parquet
    <out>/<lang>/rephrases-00000-of-00001.parquet   only with --translate-rephrases

Columns
-------
`label`, everywhere: a `datasets.ClassLabel` with names `LABELS`, in this order: 0 = SUPPORTS,
    1 = REFUTES (stored as int64; the names travel in each parquet file's Arrow schema metadata and in
    the card's `dataset_info`). Readers that want names use `label_names_of`.
`en` config, every split:
    id (str), label, claim (str), rephrases (list[str], may be empty)
`<lang>` config, split `edit` (one row per English edit row, same order):
    id, rephrase_index (always null here), label, claim (the translation), claim_en (the English
    source), plus the QA columns. `rephrase_index` is present only because `load_dataset` needs all
    splits of a config to share one set of columns (it casts every file to the first file's schema).
`<lang>` config, split `rephrases` (one row per English rephrase of an edit row):
    id (of the edit row), rephrase_index (int), label, claim (translated rephrase),
    claim_en (English rephrase), plus the QA columns
QA columns (see xfever/qa.py): qa_detected_lang (str), qa_lang_ok, qa_script_ok, qa_empty,
    qa_copy, qa_loop (bool), qa_length_ratio (float), qa_length_outlier (bool), qa_flagged (bool:
    any check failed). Flagged rows are kept, never dropped.
"""

from __future__ import annotations

from typing import Any

SCHEMA_VERSION = 2
# What each layout version changed, for the message that refuses a folder of an older one.
LAYOUT_CHANGES = {
    2: "'label' became a ClassLabel (0 SUPPORTS, 1 REFUTES) and the card gained dataset_info",
}

# The ClassLabel's names, in id order (0, 1): do not reorder, ids are stored.
LABELS: tuple[str, ...] = ("SUPPORTS", "REFUTES")
NOT_ENOUGH_INFO = "NOT ENOUGH INFO"

SOURCE_LANG = "en"
DEFAULT_LANGS: tuple[str, ...] = ("de", "fr", "es", "zh", "ar")

# Splits of the English config, in card order.
EN_SPLITS: tuple[str, ...] = ("train", "validation", "edit", "test")
EDIT_SPLIT = "edit"
REPHRASE_SPLIT = "rephrases"

# Column names.
ID, LABEL, CLAIM, CLAIM_EN, REPHRASES, REPHRASE_INDEX = (
    "id",
    "label",
    "claim",
    "claim_en",
    "rephrases",
    "rephrase_index",
)
QA_COLUMNS: tuple[str, ...] = (
    "qa_detected_lang",
    "qa_lang_ok",
    "qa_script_ok",
    "qa_empty",
    "qa_copy",
    "qa_loop",
    "qa_length_ratio",
    "qa_length_outlier",
    "qa_flagged",
)

QA_TYPES = {"qa_detected_lang": "string", "qa_length_ratio": "float64"}  # every other QA column: bool

BUILD_FILE = "build.json"
CARD_FILE = "README.md"


def parquet_path(config: str, split: str) -> str:
    """Relative path of one split's single parquet shard, as `load_dataset` resolves it."""
    return f"{config}/{split}-00000-of-00001.parquet"


def features(config: str) -> Any:
    """The `datasets.Features` of every split of `config`: the Arrow schema of its parquet files and the
    features of the card's `dataset_info` (`en`, or any translated config)."""
    from datasets import ClassLabel, Features, Value

    label = ClassLabel(names=list(LABELS))
    if config == SOURCE_LANG:
        return Features(
            {ID: Value("string"), LABEL: label, CLAIM: Value("string"), REPHRASES: [Value("string")]}
        )
    head = {ID: Value("string"), REPHRASE_INDEX: Value("int64"), LABEL: label}
    head |= {CLAIM: Value("string"), CLAIM_EN: Value("string")}
    return Features(head | {name: Value(QA_TYPES.get(name, "bool")) for name in QA_COLUMNS})


def translated_features() -> Any:
    """The features of every translated config (they do not depend on the language)."""
    return features("translated")


def label_ids(names: list[str]) -> list[int]:
    """Label names -> the ClassLabel ids stored in `label`."""
    return [LABELS.index(name) for name in names]


def label_names_of(dataset: Any) -> list[str]:
    """The `label` column of a loaded split as names: a ClassLabel's names (this layout); the strings
    as they are where `label` is text (layout version 1, or a folder written by another tool)."""
    from common.dataset_loading import columns

    feature = dataset.features[LABEL]
    values = columns(dataset, LABEL)[LABEL]  # whole column through Arrow, not row by row
    names = getattr(feature, "names", None)
    if names and hasattr(feature, "int2str"):
        known = range(len(names))
        return [names[v] if v in known else feature.int2str(int(v)) for v in values]
    if hasattr(feature, "int2str"):
        return [feature.int2str(int(value)) for value in values]
    return [str(value) for value in values]


def check_schema_version(record: object, where: str) -> None:
    """Refuse a build.json written for another layout version (a missing version is accepted)."""
    from common.errors import ToolkitError

    found = record.get("schema_version") if isinstance(record, dict) else None
    if found is None or found == SCHEMA_VERSION:
        return
    prefix = f"{where}: field 'schema_version': the folder has layout version {found!r}"
    if isinstance(found, int) and found < SCHEMA_VERSION:
        newer = [v for v in range(found + 1, SCHEMA_VERSION + 1) if v in LAYOUT_CHANGES]
        changes = "; ".join(f"version {v}: {LAYOUT_CHANGES[v]}" for v in newer)
        raise ToolkitError(
            f"{prefix}, written by an older xfever; this xfever reads version {SCHEMA_VERSION} ({changes}): "
            "rebuild the folder with this xfever (the same `xfever build` arguments plus --overwrite)"
        )
    raise ToolkitError(
        f"{prefix}, this xfever reads version {SCHEMA_VERSION}; rebuild it with this version, or install "
        "the xfever that wrote it"
    )
