"""The steps `evaluate()` (harness.protocol.run) takes between loading a run and editing its folders:
which edit rows and in what order, which path (cached or full), the view, the one-time encoding,
and the all-wrong subset. Each is a function of the prepared run (`run.Prepared`)."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from harness.config import EvalConfig
from harness.data.suite import EditRow, EvalSuite
from harness.editors.base import LAST_FFN, Memory
from harness.editors.registry import LoadedEditor
from harness.report.scoring import RowRecords, locality_groups

if TYPE_CHECKING:
    from harness.protocol.run import Prepared

log = logging.getLogger(__name__)


def edit_rows(suite: EvalSuite, mode: str) -> tuple[tuple[EditRow, ...], int]:
    """The edit rows of `mode` (`rephrased`: rows without rephrases dropped, as the reference's
    FeverEditData; a suite without rephrases at all, XNLI, keeps every row) and how many were dropped."""
    if mode != "rephrased" or not suite.has_rephrases:
        return tuple(suite.edit), 0
    kept = tuple(row for row in suite.edit if row.rephrases)
    if len(kept) < len(suite.edit):
        log.info("--edit-rows rephrased: %d edit rows without rephrases dropped", len(suite.edit) - len(kept))
    return kept, len(suite.edit) - len(kept)


def folder_rows(rows: tuple[EditRow, ...], config: EvalConfig) -> tuple[EditRow, ...]:
    """The rows in the order they are cut into folders: as given (`contiguous`), or shuffled with
    the run's seed (`random`: random folders with random order inside, as the reference)."""
    if config.folder_order != "random":
        return rows
    import random

    shuffled = list(rows)
    random.Random(f"folders:{config.seed}").shuffle(shuffled)
    return tuple(shuffled)


def choose_path(config: EvalConfig, editor: LoadedEditor) -> str:
    """Cached when allowed, the editor declares it changes only the last FFN, and dropout allows it."""
    if config.cache and editor.changes == LAST_FFN and config.dropout != "model":
        return "cached"
    return "full"


def make_view_for(prepared: Prepared) -> Any:
    from harness.model.views import make_view

    config = prepared.config
    return make_view(
        prepared.model,
        cached=prepared.path == "cached",
        max_length=config.max_length,
        dropout=config.dropout,
        head_dropout=config.head_dropout != "off",
        batch_size=config.batch_size,
        encode_dtype=config.encode_dtype,
    )


def encode(view: Any, prepared: Prepared) -> Memory:
    """The one-time encoding: every scored text (cached path) and the memory's [CLS] vectors."""
    from harness.model.encode import encode_run

    config, suite = prepared.config, prepared.suite
    key = {"model": prepared.model.info.get("revision"), "dataset": suite.dataset_revision}
    key["max_length"] = config.max_length
    if config.encode_dtype != "float32":  # float32 keeps the key (and the files) of earlier versions
        key["dtype"] = config.encode_dtype
    memory = encode_run(
        view, suite, prepared.rows, cache_dir=config.cache_dir, key=key, progress=config.progress
    )
    # every folder scores the locality rows: their frozen-FFN output is computed once per run
    view.keep_frozen([text for items in locality_groups(suite).values() for _, text, _ in items])
    return memory


def apply_subset(name: str, prepared: Prepared, original: RowRecords) -> tuple[Prepared, RowRecords]:
    """The subset `name` of the edit rows, and the original model's records restricted to it."""
    from harness.data.subsets import select_subset

    suite = prepared.suite
    langs = {"reliability": "en"} | {f"clg_{lang}": lang for lang in suite.langs}
    correct: dict[str, dict[str, bool]] = {}
    for key, rid, ok in zip(original.metric, original.row_id, original.correct, strict=True):
        if key in langs:
            correct.setdefault(rid, {})[langs[key]] = ok
    chosen = select_subset(name, replace(suite, edit=prepared.rows), correct)
    kept = {row.id for row in chosen.edit}
    edit_keys = set(langs) | {"mlg"} | {f"clg_rephrase_{lang}" for lang in suite.langs}
    records = original.where(lambda key, rid: key not in edit_keys or rid.split("#")[0] in kept)
    return replace(prepared, suite=chosen, rows=tuple(chosen.edit)), records
