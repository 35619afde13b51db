"""Runs whose folders are jobs of an executor (`--executor ray`): many runs' folders at once.

Each run goes through its one-time phases in the driver (load, encoding, original model: `run.start`),
then its view (model and encoded [CLS] cache), editor, memory and suite are shared with the workers
once (`Executor.share`: Ray's object store), and every folder not finished yet becomes a job. A job
starts from the original model, edits its rows exactly as the local loop does (`_edit_folder`) and
returns the finished folder; the driver writes it into the run folder as the local path does
(`folders/folder_NNN.*`, the checkpoint's `folder_NNN.json`), and when a run's last folder is in,
its results.json, steps.jsonl and rows.parquet. A rerun skips the folders finished before.

A job that fails (after `retries`) is reported with its run folder, folder and edit id; the other
jobs run on and their folders are written, the run is written with status `failed` and
`RunsFailed` lists every failure. Rerunning the same command redoes only the failed folders.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common.errors import ToolkitError
from common.executor import Executor, Job, make_executor, resolve
from common.io import OutputLock
from harness.config import EvalConfig
from harness.protocol.folders import FolderResult, FolderSink, Snapshot, _edit_folder
from harness.report.results import EvalResult

log = logging.getLogger(__name__)


class RunsFailed(ToolkitError):
    """Some folders failed; `results` holds every run's result (failed runs with what finished)."""

    def __init__(self, message: str, results: list[EvalResult]) -> None:
        super().__init__(message)
        self.results = results


@dataclass
class FolderWork:
    """What every folder job of one run reads; shipped to each worker once."""

    view: Any
    editor: Any
    changes: str | None
    memory: Any
    sink: FolderSink
    _snapshot: Any = field(default=None, repr=False)

    def snapshot(self) -> Snapshot:
        if self._snapshot is None:  # the original model, kept per worker for the next folders
            self._snapshot = Snapshot(self.view, self.changes)
        return self._snapshot


def edit_folder_job(handle: Any, index: int, chunk: list[Any]) -> FolderResult:
    """A job: one folder from the original model (no progress display, no checkpoint)."""
    from common.progress import progress

    work: FolderWork = resolve(handle)
    snapshot = work.snapshot()
    bar = progress(total=len(chunk), enabled=False)
    try:
        return _edit_folder(work.view, work.editor, work.memory, index, chunk, work.sink, snapshot, None, bar)
    finally:
        snapshot.restore()


@dataclass
class _Run:
    started: Any  # harness.protocol.run.Started
    done: dict[int, FolderResult]
    failed: dict[int, str] = field(default_factory=dict)
    pending: int = 0


def executor_for(config: EvalConfig) -> Executor:
    return make_executor(
        config.executor,
        address=config.ray_address,
        gpus_per_task=config.gpus_per_task,
        retries=config.retries,
    )


def evaluate_runs(
    configs: Sequence[EvalConfig], *, overwrite: bool = False, executor: Executor | None = None
) -> list[EvalResult]:
    """Every run of `configs` (each with its `out_dir`), their folders submitted together.

    The executor comes from the first config's settings unless given. Raises RunsFailed after
    writing every run when some folders failed."""
    own = executor is None
    executor = executor or executor_for(configs[0])
    try:
        with ExitStack() as locks:
            for config in configs:
                if not config.out_dir:
                    raise ToolkitError("evaluate_runs: every run needs its run folder (out_dir)")
                locks.enter_context(OutputLock(Path(config.out_dir), "run folder"))
            return _evaluate_runs(configs, overwrite, executor)
    finally:
        if own:
            executor.close()


def _evaluate_runs(configs: Sequence[EvalConfig], overwrite: bool, executor: Executor) -> list[EvalResult]:
    import time

    from common.task_progress import TaskProgress
    from harness.protocol.run import _sink, start

    results: dict[int, EvalResult] = {}
    runs: dict[int, _Run] = {}
    jobs: list[Job] = []
    for n, config in enumerate(configs):
        started = start(config, Path(config.out_dir), overwrite)
        if isinstance(started, EvalResult):
            results[n] = started
            continue
        if config.gpus_per_task and str(started.view.device) == "cpu":
            log.warning(
                "--gpus-per-task %s: the model is on the CPU (--device %s), so the folders run on the "
                "workers' CPUs; the driver's --device places the model the workers get (run the driver "
                "on a GPU node with --device cuda)",
                config.gpus_per_task,
                config.device,
            )
        done = started.checkpoint.open_folders()
        runs[n] = run = _Run(started, done)
        sink = _sink(started.prepared, None, None)
        sink.progress = False
        loaded = started.prepared.editor
        work = FolderWork(started.view, loaded.editor, loaded.changes, started.memory, sink)
        handle = None
        for index, chunk in enumerate(started.plan):
            if index in done:
                continue
            handle = handle or executor.share(work, by_value=_user_modules())
            label = f"{config.out_dir} folder {index}"
            jobs.append(
                Job(label, edit_folder_job, (handle, index, chunk), {"run": n, "index": index}, len(chunk))
            )
            run.pending += 1
    resumed = sum(len(c) for r in runs.values() for i, c in enumerate(r.started.plan) if i in r.done)
    total = sum(j.cost for j in jobs) + resumed
    bar = TaskProgress(len(jobs), total, resumed=resumed, enabled=configs[0].progress)
    info = executor.describe()
    clock = time.perf_counter()

    def closed(n: int) -> None:
        run = runs[n]
        run.started.timings["editing"] = time.perf_counter() - clock
        status = "failed" if run.failed else "complete"
        error = "; ".join(run.failed[i] for i in sorted(run.failed)) or None
        results[n] = _finish(run, status, error, info)

    def on_done(job: Job, folder: FolderResult) -> None:
        run = runs[job.meta["run"]]
        run.started.checkpoint.folder_saved(folder, set(run.done))
        run.started.writer.folder(folder)
        run.done[folder.index] = folder
        bar.done(job, edits=sum(1 for s in folder.steps if s.get("edited")))
        run.pending -= 1
        if run.pending == 0:
            closed(job.meta["run"])

    def on_failed(job: Job, error: BaseException) -> None:
        run = runs[job.meta["run"]]
        message = (
            f"{job.label}: {error}"
            if isinstance(error, ToolkitError)
            else (f"{job.label}: {type(error).__name__}: {error}")
        )
        run.failed[job.meta["index"]] = message
        bar.failed(job, message)
        run.pending -= 1
        if run.pending == 0:
            closed(job.meta["run"])

    try:
        for n, run in runs.items():
            if run.pending == 0:  # every folder finished before: only the result was missing
                closed(n)
        executor.run(jobs, on_done, on_failed)
    finally:
        bar.close()
        for run in runs.values():
            run.started.checkpoint.close()
    ordered = [results[n] for n in range(len(configs))]
    failures = [msg for run in runs.values() for msg in run.failed.values()]
    if failures:
        shown = "\n  ".join(failures)
        raise RunsFailed(f"{len(failures)} folder(s) failed (the others are written):\n  {shown}", ordered)
    return ordered


def _user_modules() -> list[Any]:
    """FILE.py editors' modules: workers cannot import them by name, so they travel by value."""
    import sys

    from harness.editors.registry import USER_MODULE_PREFIX

    return [m for name, m in list(sys.modules.items()) if name.startswith(USER_MODULE_PREFIX)]


def _finish(run: _Run, status: str, error: str | None, info: dict[str, Any]) -> EvalResult:
    from harness.protocol.run import finish

    return finish(run.started, list(run.done.values()), status, error, info)
