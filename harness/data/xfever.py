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


class Layout:
    """The dataset's configs and each config's splits, resolved once per suite load.

    Every `datasets` call that resolves a dataset re-reads and re-parses its card (the YAML of every
    config's `dataset_info`): asking it anew before each split took 51 such calls and 2.5 of a 7 s
    run on the testbed; this asks once for the configs and once per config for its splits."""

    def __init__(self, dataset: str, revision: str | None = None) -> None:
        from common import dataset_loading

        self.dataset, self.revision = dataset, revision
        try:
            self.configs = dataset_loading.config_names(dataset, revision=revision)
        except Exception as exc:  # datasets raises several types for "not a dataset"
            raise ToolkitError(f"dataset {dataset}: cannot read its configs ({exc})") from exc
        self._splits: dict[str, list[str]] = {}

    def has_split(self, config: str, split: str) -> bool:
        from common import dataset_loading

        if config not in self._splits:
            try:
                names = dataset_loading.split_names(self.dataset, config, revision=self.revision)
            except Exception:
                names = []
            self._splits[config] = names
        return split in self._splits[config]

    def load(self, config: str, split: str) -> Any:
        """One split as a `datasets.Dataset`; a missing config or split names dataset, config, split."""
        from common import dataset_loading

        dataset = self.dataset
        if config not in self.configs:
            raise ToolkitError(
                f"dataset {dataset}: no config {config!r} (split {split!r} needed); has {self.configs}"
            )
        if not self.has_split(config, split):
            raise ToolkitError(f"dataset {dataset}: config {config!r} has no split {split!r}")
        # One split's file only: the splits of a language config (edit, rephrases) have different
        # columns, and `datasets` prepares every split of a config it loads.
        files = {split: schema.parquet_path(config, split)}
        try:
            return dataset_loading.load_split(
                dataset, config, split, revision=self.revision, data_files=files
            )
        except (ValueError, KeyError, FileNotFoundError) as exc:
            raise ToolkitError(
                f"dataset {dataset}: config {config!r} split {split!r}: cannot load ({exc})"
            ) from exc


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
    layout = Layout(name, revision)
    cols = (schema.ID, schema.LABEL, schema.CLAIM)
    en = {}
    for split in ("edit", "train", "test", "validation"):
        if split != "edit" and not layout.has_split(schema.SOURCE_LANG, split):
            continue
        en[split] = layout.load(schema.SOURCE_LANG, split)
        _check_columns(en[split], name, schema.SOURCE_LANG, split, cols)
    available = [c for c in layout.configs if c != schema.SOURCE_LANG]
    chosen = _choose_langs(name, available, langs)
    parallel, par_reph = _load_translations(layout, chosen)
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


def _load_translations(layout: Layout, langs: list[str]) -> tuple[dict, dict]:
    dataset = layout.dataset
    parallel: dict[str, dict[str, str]] = {}
    rephrases: dict[str, dict[str, list[tuple[int, str]]]] = {}
    for lang in langs:
        ds = layout.load(lang, schema.EDIT_SPLIT)
        _check_columns(ds, dataset, lang, schema.EDIT_SPLIT, (schema.ID, schema.CLAIM))
        cols = columns(ds, schema.ID, schema.CLAIM)
        parallel[lang] = dict(zip(map(str, cols[schema.ID]), cols[schema.CLAIM], strict=True))
        if layout.has_split(lang, schema.REPHRASE_SPLIT):
            rs = layout.load(lang, schema.REPHRASE_SPLIT)
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
