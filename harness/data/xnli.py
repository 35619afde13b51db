"""The XNLI track (paper section 4.1.1, Table 2) and the NLI data for its base model.

`facebook/xnli` has one config per language. The English `test` split (5,010 rows) is the edit
set; the same rows in the 14 other languages are the parallel sets (XNLI test rows are aligned by
index across configs); English `validation` (2,490 rows) is the locality set. Texts are
(premise, hypothesis) pairs; there are no rephrases, hence no MLG.

XNLI is CC BY-NC 4.0: it is loaded, never copied; outputs may carry row ids only.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from common.errors import ToolkitError, UsageError
from common.identity import dataset_revision
from harness.data.suite import EditRow, EvalSuite, Example

log = logging.getLogger(__name__)

XNLI_ID = "facebook/xnli"
MULTINLI_ID = "nyu-mll/multi_nli"
XNLI_LANGS: tuple[str, ...] = (
    "ar", "bg", "de", "el", "es", "fr", "hi", "ru", "sw", "th", "tr", "ur", "vi", "zh",
)  # fmt: skip
NLI_LABELS: tuple[str, ...] = ("entailment", "neutral", "contradiction")
SOURCE_LANG = "en"
EDIT_SPLIT, LOCALITY_SPLIT = "test", "validation"
LICENCE_NOTE = (
    "XNLI is CC BY-NC 4.0 (Conneau et al. 2018): loaded from its source, never re-published; "
    "outputs carry row ids only (xnli-test-<row index>), no premise, hypothesis or translation."
)


def load_xnli_suite(
    dataset: str = XNLI_ID,
    *,
    langs: Sequence[str] | None = None,
    revision: str | None = None,
    locality_split: str = LOCALITY_SPLIT,
) -> EvalSuite:
    """The XNLI evaluation suite: English test rows as edits, other configs as parallel sets.

    `langs` selects the CLG languages (default: every language config but English, in the paper's
    Table 2 order). Each parallel config must have exactly as many test rows as English.
    """
    chosen = _choose_langs(dataset, langs, revision)
    english, label_names = _load_pairs(dataset, SOURCE_LANG, EDIT_SPLIT, revision)
    _require_gold(english, dataset, SOURCE_LANG, EDIT_SPLIT)
    parallel: dict[str, list[tuple[str, str]]] = {}
    for lang in chosen:
        texts, _ = _load_pairs(dataset, lang, EDIT_SPLIT, revision)
        if len(texts["text"]) != len(english["text"]):
            raise ToolkitError(
                f"{dataset}: config '{lang}' split '{EDIT_SPLIT}' has {len(texts['text'])} rows but "
                f"config '{SOURCE_LANG}' has {len(english['text'])}; XNLI test rows must be parallel"
            )
        parallel[lang] = texts["text"]
    edit = tuple(
        EditRow(
            id=f"xnli-{EDIT_SPLIT}-{i}",
            text=text,
            label=label,
            parallel={lang: parallel[lang][i] for lang in chosen},
        )
        for i, (text, label) in enumerate(zip(english["text"], english["label"], strict=True))
    )
    locality = load_xnli_examples(dataset, SOURCE_LANG, locality_split, revision=revision)
    return EvalSuite(
        name="xnli",
        dataset_id=dataset,
        dataset_revision=dataset_revision(dataset, revision),
        langs=tuple(chosen),
        label_names=label_names,
        edit=edit,
        locality={locality_split: tuple(locality)},
        has_rephrases=False,
        info={
            "licence_note": LICENCE_NOTE,
            "edit": f"{SOURCE_LANG}/{EDIT_SPLIT}",
            "locality": {locality_split: f"{SOURCE_LANG}/{locality_split}"},
            "rows": {"edit": len(edit), locality_split: len(locality)},
        },
    )


def load_xnli_examples(
    dataset: str = XNLI_ID,
    lang: str = SOURCE_LANG,
    split: str = LOCALITY_SPLIT,
    *,
    revision: str | None = None,
) -> list[Example]:
    """One XNLI config's split as pair examples with ids `xnli-<split>-<row index>`."""
    rows, _ = _load_pairs(dataset, lang, split, revision)
    _require_gold(rows, dataset, lang, split)
    return [
        Example(id=f"xnli-{split}-{i}", text=text, label=label)
        for i, (text, label) in enumerate(zip(rows["text"], rows["label"], strict=True))
    ]


def load_multinli_examples(
    dataset: str = MULTINLI_ID, split: str = "train", *, revision: str | None = None
) -> list[Example]:
    """MultiNLI pairs (the XNLI base model's training data); rows labelled -1 (no gold) dropped."""
    rows, _ = _load_pairs(dataset, None, split, revision, id_column="pairID")
    examples = [
        Example(id=f"mnli-{split}-{row_id}", text=text, label=label)
        for row_id, text, label in zip(rows["id"], rows["text"], rows["label"], strict=True)
        if label is not None
    ]
    log.info(
        "%s/%s: %d rows, %d without a gold label dropped",
        dataset,
        split,
        len(rows["id"]),
        len(rows["id"]) - len(examples),
    )
    return examples


def _choose_langs(dataset: str, langs: Sequence[str] | None, revision: str | None) -> list[str]:
    from common.dataset_loading import config_names

    try:
        configs = set(config_names(dataset, revision=revision))
    except Exception as err:  # datasets raises several types for a missing repo or folder
        raise ToolkitError(f"{dataset}: cannot list its configs: {err}") from None
    if SOURCE_LANG not in configs:
        raise ToolkitError(f"{dataset}: no '{SOURCE_LANG}' config (found: {', '.join(sorted(configs))})")
    available = [lang for lang in XNLI_LANGS if lang in configs]
    available += sorted(configs - set(XNLI_LANGS) - {SOURCE_LANG, "all_languages"})
    if langs is None:
        return available
    unknown = [lang for lang in langs if lang not in available]
    if unknown:
        raise UsageError(
            f"--langs: {', '.join(unknown)} not in {dataset} (available: {', '.join(available)})"
        )
    return list(langs)


def _load_pairs(
    dataset: str, config: str | None, split: str, revision: str | None, *, id_column: str | None = None
) -> tuple[dict[str, list[Any]], tuple[str, ...]]:
    """Columns `text` (premise, hypothesis), `label` (name, None for -1) and `id`; label names."""
    from common.dataset_loading import load_split

    where = f"{dataset}" + (f" config '{config}'" if config else "") + f" split '{split}'"
    try:
        ds = load_split(dataset, config, split, revision=revision)
    except Exception as err:  # missing repo, config or split: datasets raises several types
        raise ToolkitError(f"{where}: cannot load: {err}") from None
    missing = [c for c in ("premise", "hypothesis", "label") if c not in ds.column_names]
    if missing:
        raise ToolkitError(
            f"{where}: missing column(s) {', '.join(missing)} (has {', '.join(ds.column_names)})"
        )
    names = _label_names(ds.features["label"])
    from common.dataset_loading import columns as arrow_columns

    columns = arrow_columns(ds, "premise", "hypothesis", "label")  # through Arrow, not row by row
    labels: list[str | None] = []
    for i, value in enumerate(columns["label"]):
        if value == -1:
            labels.append(None)
        elif isinstance(value, int) and 0 <= value < len(names):
            labels.append(names[value])
        else:
            raise ToolkitError(
                f"{where}: row {i}: field 'label' {value!r} is not in 0..{len(names) - 1} or -1"
            )
    has_ids = id_column and id_column in ds.column_names
    ids = arrow_columns(ds, id_column)[id_column] if has_ids else list(range(len(ds)))
    text = list(zip(columns["premise"], columns["hypothesis"], strict=True))
    return {"id": ids, "text": text, "label": labels}, names


def _require_gold(rows: dict[str, list[Any]], dataset: str, config: str, split: str) -> None:
    for i, label in enumerate(rows["label"]):
        if label is None:
            raise ToolkitError(f"{dataset} config '{config}' split '{split}': row {i}: field 'label' is -1")


def _label_names(feature: Any) -> tuple[str, ...]:
    names = getattr(feature, "names", None)
    return tuple(names) if names else NLI_LABELS  # integer labels without names: XNLI's order
