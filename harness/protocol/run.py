"""`evaluate(config) -> EvalResult`: one evaluation run as a pipeline of named phases.

load suite -> load editor -> load model (labels checked before any edit) -> choose path (cached /
full) -> encode -> score the original model -> edit folder by folder (each written as it finishes)
-> pool metrics. `harness.evaluate` is this function; the CLI only builds the config and writes.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from harness.config import EvalConfig
from harness.data.xfever import suite_summary
from harness.editors.base import LAST_FFN, Memory, editor_changes
from harness.protocol.folders import FolderResult, ProtocolContext, ProtocolError, run_folders
from harness.report.results import EvalResult, bootstrap_info, provenance, write_folder, write_result
from harness.report.scoring import RowRecords, add_intervals, all_texts, edit_metrics, pooled_metrics, score_rows
from harness.report.standin import stand_in_record
from harness.data.suite import EvalSuite
from common.errors import ToolkitError

log = logging.getLogger(__name__)


def load_suite(config: EvalConfig) -> EvalSuite:
    if config.task == "xnli":
        from harness.data.xnli import load_xnli_suite

        suite = load_xnli_suite(config.dataset, langs=config.langs, revision=config.dataset_revision)
        return with_nli_memory(suite, config)
    from dataclasses import replace

    from harness.data.xfever import load_xfever_suite

    suite = load_xfever_suite(
        config.dataset,
        langs=config.langs,
        locality_train_size=config.locality_train_size,
        memory_size=config.memory_size,
        seed=config.data_seed,
        revision=config.dataset_revision,
    )
    source = f"en/train (sample of {len(suite.info.get('memory', ()))}, seed {config.data_seed + 1})"
    return replace(suite, info={**suite.info, "memory_source": source})


def with_nli_memory(suite: EvalSuite, config: EvalConfig) -> EvalSuite:
    """XNLI: T-Patcher's memory from MultiNLI train (the base model's training data), sampled.

    `memory_data="locality"` uses the locality set instead; without `memory_data`, a MultiNLI that
    cannot be loaded (offline) falls back to it with a warning. `info["memory_source"]` says which."""
    from dataclasses import replace

    from harness.data.xfever import _sample
    from harness.data.xnli import MULTINLI_ID, load_multinli_examples

    fallback = f"locality ({', '.join(suite.locality)}): the memory falls back to the locality set"
    if config.memory_data == "locality":
        return replace(suite, info={**suite.info, "memory_source": fallback})
    source = config.memory_data or MULTINLI_ID
    try:
        rows = load_multinli_examples(source, "train")
    except ToolkitError as exc:
        if config.memory_data:
            raise ToolkitError(f"--memory-data: {exc}") from None
        log.warning("T-Patcher memory: %s; using the locality set instead", exc)
        return replace(suite, info={**suite.info, "memory_source": f"{fallback} ({source} not loadable)"})
    memory = _sample(rows, config.memory_size, config.data_seed + 1)
    source_text = f"{source}:train (sample of {len(memory)} of {len(rows)} rows, seed {config.data_seed + 1})"
    return replace(suite, info={**suite.info, "memory": memory, "memory_source": source_text})


def choose_path(config: EvalConfig, editor: Any) -> str:
    """Cached when allowed, the editor declares it changes only the last FFN, and dropout allows it."""
    if config.cache and editor_changes(editor) == LAST_FFN and config.dropout != "model":
        return "cached"
    return "full"


def evaluate(config: EvalConfig) -> EvalResult:
    """Run the sequential-edit protocol of `config`; write files when `config.out_dir` is set."""
    from harness.editors.registry import load_editor
    from harness.model.loading import load_classifier
    from harness.model.views import make_view

    timings: dict[str, float] = {}
    clock = time.perf_counter()
    suite = load_suite(config)
    editor, settings = load_editor(config.editor, config.editor_options)
    loaded = load_classifier(
        config.model,
        suite.label_names,
        revision=config.model_revision,
        label_map=config.label_map,
        trust_remote_code=config.trust_remote_code,
        device=config.device,
    )
    timings["load"] = time.perf_counter() - clock
    path = choose_path(config, editor)
    view = make_view(
        loaded,
        cached=path == "cached",
        max_length=config.max_length,
        dropout=config.dropout,
        batch_size=config.batch_size,
    )
    rows = suite.edit[: config.max_edits] if config.max_edits else suite.edit
    memory = _encode(view, suite, rows, config, loaded.info, timings)
    if hasattr(editor, "setup"):
        editor.setup(view, suite)
    clock = time.perf_counter()
    original = score_rows(view, rows, suite, loaded.label_ids, model="original", folder=-1)
    if config.subset:  # Table 3: chosen from the original model's predictions, before any edit
        suite, rows, original = apply_subset(config.subset, suite, rows, original)
    timings["original_eval"] = time.perf_counter() - clock
    result = _new_result(config, suite, loaded.info, editor, settings, path, original)
    return _edit_phase(view, editor, memory, rows, suite, loaded.label_ids, config, result, timings)


def apply_subset(name: str, suite: EvalSuite, rows: Any, original: RowRecords) -> tuple:
    """The subset `name` of the edit rows, and the original model's records restricted to it."""
    from dataclasses import replace

    from harness.data.subsets import select_subset

    langs = {"reliability": "en"} | {f"clg_{lang}": lang for lang in suite.langs}
    correct: dict[str, dict[str, bool]] = {}
    for key, rid, ok in zip(original.metric, original.row_id, original.correct, strict=True):
        if key in langs:
            correct.setdefault(rid, {})[langs[key]] = ok
    chosen = select_subset(name, replace(suite, edit=tuple(rows)), correct)
    kept = {row.id for row in chosen.edit}
    edit_keys = set(langs) | {"mlg"} | {f"clg_rephrase_{lang}" for lang in suite.langs}
    records = original.where(lambda key, rid: key not in edit_keys or rid.split("#")[0] in kept)
    return chosen, list(chosen.edit), records


def _encode(
    view: Any, suite: EvalSuite, rows: Any, config: EvalConfig, model_info: dict, timings: dict
) -> Memory:
    """The cached path's one-time encoding (and, on both paths, the memory's [CLS] vectors)."""
    from harness.model.encode import warm

    clock = time.perf_counter()
    # T-Patcher's memory: training rows (XFEVER: a sample of `train`); a suite without one falls
    # back to its first locality set, so that the memory loss is never silently empty.
    fallback = suite.locality.get("train") or next(iter(suite.locality.values()), ())
    memory_rows = suite.info.get("memory") or fallback
    memory_texts = [e.text for e in memory_rows]
    if view.path == "cached":
        key = {
            "model": model_info.get("revision"),
            "dataset": suite.dataset_revision,
            "max_length": config.max_length,
        }
        groups = {"scored": all_texts(suite, rows), "memory": memory_texts}
        warm(view, groups, cache_dir=config.cache_dir, key=key, progress=config.progress)
    memory = Memory(view.vectors(memory_texts))  # (0, hidden) on the view's device when empty
    memory.prepare()  # the int8 search index of a large memory: part of the one-time encoding cost
    timings["encoding"] = time.perf_counter() - clock
    return memory


def _new_result(config, suite, model_info, editor, settings, path, original: RowRecords) -> EvalResult:
    train_langs = (settings or {}).get("train_langs")
    metrics = summarize(original, "original", suite.langs, config, train_langs)
    metrics |= {"patch_num": {"value": 0, "n": 1}}
    return EvalResult(
        status="running",
        config=config.to_dict(),
        provenance=provenance(),
        model=model_info,
        dataset=suite_summary(suite)
        | {"name": suite.name, "langs": list(suite.langs), "labels": list(suite.label_names)},
        editor={"name": config.editor, "settings": settings, "changes": editor_changes(editor)},
        path=path,
        dropout=config.dropout,
        seed=config.seed,
        folders=config.folders,
        metrics={},
        original=metrics,
        rows=RowRecords.concat([original]),
        bootstrap=bootstrap_info(config),
        stand_in=stand_in_record(config.model, config.dataset),
    )


def summarize(
    records: RowRecords, model: str, langs, config: EvalConfig, train_langs, steps=None, n_folders=0
) -> dict[str, dict[str, Any]]:
    """Pooled metrics (+ edit metrics from `steps`) of `model`, each with its bootstrap interval."""
    metrics = pooled_metrics(records, model, langs, train_langs=train_langs)
    if steps is not None:
        metrics |= edit_metrics(steps, n_folders)
    return add_intervals(
        metrics,
        records,
        model,
        langs,
        train_langs=train_langs,
        steps=steps or (),
        n_resamples=config.bootstrap_resamples,
        seed=config.bootstrap_seed,
    )


def _edit_phase(
    view, editor, memory, rows, suite, label_ids, config, result: EvalResult, timings
) -> EvalResult:
    finished: list[FolderResult] = []

    def on_folder(folder: FolderResult) -> None:
        finished.append(folder)
        if config.out_dir:
            folder_metrics = pooled_metrics(folder.rows, "edited", suite.langs) | edit_metrics(
                folder.steps, 1
            )
            write_folder(
                config.out_dir, folder, folder_metrics, {"editor": config.editor, "seed": config.seed}
            )

    ctx = ProtocolContext(suite, config.editor, label_ids, config.seed, config.progress, on_folder)
    if config.out_dir:  # resumable: checkpoints in the run folder (harness.protocol.checkpoint)
        from harness.protocol.checkpoint import Checkpointer

        model_revision = result.model.get("revision")
        ctx.checkpoint = Checkpointer(
            config.out_dir, config, model_revision=model_revision, dataset_revision=suite.dataset_revision
        )
    clock = time.perf_counter()
    try:
        run_folders(view, editor, memory, rows, config.folders, ctx)
    except ProtocolError as exc:
        result.status, result.error = "failed", str(exc)
        _finish(result, finished, suite, timings, clock, config)
        raise
    _finish(result, finished, suite, timings, clock, config)
    result.status = "complete"
    if config.out_dir:
        write_result(config.out_dir, result)
        ctx.checkpoint.finish()
    return result


def _finish(result: EvalResult, finished: list[FolderResult], suite, timings, clock, config) -> None:
    """Pool the finished folders into the result (also for a failed run, then written)."""
    timings["editing"] = time.perf_counter() - clock
    result.steps = [s for f in finished for s in f.steps]
    result.rows = RowRecords.concat([result.rows] + [f.rows for f in finished])
    train_langs = result.editor.get("settings", {}).get("train_langs")
    result.metrics = summarize(
        result.rows, "edited", suite.langs, config, train_langs, result.steps, len(finished)
    )
    result.per_folder = [
        {"index": f.index, "rows": len(f.row_ids), "patches": f.patches, "seconds": round(f.seconds, 3)}
        for f in finished
    ]
    result.timings = {k: round(v, 3) for k, v in timings.items()}
    if result.status == "failed" and config.out_dir:
        write_result(config.out_dir, result)


def run_dir_for(out: str | Path, config: EvalConfig) -> Path:
    """Default run folder name under `out`: editor, folders and seed."""
    name = config.editor.replace(":", "_").replace("/", "_").replace(".py", "")
    return Path(out) / f"{name}-f{config.folders}-s{config.seed}"
