"""Resumable evaluation: checkpoints of the edit phase in the run folder, and resuming from them.

Layout, under `<run folder>/checkpoint/` (removed once results.json is written complete):

- `checkpoint.json`: the commit point, replaced atomically and small (its size does not grow with
  the rows edited): format, the run's config (the settings that change results), model and dataset
  revisions, the folder in progress, how many of its rows are done, the byte length of steps.jsonl
  at that point, and the names of the state files below;
- `rows-FFF-RRRRRR.pt`: the patch-bank and memory rows appended since the previous checkpoint of
  folder FFF (harness.protocol.edit_state), kept until the folder ends;
- `state-FFF-RRRRRR.pt`: RNG states, the editor's `state_dict()`, and only the weights that differ
  from the original model; replaced at each checkpoint (the older one is removed after);
- `folder_NNN.json`: each finished folder (steps, patch count, seconds, scored rows), written once.

Steps are appended to `steps.jsonl` as rows are edited and never rewritten: a checkpoint records the
file's length, and a resume truncates the lines written after it and reads the folder's steps back
from it. Checkpointing therefore costs O(new work) per checkpoint; the lifelong setting
(`--folders 1`) no longer rewrites every step of the folder at every checkpoint. Rerunning after a
kill reproduces the uninterrupted run's metrics, steps and rows exactly; only timings differ
(`timings`, `per_folder[].seconds`, the `seconds` of steps edited after the resume, folder files'
`seconds`, `provenance.created`).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from common.errors import ToolkitError
from common.io import read_json, write_json_atomic, write_text_atomic
from harness.editors.base import Memory
from harness.protocol import edit_state
from harness.protocol.folders import FolderResult
from harness.protocol.run_dir import ResumeError, RunIdentity, mismatch
from harness.report.scoring import RowRecords

log = logging.getLogger(__name__)

CHECKPOINT_DIR = "checkpoint"
CHECKPOINT_FILE = "checkpoint.json"
# 2: RowRecords carry the per-sample columns (lang, gold, pred, prob_gold);
# 3: steps stay in steps.jsonl (its committed length recorded), state as row deltas + changed weights
CHECKPOINT_FORMAT = 3


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C during a checkpointed run; `str()` says where the checkpoint stands and how to resume."""

    def __init__(self, message: str, run_dir: str) -> None:
        super().__init__(message)
        self.message = message
        self.run_dir = run_dir

    def __str__(self) -> str:
        return self.message


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return read_json(path)
    except ToolkitError as exc:
        raise ResumeError(f"{exc}; use --overwrite to start afresh") from None


def _write_json(path: Path, data: Any) -> None:
    write_json_atomic(path, data, indent=None)


@dataclass
class Resume:
    """Where a checkpointed run stands: folders finished, and rows done in the next one."""

    folder: int
    steps: list[dict[str, Any]]
    seconds: float
    state_file: str | None
    finished: list[FolderResult] = field(default_factory=list)
    row_files: list[str] = field(default_factory=list)

    @property
    def done(self) -> int:
        return len(self.steps)


class Checkpointer:
    """Writes and reads the checkpoints of one run folder (see the module docstring)."""

    def __init__(self, run_dir: str | Path, identity: RunIdentity, every: int = 0) -> None:
        from harness.report.results import STEPS_FILE

        self.run_dir = Path(run_dir)
        self.dir = self.run_dir / CHECKPOINT_DIR
        self.steps_path = self.run_dir / STEPS_FILE
        self.every = int(every or 0)
        self.identity = identity
        self.snapshot: Any = None  # harness.protocol.folders.Snapshot: the original weights
        self.position = (0, 0)  # (folder, rows done in it) of the last checkpoint
        self.saved_rows = 0  # rows of every folder up to the last checkpoint
        self.bytes_written = 0  # checkpoint files written by this process (benchmarks)
        self._finished_rows = 0
        self._state: str | None = None
        self._row_files: list[str] = []  # the row deltas of the folder in progress, in order
        self._chain = 0  # the row count after which they start
        self._rows = edit_state.RowLog()
        self._log: Any = None

    # -- opening ------------------------------------------------------------------------------
    def open(self) -> Resume | None:
        """The checkpoint to resume from (checked to belong to this run), or None after starting one."""
        meta_path = self.dir / CHECKPOINT_FILE
        if meta_path.is_file():
            resume = self._load(meta_path)
            self._log = self.steps_path.open("a", encoding="utf-8")
            return resume
        self.dir.mkdir(parents=True, exist_ok=True)
        write_text_atomic(self.steps_path, "")
        self._log = self.steps_path.open("a", encoding="utf-8")
        self._commit(0, 0, 0.0, None)
        return None

    def _load(self, meta_path: Path) -> Resume:
        meta = _read_json(meta_path)
        if meta.get("format") != CHECKPOINT_FORMAT:
            raise ResumeError(
                f"{meta_path}: field 'format': {meta.get('format')!r}, expected {CHECKPOINT_FORMAT} "
                "(a checkpoint of another version of the harness); use --overwrite to start afresh"
            )
        diffs = self.identity.differences(meta.get("identity") or {})
        if diffs:
            raise mismatch(self.run_dir, diffs)
        folder, rows = int(meta["folder"]), int(meta["rows"])
        finished = [self._read_folder(i) for i in range(folder)]
        self._finished_rows = sum(len(f.row_ids) for f in finished)
        steps = self._committed_steps(int(meta["steps_bytes"]), self._finished_rows, rows)
        self.position, self._state = (folder, rows), meta.get("state")
        self._chain = int(meta.get("chain", 0))
        self._row_files = self._chain_files(folder, self._chain, rows)
        self.saved_rows = self._finished_rows + rows
        self._remove_unnamed()
        log.info("checkpoint of %s: folder %d, row %d", self.run_dir, folder, rows)
        seconds = float(meta.get("seconds", 0.0))
        return Resume(folder, steps, seconds, self._state, finished, list(self._row_files))

    def _committed_steps(self, size: int, finished: int, rows: int) -> list[dict[str, Any]]:
        """The steps of the folder in progress, read back from steps.jsonl cut at the committed length
        (the lines written after the checkpoint are dropped)."""
        try:
            if self.steps_path.stat().st_size < size:
                raise OSError("shorter than its checkpoint")
            os.truncate(self.steps_path, size)
            lines = self.steps_path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise ResumeError(f"{self.steps_path}: {exc}; use --overwrite to start afresh") from None
        if len(lines) != finished + rows:
            raise ResumeError(
                f"{self.steps_path}: {len(lines)} steps, the checkpoint expects {finished + rows}; "
                "use --overwrite to start afresh"
            )
        return [json.loads(line) for line in lines[finished:]]

    def _chain_files(self, folder: int, start: int, rows: int) -> list[str]:
        """The row deltas of `folder` from row `start` (where the chain began) to `rows`, in order:
        named by their row count, so checkpoint.json need not list them (it stays one size)."""
        found = []
        for path in self.dir.glob(f"rows-{folder:03d}-*.pt"):
            at = int(path.stem.rsplit("-", 1)[1])
            if start < at <= rows:
                found.append((at, path.name))
        return [name for _, name in sorted(found)]

    def _remove_unnamed(self) -> None:
        """State files a crash left behind before a checkpoint named them."""
        named = {self._state, *self._row_files}
        for path in self.dir.glob("*.pt"):
            if path.name not in named:
                path.unlink(missing_ok=True)

    def _read_folder(self, index: int) -> FolderResult:
        data = _read_json(self.dir / f"folder_{index:03d}.json")
        rows = RowRecords(**{f.name: list(data["rows"][f.name]) for f in fields(RowRecords)})
        return FolderResult(index, data["row_ids"], data["patches"], data["steps"], rows, data["seconds"])

    # -- writing ------------------------------------------------------------------------------
    def step(
        self, folder: int, steps: list[dict], seconds: float, view: Any, editor: Any, memory: Memory
    ) -> None:
        """Append the newest step to steps.jsonl; every `every` rows of a folder, checkpoint."""
        self._log.write(_line(steps[-1]))
        self._log.flush()
        if self.every and len(steps) % self.every == 0:
            tag = f"{folder:03d}-{len(steps):06d}"
            delta, restart = self._rows.delta(view, memory)
            rows_name, state = f"rows-{tag}.pt", f"state-{tag}.pt"
            edit_state.save_rows(self.dir / rows_name, delta)
            edit_state.save_state(self.dir / state, view, editor, self.snapshot)
            self.bytes_written += sum((self.dir / n).stat().st_size for n in (rows_name, state))
            dropped = self._row_files if restart else []
            if restart:
                self._row_files, self._chain = [], self.position[1] if self.position[0] == folder else 0
            self._row_files.append(rows_name)
            self._commit(folder, len(steps), seconds, state)
            for name in dropped:
                (self.dir / name).unlink(missing_ok=True)

    def folder_done(self, result: FolderResult) -> None:
        self._log.flush()
        self._write_folder(result)
        self._finished_rows += len(result.row_ids)
        dropped, self._row_files, self._chain = self._row_files, [], 0
        self._commit(result.index + 1, 0, 0.0, None)
        for name in dropped:
            (self.dir / name).unlink(missing_ok=True)
        self._rows.reset()

    # -- folders finished in any order (executor ray) --------------------------------------------
    def open_folders(self) -> dict[int, FolderResult]:
        """Every folder this run finished before (checked to belong to it), by index; starts a
        checkpoint when there is none. A folder begun but not finished is redone from its start."""
        resume = self.open()
        if resume is not None and self.position[1]:  # its steps and row deltas are dropped
            self._log.close()
            lines = self.steps_path.read_text(encoding="utf-8").splitlines(keepends=True)
            write_text_atomic(self.steps_path, "".join(lines[: self._finished_rows]))
            self._log = self.steps_path.open("a", encoding="utf-8")
            dropped, self._row_files, self._chain = self._row_files, [], 0
            self._commit(self.position[0], 0, 0.0, None)
            for name in dropped:
                (self.dir / name).unlink(missing_ok=True)
        indices = sorted(int(p.stem.split("_")[1]) for p in self.dir.glob("folder_*.json"))
        return {i: self._read_folder(i) for i in indices}

    def folder_saved(self, result: FolderResult, done: set[int]) -> None:
        """Write a finished folder, in any order. The commit point moves over the unbroken run of
        finished folders from the first, whose steps join steps.jsonl in folder order, so the local
        executor can resume from it too."""
        self._write_folder(result)
        done = done | {result.index}
        start = prefix = self.position[0]
        while prefix in done:
            prefix += 1
        for index in range(start, prefix):
            folder = result if index == result.index else self._read_folder(index)
            self._log.write("".join(_line(step) for step in folder.steps))
            self._finished_rows += len(folder.row_ids)
        if prefix != start:
            self._commit(prefix, 0, 0.0, None)

    def _write_folder(self, result: FolderResult) -> None:
        rows = {f.name: getattr(result.rows, f.name) for f in fields(RowRecords)}
        body = {"index": result.index, "row_ids": result.row_ids, "patches": result.patches}
        body |= {"steps": result.steps, "seconds": result.seconds, "rows": rows}
        path = self.dir / f"folder_{result.index:03d}.json"
        _write_json(path, body)
        self.bytes_written += path.stat().st_size

    def _commit(self, folder: int, rows: int, seconds: float, state: str | None) -> None:
        meta = {"format": CHECKPOINT_FORMAT, "identity": self.identity.to_dict(), "folder": folder}
        self._log.flush()
        size = os.fstat(self._log.fileno()).st_size
        meta |= {"rows": rows, "steps_bytes": size, "seconds": seconds}
        meta |= {"state": state, "chain": self._chain}
        _write_json(self.dir / CHECKPOINT_FILE, meta)
        if self._state and self._state != state:
            (self.dir / self._state).unlink(missing_ok=True)
        self._state, self.position = state, (folder, rows)
        self.saved_rows = self._finished_rows + rows

    def restore(self, resume: Resume, view: Any, editor: Any, memory: Memory) -> None:
        """The checkpoint's edit state into a view at the start of its folder (original model)."""
        if resume.state_file:
            self._rows = edit_state.load_state(
                self.dir, resume.row_files, resume.state_file, view, editor, memory, self.snapshot
            )

    def interrupted(self, done: int, total: int, folders: int) -> RunInterrupted:
        folder, rows = self.position
        where = (
            f"folder {folder + 1} of {folders}, {rows} rows into it" if folder < folders else "all folders"
        )
        message = (
            f"interrupted after {done} of {total} edit rows; {self.run_dir} holds a checkpoint at "
            f"{self.saved_rows} rows ({where}): rerun the same command to resume from it"
        )
        return RunInterrupted(message, str(self.run_dir))

    def close(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def finish(self) -> None:
        """The run is complete and written: remove the checkpoint."""
        self.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def _line(step: dict[str, Any]) -> str:
    return json.dumps(step, default=str) + "\n"
