"""Resumable evaluation: checkpoints of the edit phase in the run folder, and resuming from them.

Layout, under `<run folder>/checkpoint/` (removed once results.json is written complete):

- `checkpoint.json`: the commit point, replaced atomically: format, the run's config (the settings
  that change results), model and dataset revisions, the folder in progress, the steps of that folder
  done so far, and the name of the state file;
- `state-FFF-RRRRRR.pt`: the edit state after RRRRRR rows of folder FFF: patch bank, the editor's
  weights (last FFN, or the whole model for editors that change more), the memory's added [CLS]
  vectors, RNG states (torch, the view's dropout generator, `random`, numpy) and the editor's own
  `state_dict()` when it has one. Written before the checkpoint.json that names it; the older one is
  removed after;
- `folder_NNN.json`: each finished folder (steps, patch count, seconds, scored rows), written once.

A checkpoint is written every `checkpoint_every` edit rows of a folder (0: only at folder ends) and
after each folder. `steps.jsonl` is appended as rows are edited; on resume it is rewritten from the
checkpoint (dropping lines written after it). Rerunning after a kill therefore reproduces the
uninterrupted run's metrics, steps and rows exactly; only timings differ (`timings`, `per_folder[].seconds`,
the `seconds` of steps edited after the resume, folder files' `seconds`, `provenance.created`).
"""

from __future__ import annotations

import json
import logging
import random
import shutil
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from common.errors import ToolkitError
from common.io import read_json, torch_save_atomic, write_json_atomic, write_text_atomic
from harness.editors.base import LAST_FFN, Memory, editor_changes
from harness.protocol.folders import FolderResult
from harness.protocol.run_dir import ResumeError, RunIdentity, mismatch
from harness.report.scoring import RowRecords

log = logging.getLogger(__name__)

CHECKPOINT_DIR = "checkpoint"
CHECKPOINT_FILE = "checkpoint.json"
CHECKPOINT_FORMAT = 2  # 2: RowRecords carry the per-sample columns (lang, gold, pred, prob_gold)


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
        self.position = (0, 0)  # (folder, rows done in it) of the last checkpoint
        self.saved_rows = 0  # rows of every folder up to the last checkpoint
        self._finished_rows = 0
        self._state: str | None = None
        self._log: Any = None

    # -- opening ------------------------------------------------------------------------------
    def open(self) -> Resume | None:
        """The checkpoint to resume from (checked to belong to this run), or None after starting one."""
        meta_path = self.dir / CHECKPOINT_FILE
        resume = None
        if meta_path.is_file():
            resume = self._load(meta_path)
        else:
            self.dir.mkdir(parents=True, exist_ok=True)
        steps = [s for f in (resume.finished if resume else []) for s in f.steps]
        steps += resume.steps if resume else []
        # drops lines written after the checkpoint
        write_text_atomic(self.steps_path, "".join(_line(s) for s in steps))
        self._log = self.steps_path.open("a", encoding="utf-8")
        if resume is None:
            self._commit(0, [], 0.0, None)
        return resume

    def _load(self, meta_path: Path) -> Resume:
        meta = _read_json(meta_path)
        if meta.get("format") != CHECKPOINT_FORMAT:
            raise ResumeError(
                f"{meta_path}: field 'format': {meta.get('format')!r}, expected {CHECKPOINT_FORMAT}"
            )
        diffs = self.identity.differences(meta.get("identity") or {})
        if diffs:
            raise mismatch(self.run_dir, diffs)
        finished = [self._read_folder(i) for i in range(int(meta["folder"]))]
        self._finished_rows = sum(len(f.row_ids) for f in finished)
        steps = list(meta.get("steps") or [])
        self.position, self._state = (int(meta["folder"]), len(steps)), meta.get("state")
        self.saved_rows = self._finished_rows + len(steps)
        log.info("checkpoint of %s: folder %d, row %d", self.run_dir, self.position[0], len(steps))
        return Resume(int(meta["folder"]), steps, float(meta.get("seconds", 0.0)), self._state, finished)

    def _read_folder(self, index: int) -> FolderResult:
        data = _read_json(self.dir / f"folder_{index:03d}.json")
        rows = RowRecords(**{f.name: list(data["rows"][f.name]) for f in fields(RowRecords)})
        return FolderResult(index, data["row_ids"], data["patches"], data["steps"], rows, data["seconds"])

    # -- writing ------------------------------------------------------------------------------
    def step(
        self, folder: int, steps: list[dict], seconds: float, view: Any, editor: Any, memory: Memory
    ) -> None:
        """Log the newest step to steps.jsonl; every `every` rows of a folder, checkpoint."""
        self._log.write(_line(steps[-1]))
        self._log.flush()
        if self.every and len(steps) % self.every == 0:
            name = f"state-{folder:03d}-{len(steps):06d}.pt"
            save_state(self.dir / name, view, editor, memory)
            self._commit(folder, steps, seconds, name)

    def folder_done(self, result: FolderResult) -> None:
        rows = {f.name: getattr(result.rows, f.name) for f in fields(RowRecords)}
        body = {"index": result.index, "row_ids": result.row_ids, "patches": result.patches}
        body |= {"steps": result.steps, "seconds": result.seconds, "rows": rows}
        _write_json(self.dir / f"folder_{result.index:03d}.json", body)
        self._finished_rows += len(result.row_ids)
        self._commit(result.index + 1, [], 0.0, None)

    # -- folders finished in any order (executor ray) --------------------------------------------
    def open_folders(self) -> dict[int, FolderResult]:
        """Every folder this run finished before (checked to belong to it), by index; starts a
        checkpoint when there is none. A folder begun but not finished is redone from its start."""
        meta_path = self.dir / CHECKPOINT_FILE
        if meta_path.is_file():
            self._load(meta_path)
        else:
            self.dir.mkdir(parents=True, exist_ok=True)
            self._commit(0, [], 0.0, None)
        names = sorted(self.dir.glob("folder_*.json"))
        return {int(p.stem.split("_")[1]): self._read_folder(int(p.stem.split("_")[1])) for p in names}

    def folder_saved(self, result: FolderResult, done: set[int]) -> None:
        """Write a finished folder; the commit point is the unbroken run of finished folders from the
        first, so the local executor can resume from it too."""
        done = done | {result.index}
        prefix = next(i for i in range(len(done) + 1) if i not in done)
        self.folder_done(result)
        self._commit(prefix, [], 0.0, None)

    def _commit(self, folder: int, steps: list[dict], seconds: float, state: str | None) -> None:
        meta = {"format": CHECKPOINT_FORMAT, "identity": self.identity.to_dict(), "folder": folder}
        meta["state"] = state
        meta |= {"seconds": seconds, "steps": steps}
        _write_json(self.dir / CHECKPOINT_FILE, meta)
        if self._state and self._state != state:
            (self.dir / self._state).unlink(missing_ok=True)
        self._state, self.position = state, (folder, len(steps))
        self.saved_rows = self._finished_rows + len(steps)

    def restore(self, resume: Resume, view: Any, editor: Any, memory: Memory) -> None:
        if resume.state_file:
            load_state(self.dir / resume.state_file, view, editor, memory)

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


# -- the edit state ---------------------------------------------------------------------------------
def _model_tensors(view: Any, editor: Any) -> Any:
    if editor_changes(editor) == LAST_FFN:
        return [p.detach().cpu().clone() for p in view.ffn_parameters()]
    state = view.model.state_dict()
    return {k: v.detach().cpu().clone() for k, v in state.items() if "bank" not in k.split(".")}


def save_state(path: Path, view: Any, editor: Any, memory: Memory) -> None:
    """The edit state between two rows (no patch is pending then), atomically."""
    import numpy as np
    import torch

    bank = view.bank
    np_state = np.random.get_state()
    rng = {
        "torch": torch.get_rng_state(),
        "view": view.generator.get_state(),
        "random": random.getstate(),
        "numpy": (np_state[0], torch.from_numpy(np_state[1].astype("int64")), *np_state[2:]),
    }
    if torch.cuda.is_available():
        rng["cuda"] = torch.cuda.get_rng_state_all()
    getter = getattr(editor, "state_dict", None)
    state = {
        "bank": {k: getattr(bank, k).detach().cpu().clone() for k in ("keys", "biases", "values")},
        "model": _model_tensors(view, editor),
        "memory_added": memory.added.detach().cpu().clone(),
        "rng": rng,
        "editor": getter() if callable(getter) else None,
    }
    torch_save_atomic(path, state)


def load_state(path: Path, view: Any, editor: Any, memory: Memory) -> None:
    """Put a state written by `save_state` back into a view at the start of its folder."""
    import numpy as np
    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, EOFError) as exc:
        raise ResumeError(f"{path}: cannot read the checkpoint state ({exc}); use --overwrite") from exc
    bank, ref = view.bank, view.bank.keys
    bank.pending = None
    bank.keys, bank.biases, bank.values = (state["bank"][k].to(ref) for k in ("keys", "biases", "values"))
    with torch.no_grad():
        if isinstance(state["model"], list):
            for p, saved in zip(view.ffn_parameters(), state["model"], strict=True):
                p.copy_(saved.to(p))
        else:
            view.model.load_state_dict(state["model"], strict=False)
    memory.restore(state["memory_added"])
    rng = state["rng"]
    torch.set_rng_state(rng["torch"])
    view.generator.set_state(rng["view"])
    random.setstate(rng["random"])
    name, keys, *rest = rng["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), *rest))
    if "cuda" in rng and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])
    if state["editor"] is not None and hasattr(editor, "load_state_dict"):
        editor.load_state_dict(state["editor"])
