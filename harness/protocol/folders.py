"""The sequential-edit protocol (protocol.md, "Sequential protocol and metrics").

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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from common.errors import ToolkitError
from harness.data.suite import EditRow, EvalSuite
from harness.editors.base import LAST_FFN, EditRequest, Memory, editor_changes
from harness.report.scoring import RowRecords, score_rows

log = logging.getLogger(__name__)


class ProtocolError(ToolkitError):
    """An edit failed; the message names dataset config, edit id and editor."""


@dataclass
class FolderResult:
    index: int
    row_ids: list[str]
    patches: int
    steps: list[dict[str, Any]]
    rows: RowRecords
    seconds: float


@dataclass
class ProtocolContext:
    """What the loop needs besides the view and the editor."""

    suite: EvalSuite
    editor_name: str
    label_ids: dict[str, int]
    seed: int
    progress: bool = True
    on_folder: Callable[[FolderResult], None] | None = None
    timings: dict[str, float] = field(default_factory=dict)
    checkpoint: Any = None  # harness.protocol.checkpoint.Checkpointer: resume from / write checkpoints


def split_folders(rows: Sequence[EditRow], folders: int) -> list[list[EditRow]]:
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
    """The state an editor may change, to start every folder from the original model."""

    def __init__(self, view: Any, editor: Any) -> None:
        self.view = view
        if editor_changes(editor) == LAST_FFN:
            self.params = dict(enumerate(view.ffn_parameters()))
            self.saved = {i: p.detach().clone() for i, p in self.params.items()}
        else:
            self.params = None
            self.saved = {k: v.detach().clone() for k, v in view.model.state_dict().items()}

    def restore(self) -> None:
        import torch

        self.view.bank.clear()
        with torch.no_grad():
            if self.params is not None:
                for i, p in self.params.items():
                    p.copy_(self.saved[i])
            else:
                self.view.model.load_state_dict(self.saved, strict=False)


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
    view: Any, editor: Any, memory: Memory, rows: Sequence[EditRow], folders: int, ctx: ProtocolContext
) -> list[FolderResult]:
    """Edit every folder from the original model; call `ctx.on_folder` as each one finishes.

    With `ctx.checkpoint`, folders and rows done before the last checkpoint are restored, not redone,
    a checkpoint is written every K rows and after each folder, and Ctrl-C raises `RunInterrupted`."""
    from common.progress import progress

    snapshot = Snapshot(view, editor)
    results: list[FolderResult] = []
    chunks = split_folders(rows, folders)
    ckpt = ctx.checkpoint
    resume = ckpt.open() if ckpt is not None else None
    bar = progress(total=len(rows), desc="editing", unit="row", enabled=ctx.progress)
    done = 0
    try:
        for index, chunk in enumerate(chunks):
            if resume is not None and index < resume.folder:  # finished before the interruption
                results.append(resume.finished[index])
                bar.update(len(chunk))
                done += len(chunk)
                if ctx.on_folder is not None:
                    ctx.on_folder(resume.finished[index])
                continue
            started = time.perf_counter()
            snapshot.restore()
            memory.reset()
            if hasattr(editor, "reset"):
                editor.reset()
            steps: list[dict[str, Any]] = []
            if resume is not None and index == resume.folder and resume.done:
                ckpt.restore(resume, view, editor, memory)
                steps, started = list(resume.steps), started - resume.seconds
                bar.update(len(steps))
                done += len(steps)
            for row in _ticking(chunk[len(steps) :], bar):
                steps.append(_edit_one(view, editor, memory, row, index, ctx))
                done += 1
                if ckpt is not None:
                    ckpt.step(index, steps, time.perf_counter() - started, view, editor, memory)
            rows_scored = score_rows(view, chunk, ctx.suite, ctx.label_ids, model="edited", folder=index)
            result = FolderResult(
                index=index,
                row_ids=[r.id for r in chunk],
                patches=len(view.bank),
                steps=steps,
                rows=rows_scored,
                seconds=time.perf_counter() - started,
            )
            results.append(result)
            if ctx.on_folder is not None:
                ctx.on_folder(result)
            if ckpt is not None:
                ckpt.folder_done(result)
    except KeyboardInterrupt as exc:
        if ckpt is None:
            raise
        raise ckpt.interrupted(done, len(rows), len(chunks)) from exc
    finally:
        bar.close()
        snapshot.restore()
        if ckpt is not None:
            ckpt.close()
    return results


def _ticking(rows: list[EditRow], bar: Any):
    for row in rows:
        yield row
        bar.update(1)


def _edit_one(
    view: Any, editor: Any, memory: Memory, row: EditRow, folder: int, ctx: ProtocolContext
) -> dict[str, Any]:
    """Decide, edit, check one row; any failure becomes a ProtocolError naming the edit."""
    where = f"dataset {ctx.suite.dataset_id} config 'en' split 'edit', edit id {row.id!r}"
    where += f", editor {ctx.editor_name}"
    started = time.perf_counter()
    request = make_request(row, ctx.label_ids, ctx.seed)
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
    bad = {k: v for k, v in (getattr(record, "losses", None) or {}).items() if not math.isfinite(v)}
    if bad:
        raise ProtocolError(f"{where}: loss became non-finite {bad}")
    after = view.predict(request.texts) == request.label
    step |= {
        "edited": bool(getattr(record, "edited", True)),
        "patches_added": len(view.bank) - before,
        "steps": int(getattr(record, "steps", 0)),
        "losses": dict(getattr(record, "losses", {}) or {}),
        "success": bool(after.all()),
        "success_en": bool(after[0]),
        "info": dict(getattr(record, "info", {}) or {}),
        "seconds": time.perf_counter() - started,
    }
    return step
