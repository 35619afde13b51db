"""The sequential-edit protocol (docs/protocol.md, "Sequential protocol and metrics").

The edit rows are cut into `folders` contiguous folders; each folder starts from the original model
and is edited row by row (the editor is asked only when an example of the request is mispredicted);
then the folder's final model is scored on its own rows and on the locality sets. Metrics are pooled
over all folders' rows. The original model is scored once, on every row.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from common.errors import ToolkitError
from harness.data.suite import EditRow, EvalSuite
from harness.editors.base import LAST_FFN, EditRecord, EditRequest, Memory
from harness.report.scoring import RowRecords, score_rows

log = logging.getLogger(__name__)


class ProtocolError(ToolkitError):
    """An edit failed; the message names dataset config, edit id and editor. `finished` holds the
    folders finished before it (their results stay valid and are written)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.finished: list[FolderResult] = []


@dataclass
class FolderResult:
    index: int
    row_ids: list[str]
    patches: int
    steps: list[dict[str, Any]]
    rows: RowRecords
    seconds: float


@dataclass
class FolderSink:
    """What the loop needs besides the view, the editor and the memory: the suite and labels to
    score, the seed, and where finished folders and checkpoints go."""

    suite: EvalSuite
    editor_name: str
    label_ids: dict[str, int]
    seed: int
    progress: bool = True
    on_folder: Callable[[FolderResult], None] | None = None
    checkpoint: Any = None  # harness.protocol.checkpoint.Checkpointer: resume from / write checkpoints


def plan_folders(rows: Sequence[EditRow], folders: int) -> list[list[EditRow]]:
    """Contiguous folders of near-equal size (the first ones one row longer), none empty."""
    n = min(folders, len(rows)) or 1
    size, extra = divmod(len(rows), n)
    out, start = [], 0
    for i in range(n):
        end = start + size + (1 if i < extra else 0)
        out.append(list(rows[start:end]))
        start = end
    return out


def edit_seed(seed: int, row_id: str) -> int:
    """A per-edit seed from the run seed and the row id: independent of folder layout and order."""
    return int.from_bytes(hashlib.sha256(f"{seed}:{row_id}".encode()).digest()[:4], "little")


class Snapshot:
    """The state an editor may change, to start every folder from the original model.

    `restore()` copies back only the tensors whose version counter moved since they were last
    restored (an in-place change bumps it): patch editors leave the FFN untouched, so nothing is
    copied and the view's memo of the frozen FFN's outputs stays valid across folders.
    `changed()` names what differs from the original (what a checkpoint must save)."""

    def __init__(self, view: Any, changes: str | None) -> None:
        self.view, self.last_ffn = view, changes == LAST_FFN
        self.params = self._current()
        self.saved = {k: p.detach().clone() for k, p in self.params.items()}
        self.versions = {k: p._version for k, p in self.params.items()}

    def _current(self) -> dict[Any, Any]:
        if self.last_ffn:
            return dict(enumerate(self.view.ffn_parameters()))
        state = self.view.model.state_dict(keep_vars=True)
        return {k: v for k, v in state.items() if "bank" not in k.split(".")}

    def moved(self) -> list[Any]:
        """Keys of the tensors changed in place, or replaced by other tensor objects, since restored."""
        now = self._current()
        replaced = [k for k, p in now.items() if k in self.saved and p is not self.params[k]]
        for k in replaced:
            self.params[k], self.versions[k] = now[k], -1
        return [k for k, p in self.params.items() if p._version != self.versions[k]]

    def changed(self) -> dict[Any, Any]:
        """The tensors that now differ from the original model (by key)."""
        import torch

        return {k: self.params[k] for k in self.moved() if not torch.equal(self.params[k], self.saved[k])}

    def apply(self, tensors: dict[Any, Any]) -> None:
        """Set the named tensors (a checkpoint's `changed()`); the rest stay as they are."""
        import torch

        with torch.no_grad():
            for k, value in tensors.items():
                self.params[k].copy_(value.to(self.params[k]))

    def restore(self) -> None:
        import torch

        self.view.bank.clear()
        with torch.no_grad():
            for k in self.moved():
                self.params[k].copy_(self.saved[k])
                self.versions[k] = self.params[k]._version


def make_request(row: EditRow, label_ids: dict[str, int], seed: int) -> EditRequest:
    return EditRequest(
        id=row.id,
        text=row.text,
        label=label_ids[row.label],
        label_name=row.label,
        row=row,
        examples=(("en", row.text),),
        seed=edit_seed(seed, row.id),
    )


def run_folders(
    view: Any, loaded: Any, memory: Memory, plan: list[list[EditRow]], sink: FolderSink
) -> list[FolderResult]:
    """Edit every folder of `plan` from the original model; `sink.on_folder` as each one finishes.

    `loaded` is a `harness.editors.registry.LoadedEditor`. With `sink.checkpoint`, folders and rows
    done before the last checkpoint are restored, not redone, a checkpoint is written every K rows and
    after each folder, and Ctrl-C raises `RunInterrupted`. A failed edit raises ProtocolError with
    the folders finished before it in `finished`."""
    from common.progress import progress

    editor = loaded.editor
    snapshot = Snapshot(view, loaded.changes)
    results: list[FolderResult] = []
    ckpt = sink.checkpoint
    if ckpt is not None:
        ckpt.snapshot = snapshot
    resume = ckpt.open() if ckpt is not None else None
    total = sum(len(chunk) for chunk in plan)
    bar = progress(total=total, desc="editing", unit="row", enabled=sink.progress)
    try:
        for index, chunk in enumerate(plan):
            if resume is not None and index < resume.folder:  # finished before the interruption
                result = resume.finished[index]
                bar.update(len(chunk), resumed=True)
            else:
                result = _edit_folder(view, editor, memory, index, chunk, sink, snapshot, resume, bar)
                if ckpt is not None:
                    ckpt.folder_done(result)
            results.append(result)
            if sink.on_folder is not None:
                sink.on_folder(result)
    except KeyboardInterrupt as exc:
        if ckpt is None:
            raise
        raise ckpt.interrupted(bar.n, total, len(plan)) from exc
    except ProtocolError as exc:
        exc.finished = results
        raise
    finally:
        bar.close()
        snapshot.restore()
        if ckpt is not None:
            ckpt.close()
    return results


def _edit_folder(
    view: Any,
    editor: Any,
    memory: Memory,
    index: int,
    chunk: list[EditRow],
    sink: FolderSink,
    snapshot: Snapshot,
    resume: Any,
    bar: Any,
) -> FolderResult:
    """One folder: back to the original model, its rows edited in order, its final model scored."""
    ckpt = sink.checkpoint
    started = time.perf_counter()
    snapshot.restore()
    memory.reset()
    if hasattr(editor, "reset"):
        editor.reset()
    steps: list[dict[str, Any]] = []
    if resume is not None and index == resume.folder and resume.done:
        ckpt.restore(resume, view, editor, memory)
        steps, started = list(resume.steps), started - resume.seconds
        bar.update(len(steps), resumed=True)
    for row in chunk[len(steps) :]:
        steps.append(_edit_one(view, editor, memory, row, index, sink))
        bar.update(1)
        if ckpt is not None:
            ckpt.step(index, steps, time.perf_counter() - started, view, editor, memory)
    scored = score_rows(view, chunk, sink.suite, sink.label_ids, model="edited", folder=index)
    return FolderResult(
        index=index,
        row_ids=[r.id for r in chunk],
        patches=len(view.bank),
        steps=steps,
        rows=scored,
        seconds=time.perf_counter() - started,
    )


def _edit_one(
    view: Any, editor: Any, memory: Memory, row: EditRow, folder: int, sink: FolderSink
) -> dict[str, Any]:
    """Decide, edit, check one row; any failure becomes a ProtocolError naming the edit."""
    where = f"dataset {sink.suite.dataset_id} config 'en' split 'edit', edit id {row.id!r}"
    where += f", editor {sink.editor_name}"
    started = time.perf_counter()
    request = make_request(row, sink.label_ids, sink.seed)
    if hasattr(editor, "prepare"):
        request = editor.prepare(request)
    wrong = view.predict(request.texts) != request.label
    step: dict[str, Any] = {"folder": folder, "id": row.id, "langs": [lang for lang, _ in request.examples]}
    step["needed"] = bool(wrong.any())
    step["wrong_langs"] = [lang for (lang, _), w in zip(request.examples, wrong.tolist(), strict=True) if w]
    if not step["needed"]:
        return step | {
            "edited": False,
            "patches_added": 0,
            "steps": 0,
            "seconds": time.perf_counter() - started,
        }
    before = len(view.bank)
    view.reseed(request.seed)
    try:
        record = editor(view, request, memory)
    except ToolkitError as exc:
        raise ProtocolError(f"{where}: {exc}") from exc
    except Exception as exc:
        raise ProtocolError(f"{where}: the editor raised {type(exc).__name__}: {exc}") from exc
    record = as_record(record, where)
    bad = {k: v for k, v in record.losses.items() if not math.isfinite(v)}
    if bad:
        raise ProtocolError(f"{where}: loss became non-finite {bad}")
    after = view.predict(request.texts) == request.label
    info = dict(record.info)
    diagnosis = info.pop("diagnosis", None)
    step |= {
        "edited": bool(record.edited),
        "patches_added": len(view.bank) - before,
        "steps": int(record.steps),
        "losses": dict(record.losses),
        "success": bool(after.all()),
        "success_en": bool(after[0]),
        "info": info,
        "seconds": time.perf_counter() - started,
    }
    if not step["success"]:
        # why it failed: the editor's diagnosis (built-ins: the largest loss term at the end, the
        # patch's activation on the edit vs the memory, the nearest memory row's cosine)
        step["failure"] = diagnosis if isinstance(diagnosis, dict) else {"blocking": "unknown"}
        step["failure"]["wrong_langs"] = [
            lang for (lang, _), ok in zip(request.examples, after.tolist(), strict=True) if not ok
        ]
    return step


def as_record(value: Any, where: str) -> EditRecord:
    """The editor's return value as an EditRecord: one, or a mapping of its fields; else the run stops."""
    import dataclasses

    if isinstance(value, EditRecord):
        return value
    if isinstance(value, Mapping):
        known = {f.name for f in dataclasses.fields(EditRecord)}
        unknown = sorted(set(value) - known)
        if not unknown:
            try:
                return EditRecord(**value)
            except TypeError:
                pass
        raise ProtocolError(
            f"{where}: the editor returned a mapping with unknown key(s) {unknown}; an editor returns "
            f"an EditRecord or a mapping of its fields {sorted(known)}"
        )
    raise ProtocolError(
        f"{where}: the editor returned {type(value).__name__}, not an EditRecord (harness.editors.base); "
        "return EditRecord(edited=..., steps=..., losses=...) from the editor"
    )
