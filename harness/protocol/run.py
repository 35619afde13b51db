"""`evaluate(config) -> EvalResult`: one evaluation run, read top to bottom as the protocol.

    suite  = load_suite(config)                  the edit rows, locality sets, memory (harness.data)
    editor = load_editor(...)                    the editor and its recorded settings (harness.editors)
    model  = load_classifier(...)                classifier + label map, checked before any edit
    view   = make_view(model, path)              the exact cached-[CLS] path, or the full model
    memory = encode(view, suite, rows)           the one-time encoding: [CLS] vectors and memory
    original = score_rows(view, rows, suite)     the unedited model on every scored row
    folders  = run_folders(view, editor, ...)    each folder edited from the original model
    result   = assemble(...)                     pooled metrics with intervals, built once

`harness.evaluate` is this function; the CLI only builds the config and renders the result. With
`config.out_dir`, the run folder is locked for this process, resumed from its checkpoint when it
holds this run, and left absent when the run fails before writing anything.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from common.errors import UsageError
from common.io import OutputLock
from common.provenance import provenance
from harness.config import EvalConfig
from harness.data.suite import EditRow, EvalSuite
from harness.editors.base import Memory
from harness.editors.registry import LoadedEditor
from harness.protocol.folders import FolderResult, FolderSink, ProtocolError, plan_folders, run_folders
from harness.protocol.phases import apply_subset, choose_path, edit_rows, encode, folder_rows, make_view_for
from harness.protocol.run_dir import RunIdentity, clear, run_dir_state
from harness.report.results import EvalResult, RunWriter, load_run, result_from
from harness.report.scoring import RowRecords, score_rows
from harness.report.standin import stand_in_record

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Prepared:
    """What every phase after loading reads: the suite, editor, model and the path it runs on."""

    config: EvalConfig
    suite: EvalSuite
    editor: LoadedEditor
    model: Any  # harness.model.loading.LoadedModel
    path: str  # cached | full
    rows: tuple[EditRow, ...]
    identity: RunIdentity
    run_settings: dict[str, Any] | None = None  # resolved run settings and where each came from


def evaluate(config: EvalConfig, *, overwrite: bool = False) -> EvalResult:
    """Run the sequential-edit protocol of `config`; write its run folder when `config.out_dir` is set.

    A run folder that already holds this run complete is not redone: its result is read back
    (`result.origin == "reused"`); one with a checkpoint of this run resumes from it."""
    if config.executor != "local":  # folders as jobs of Ray (harness.protocol.distributed)
        from harness.protocol.distributed import evaluate_runs

        if not config.out_dir:
            raise UsageError(f"--executor {config.executor}: needs a run folder (--out)")
        return evaluate_runs([config], overwrite=overwrite)[0]
    if not config.out_dir:
        return _run(config, None, overwrite)
    run_dir = Path(config.out_dir)
    existed = run_dir.exists()
    with OutputLock(run_dir, "run folder"):
        try:
            return _run(config, run_dir, overwrite)
        except BaseException:
            if not existed and run_dir.is_dir() and not any(run_dir.iterdir()):
                run_dir.rmdir()  # nothing was written: leave nothing behind
            raise


@dataclass
class Started:
    """A run after its one-time phases (load, encoding, original model), ready for its folders."""

    prepared: Prepared
    run_dir: Path | None
    state: str  # fresh | resume
    view: Any
    memory: Memory
    original: RowRecords
    plan: list[list[EditRow]]
    writer: RunWriter | None
    checkpoint: Any  # harness.protocol.checkpoint.Checkpointer, with a run folder
    timings: dict[str, float]


def _run(config: EvalConfig, run_dir: Path | None, overwrite: bool) -> EvalResult:
    from common.device import torch_threads

    with torch_threads(config.threads):  # --threads: restored when the run ends
        started = start(config, run_dir, overwrite)
        if isinstance(started, EvalResult):
            return started
        clock = time.perf_counter()
        sink = _sink(started.prepared, started.writer, started.checkpoint)
        try:
            folders = run_folders(started.view, started.prepared.editor, started.memory, started.plan, sink)
        except ProtocolError as exc:
            started.timings["editing"] = time.perf_counter() - clock
            finish(started, exc.finished, "failed", str(exc))
            raise
        started.timings["editing"] = time.perf_counter() - clock
        return finish(started, folders, "complete", None)


def start(config: EvalConfig, run_dir: Path | None, overwrite: bool) -> Started | EvalResult:
    """The phases before the folders; a run folder holding this run complete gives its result."""
    timings: dict[str, float] = {}
    with _timed(timings, "load"):
        prepared = prepare(config)
    state = "fresh"
    if run_dir is not None:
        if overwrite:
            clear(run_dir)
        state = run_dir_state(run_dir, prepared.identity)
        if state == "complete":
            log.info("%s: already complete with these settings, model, dataset and editor", run_dir)
            return load_run(run_dir)
        if state == "resume":
            log.warning("resuming %s from its checkpoint", run_dir)  # shown even with --quiet
    view = make_view_for(prepared)
    with _timed(timings, "encoding"):
        memory = encode(view, prepared)
    if hasattr(prepared.editor.editor, "setup"):
        prepared.editor.editor.setup(view, prepared.suite)
    with _timed(timings, "original_eval"):
        original = score_rows(
            view, prepared.rows, prepared.suite, prepared.model.label_ids, model="original", folder=-1
        )
        if config.subset:  # Table 3: chosen from the original model's predictions, before any edit
            prepared, original = apply_subset(config.subset, prepared, original)
    writer = RunWriter(run_dir, prepared.editor.name, config.seed, prepared.suite.langs) if run_dir else None
    plan = plan_folders(folder_rows(prepared.rows, prepared.config), config.folders)
    if len(plan) < config.folders:
        log.warning(
            "--folders %d: only %d edit rows, so %d folders ran", config.folders, len(plan), len(plan)
        )
    checkpoint = None
    if run_dir is not None:
        from harness.protocol.checkpoint import Checkpointer

        checkpoint = Checkpointer(run_dir, prepared.identity, config.checkpoint_every)
    return Started(prepared, run_dir, state, view, memory, original, plan, writer, checkpoint, timings)


def finish(
    started: Started,
    folders: list[FolderResult],
    status: str,
    error: str | None,
    executor: dict[str, Any] | None = None,
) -> EvalResult:
    """Pool the finished folders (in folder order) into the result; write it to the run folder."""
    folders = sorted(folders, key=lambda f: f.index)
    encoding = getattr(started.view, "encoding", None)
    result = assemble(
        started.prepared,
        started.original,
        folders,
        len(started.plan),
        started.timings,
        status,
        error,
        encoding,
    )
    result.provenance["executor"] = executor or {"name": "local", "workers": 1}
    if started.writer is not None:
        started.writer.result(result)
        if status == "complete":
            started.checkpoint.finish()  # results.json marks the run written: the checkpoint has served
    return replace(result, origin="resumed" if started.state == "resume" else "run")


def prepare(config: EvalConfig) -> Prepared:
    """Load the suite, the editor and the model (labels checked before any edit); choose the path."""
    from harness.data.load import load_suite
    from harness.editors.registry import load_editor
    from harness.model.loading import load_classifier

    suite = load_suite(config)
    editor = load_editor(config.editor, config.editor_options)
    config, run_settings = config.resolve_run_settings(editor.run_settings, editor.name)
    model = load_classifier(
        config.model,
        suite.label_names,
        revision=config.model_revision,
        label_map=config.label_map,
        force_label_map=config.force_label_map,
        trust_remote_code=config.trust_remote_code,
        device=config.device,
    )
    rows, dropped = edit_rows(suite, config.edit_rows)
    run_settings["edit_rows"]["dropped"] = dropped
    rows = rows[: config.max_edits] if config.max_edits else rows
    identity = RunIdentity.of(config, model.info.get("revision"), suite.dataset_revision, editor.code_sha256)
    path = choose_path(config, editor)
    return Prepared(config, suite, editor, model, path, tuple(rows), identity, run_settings)


def _sink(prepared: Prepared, writer: RunWriter | None, checkpoint: Any) -> FolderSink:
    """Where the folder loop reports: the suite, labels and seed, the run folder's files, checkpoints."""
    return FolderSink(
        suite=prepared.suite,
        editor_name=prepared.editor.name,
        label_ids=prepared.model.label_ids,
        seed=prepared.config.seed,
        progress=prepared.config.progress,
        on_folder=writer.folder if writer is not None else None,
        checkpoint=checkpoint,
    )


def assemble(
    prepared: Prepared,
    original: RowRecords,
    folders: list[FolderResult],
    planned: int,
    timings: dict[str, float],
    status: str,
    error: str | None,
    encoding: dict[str, Any] | None = None,
) -> EvalResult:
    """The run's result, built once from what the phases returned."""
    import torch

    config = prepared.config
    made = provenance([str(next(prepared.model.model.parameters()).device)])
    made["threads"] = {"setting": config.threads, "torch_threads": torch.get_num_threads()}
    if encoding is not None:
        made["encoding"] = encoding  # dtype, where the vectors came from, the disk cache files
    return result_from(
        config=config,
        identity=prepared.identity,
        provenance=made,
        model=prepared.model.info,
        suite=prepared.suite,
        editor=prepared.editor,
        path=prepared.path,
        original=original,
        folders=folders,
        planned_folders=planned,
        timings=timings,
        status=status,
        error=error,
        stand_in=stand_in_record(config.model, config.dataset),
        run_settings=prepared.run_settings,
    )


class _timed:
    """`with _timed(timings, "phase"):` adds the phase's wall-clock seconds to `timings`."""

    def __init__(self, timings: dict[str, float], name: str) -> None:
        self.timings, self.name = timings, name

    def __enter__(self) -> None:
        self.start = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.timings[self.name] = self.timings.get(self.name, 0.0) + time.perf_counter() - self.start
