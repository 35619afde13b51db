"""The XFEVER evaluation suite, read through `datasets.load_dataset` (Hub id or `xfever build` folder).

Layout and column names come from `xfever.schema`: config `en` (train / validation / edit / test, with
English `rephrases`), one config per language with split `edit` (joined to the English rows by `id`)
and optionally split `rephrases` (translated rephrases).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from common.dataset_loading import columns
from common.errors import ToolkitError, UsageError
from common.identity import dataset_revision
from harness.data.sampling import disjoint_draw
from harness.data.suite import EditRow, EvalSuite, Example
from xfever import schema

log = logging.getLogger(__name__)


def load_split(dataset: str, config: str, split: str, revision: str | None = None) -> Any:
    """One split as a `datasets.Dataset`; a missing config or split names dataset, config and split."""
    from common import dataset_loading

    configs = config_names(dataset, revision)
    if config not in configs:
        raise ToolkitError(f"dataset {dataset}: no config {config!r} (split {split!r} needed); has {configs}")
    if not _has_split(dataset, config, split, revision):
        raise ToolkitError(f"dataset {dataset}: config {config!r} has no split {split!r}")
    # One split's file only: the splits of a language config (edit, rephrases) have different
    # columns, and `datasets` prepares every split of a config it loads.
    files = {split: schema.parquet_path(config, split)}
    try:
        return dataset_loading.load_split(dataset, config, split, revision=revision, data_files=files)
    except (ValueError, KeyError, FileNotFoundError) as exc:
        raise ToolkitError(
            f"dataset {dataset}: config {config!r} split {split!r}: cannot load ({exc})"
        ) from exc


def config_names(dataset: str, revision: str | None = None) -> list[str]:
    from common import dataset_loading

    try:
        return dataset_loading.config_names(dataset, revision=revision)
    except Exception as exc:  # datasets raises several types for "not a dataset"
        raise ToolkitError(f"dataset {dataset}: cannot read its configs ({exc})") from exc


def _has_split(dataset: str, config: str, split: str, revision: str | None) -> bool:
    from common import dataset_loading

    try:
        return split in dataset_loading.split_names(dataset, config, revision=revision)
    except Exception:
        return False


def _check_columns(ds: Any, dataset: str, config: str, split: str, needed: tuple[str, ...]) -> None:
    missing = [c for c in needed if c not in ds.column_names]
    if missing:
        raise ToolkitError(
            f"dataset {dataset}: config {config!r} split {split!r}: missing column(s) {missing}"
        )


def _examples(ds: Any) -> list[Example]:
    labels = schema.label_names_of(ds)  # the ClassLabel's names (text labels of older folders as they are)
    cols = columns(ds, schema.ID, schema.CLAIM)  # whole columns through Arrow, not row by row
    return [
        Example(id=str(i), text=(c,), label=lab)
        for i, c, lab in zip(cols[schema.ID], cols[schema.CLAIM], labels, strict=True)
    ]


def load_xfever_suite(
    dataset: str | Path,
    *,
    langs: tuple[str, ...] | list[str] | None = None,
    locality_train_size: int = 10_000,
    memory_size: int = 40_000,
    seed: int = 0,
    revision: str | None = None,
) -> EvalSuite:
    """English edit rows with rephrases and translations, locality train subset and test, memory.

    `seed` fixes the locality-train subset and the memory, drawn disjointly from `train` as the
    reference does (`harness.data.sampling`); the editing seed is separate, so that runs with
    different editing seeds are scored on the same rows. A dataset without `train` or `test` (built
    from an `--edit-file` alone) is evaluated without the locality metrics it cannot give, and they
    are listed under `info["absent"]`.
    """
    name = str(dataset)
    _check_build_version(name)
    cols = (schema.ID, schema.LABEL, schema.CLAIM)
    en = {}
    for split in ("edit", "train", "test", "validation"):
        if split != "edit" and not _has_split(name, schema.SOURCE_LANG, split, revision):
            continue
        en[split] = load_split(name, schema.SOURCE_LANG, split, revision)
        _check_columns(en[split], name, schema.SOURCE_LANG, split, cols)
    available = [c for c in config_names(name, revision) if c != schema.SOURCE_LANG]
    chosen = _choose_langs(name, available, langs)
    parallel, par_reph = _load_translations(name, chosen, revision)
    edit_rows = _edit_rows(en["edit"], chosen, parallel, par_reph)
    train = _examples(en["train"]) if "train" in en else []
    local, memory = disjoint_draw(train, [locality_train_size, memory_size], seed)
    locality = {"train": local} if train else {}
    if "test" in en:
        locality["test"] = tuple(_examples(en["test"]))
    absent = [f"locality_{s}" for s in ("train", "test") if s not in en]
    if absent:
        log.warning(
            "dataset %s has no en/%s split: %s not measured (build it with --train/--dev, or add "
            "--train-file/--test-file, to have them)",
            name,
            " or en/".join(s for s in ("train", "test") if s not in en),
            " and ".join(absent),
        )
    draw = f"{len(local)} locality-train and {len(memory)} memory rows of {len(train)}"
    suite_info = {
        "seed": seed,
        "locality_train_size": locality_train_size,
        "memory_size": memory_size,
        "rows": {"edit": len(edit_rows)} | {s: len(en[s]) for s in ("train", "test") if s in en},
        "translated_rephrases": sorted(par_reph),
        "absent": absent,
        "memory_draw": f"disjoint seeded draw from en/train (seed {seed}): {draw}",
    }
    return EvalSuite(
        name="xfever",
        dataset_id=name,
        dataset_revision=dataset_revision(name, revision),
        langs=tuple(chosen),
        label_names=_label_names(edit_rows, train),
        edit=tuple(edit_rows),
        locality=locality,
        has_rephrases=True,
        info=suite_info,
        memory=memory,
        memory_source=f"en/train: {draw}, drawn disjointly with seed {seed}"
        if train
        else "none (no en/train)",
        validation=tuple(_examples(en["validation"])) if "validation" in en else (),
        validation_source=f"en/validation: all {len(en['validation'])} rows"
        if "validation" in en
        else "none (no en/validation)",
    )


def _choose_langs(dataset: str, available: list[str], langs: Any) -> list[str]:
    if langs is None:
        ordered = [lang for lang in schema.DEFAULT_LANGS if lang in available]
        return ordered + sorted(set(available) - set(ordered))
    missing = [lang for lang in langs if lang not in available]
    if missing:
        raise UsageError(
            f"--langs: dataset {dataset} has no config(s) {missing} (split 'edit'); has {available}"
        )
    return list(langs)


def _load_translations(dataset: str, langs: list[str], revision: str | None) -> tuple[dict, dict]:
    parallel: dict[str, dict[str, str]] = {}
    rephrases: dict[str, dict[str, list[tuple[int, str]]]] = {}
    for lang in langs:
        ds = load_split(dataset, lang, schema.EDIT_SPLIT, revision)
        _check_columns(ds, dataset, lang, schema.EDIT_SPLIT, (schema.ID, schema.CLAIM))
        cols = columns(ds, schema.ID, schema.CLAIM)
        parallel[lang] = dict(zip(map(str, cols[schema.ID]), cols[schema.CLAIM], strict=True))
        if _has_split(dataset, lang, schema.REPHRASE_SPLIT, revision):
            rs = load_split(dataset, lang, schema.REPHRASE_SPLIT, revision)
            by_id: dict[str, list[tuple[int, str]]] = {}
            rc = columns(rs, schema.ID, schema.REPHRASE_INDEX, schema.CLAIM)
            for i, k, c in zip(rc[schema.ID], rc[schema.REPHRASE_INDEX], rc[schema.CLAIM], strict=True):
                by_id.setdefault(str(i), []).append((int(k), c))
            rephrases[lang] = by_id
    return parallel, rephrases


def _edit_rows(en_edit: Any, langs: list[str], parallel: dict, par_reph: dict) -> list[EditRow]:
    has_reph = schema.REPHRASES in en_edit.column_names
    cols = columns(en_edit, schema.ID, schema.CLAIM, *((schema.REPHRASES,) if has_reph else ()))
    reph_col = cols[schema.REPHRASES] if has_reph else None
    rows = []
    for n, (row_id, claim, label) in enumerate(
        zip(cols[schema.ID], cols[schema.CLAIM], schema.label_names_of(en_edit), strict=True)
    ):
        row_id = str(row_id)
        rephrases = tuple((r,) for r in (reph_col[n] if reph_col is not None else None) or ())
        par = {lang: (parallel[lang][row_id],) for lang in langs if row_id in parallel[lang]}
        preph = {
            lang: tuple((c,) for _, c in sorted(par_reph[lang][row_id]))
            for lang in par_reph
            if row_id in par_reph[lang]
        }
        rows.append(EditRow(row_id, (claim,), label, rephrases, par, preph))
    return rows


def _label_names(edit_rows: list[EditRow], train: list[Example]) -> tuple[str, ...]:
    seen = {r.label for r in edit_rows} | {e.label for e in train}
    known = [lab for lab in schema.LABELS if lab in seen]
    return tuple(known + sorted(seen - set(known)))


def _check_build_version(dataset: str) -> None:
    """A local `xfever build` folder of another layout version is refused before anything loads."""
    build = Path(dataset) / schema.BUILD_FILE
    if not build.is_file():
        return
    try:
        record = json.loads(build.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ToolkitError(f"{build}: not readable JSON ({exc})") from None
    schema.check_schema_version(record, str(build))
