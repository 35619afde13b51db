"""The XFEVER dataset layout: configs, splits and columns.

This module is the single contract between the builder (`xfever`) and its readers (`harness`):
anything that writes or reads an XFEVER folder takes names from here.

Layout (Hub style, one config per language, see ../shared/notes/builder.md):

    <out>/README.md                          dataset card (YAML `configs` + body)
    <out>/build.json                         machine-readable provenance, row counts, QA counts
    <out>/en/{train,validation,edit,test}-00000-of-00001.parquet
    <out>/<lang>/edit-00000-of-00001.parquet
    <out>/<lang>/rephrases-00000-of-00001.parquet   only with --translate-rephrases

Columns
-------
`en` config, every split:
    id (str), label (str: SUPPORTS | REFUTES), claim (str), rephrases (list[str], may be empty)
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

SCHEMA_VERSION = 1

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

BUILD_FILE = "build.json"
CARD_FILE = "README.md"


def parquet_path(config: str, split: str) -> str:
    """Relative path of one split's single parquet shard, as `load_dataset` resolves it."""
    return f"{config}/{split}-00000-of-00001.parquet"


def check_schema_version(record: object, where: str) -> None:
    """Refuse a build.json written for another layout version (a missing version is accepted)."""
    from common.errors import ToolkitError

    found = record.get("schema_version") if isinstance(record, dict) else None
    if found is not None and found != SCHEMA_VERSION:
        raise ToolkitError(
            f"{where}: field 'schema_version': the folder has layout version {found!r}, this xfever "
            f"reads version {SCHEMA_VERSION}; rebuild it with this version, or install the matching one"
        )
