"""The edit state a checkpoint saves, in O(new work): appended rows as deltas, changed weights only.

A checkpoint of the edit phase needs what an edit may have changed since the folder started from the
original model: the patch bank, the memory's added [CLS] vectors (earlier edits), the weights an
editor trains, the RNG states and the editor's own `state_dict()`. Patch banks and memories only
grow by appending, so each checkpoint writes only the rows appended since the previous one
(`rows-FFF-RRRRRR.pt`, kept until the folder ends; resuming concatenates them in order). The rest
(`state-FFF-RRRRRR.pt`, replaced at each checkpoint) holds the RNG states, the editor's state and
only the weights that differ from the original model: nothing at all for patch editors, whose FFN
stays frozen, instead of ~19 MB of unchanged last-FFN weights at mBERT size.

Committed patch rows are frozen; should an editor rewrite earlier rows anyway (or the bank shrink),
the prefix fingerprint changes and the next delta restarts from row 0, so a resume is always exact.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from common.io import torch_save_atomic
from harness.editors.base import Memory
from harness.protocol.run_dir import ResumeError

BANK_KEYS = ("keys", "biases", "values")


def _fingerprint(tensor: Any, n: int) -> float:
    """A cheap fingerprint of the first n rows (float64 sum of values and of row-weighted values)."""
    import torch

    if n == 0:
        return 0.0
    rows = tensor[:n].detach().double().reshape(n, -1).sum(dim=1)
    weights = torch.arange(1, n + 1, dtype=torch.float64, device=rows.device)
    return float(rows.sum() + (rows * weights).sum())


class RowLog:
    """What the deltas of one folder hold so far: bank rows and memory rows, and the bank fingerprint."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.bank_rows = 0
        self.memory_rows = 0
        self.print = 0.0

    def delta(self, view: Any, memory: Memory) -> tuple[dict[str, Any], bool]:
        """The rows appended since the last delta, and whether the chain restarts (rows rewritten)."""
        bank, n = view.bank, int(view.bank.keys.shape[0])
        restart = n < self.bank_rows or _fingerprint(bank.keys, self.bank_rows) != self.print
        added = memory.added
        restart = restart or int(added.shape[0]) < self.memory_rows
        if restart:
            self.reset()
        out = {
            "bank_start": self.bank_rows,
            "bank": {k: getattr(bank, k)[self.bank_rows : n].detach().cpu().clone() for k in BANK_KEYS},
            "memory_start": self.memory_rows,
            **_runs(added[self.memory_rows :].detach().cpu()),
        }
        self.bank_rows, self.memory_rows = n, int(added.shape[0])
        self.print = _fingerprint(bank.keys, n)
        return out, restart


def _runs(rows: Any) -> dict[str, Any]:
    """Memory rows as runs of identical rows (an edit joins the memory as its 8 identical copies):
    the distinct rows and how often each repeats, 8x fewer bytes; `_rows_of` gives them back bitwise."""
    import torch

    if rows.shape[0] == 0:
        return {"memory": rows.clone(), "memory_repeats": torch.zeros(0, dtype=torch.long)}
    unique, counts = torch.unique_consecutive(rows, dim=0, return_counts=True)
    return {"memory": unique.clone(), "memory_repeats": counts}


def _rows_of(delta: dict[str, Any]) -> Any:
    repeats = delta.get("memory_repeats")
    rows = delta["memory"]
    return rows if repeats is None else rows.repeat_interleave(repeats, dim=0)


def save_rows(path: Path, delta: dict[str, Any]) -> None:
    torch_save_atomic(path, delta)


def rng_state(view: Any) -> dict[str, Any]:
    import numpy as np
    import torch

    np_state = np.random.get_state()
    rng = {
        "torch": torch.get_rng_state(),
        "view": view.generator.get_state(),
        "random": random.getstate(),
        "numpy": (np_state[0], torch.from_numpy(np_state[1].astype("int64")), *np_state[2:]),
    }
    if torch.cuda.is_available():
        rng["cuda"] = torch.cuda.get_rng_state_all()
    return rng


def set_rng_state(rng: dict[str, Any], view: Any) -> None:
    import numpy as np
    import torch

    torch.set_rng_state(rng["torch"])
    view.generator.set_state(rng["view"])
    random.setstate(rng["random"])
    name, keys, *rest = rng["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), *rest))
    if "cuda" in rng and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])


def save_state(path: Path, view: Any, editor: Any, snapshot: Any) -> None:
    """RNG states, the editor's `state_dict()`, and the weights that differ from `snapshot`'s."""
    getter = getattr(editor, "state_dict", None)
    state = {
        "changed": {k: v.detach().cpu().clone() for k, v in snapshot.changed().items()},
        "rng": rng_state(view),
        "editor": getter() if callable(getter) else None,
    }
    torch_save_atomic(path, state)


def _load(path: Path) -> dict[str, Any]:
    import torch

    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, EOFError) as exc:
        raise ResumeError(f"{path}: cannot read the checkpoint state ({exc}); use --overwrite") from exc


def load_state(
    folder: Path, rows: list[str], state: str, view: Any, editor: Any, memory: Memory, snapshot: Any
) -> RowLog:
    """Put a checkpoint back into a view that is at the start of its folder (original model)."""
    import torch

    bank = view.bank
    parts: dict[str, list[Any]] = {k: [] for k in (*BANK_KEYS, "memory")}
    log = RowLog()
    for name in rows:
        delta = _load(folder / name)
        if delta["bank_start"] != log.bank_rows or delta["memory_start"] != log.memory_rows:
            if delta["bank_start"] or delta["memory_start"]:
                raise ResumeError(f"{folder / name}: rows out of order; use --overwrite")
            parts = {k: [] for k in parts}  # a restarted chain
        for key in BANK_KEYS:
            parts[key].append(delta["bank"][key])
        memory_rows = _rows_of(delta)
        parts["memory"].append(memory_rows)
        log.bank_rows = delta["bank_start"] + int(delta["bank"]["keys"].shape[0])
        log.memory_rows = delta["memory_start"] + int(memory_rows.shape[0])
    ref = bank.keys
    bank.pending = None
    if parts["keys"]:
        bank.load_rows(*(torch.cat(parts[k]).to(ref) for k in BANK_KEYS))
        memory.restore(torch.cat(parts["memory"]))
    log.print = _fingerprint(bank.keys, log.bank_rows)
    saved = _load(folder / state)
    snapshot.apply(saved["changed"])
    set_rng_state(saved["rng"], view)
    if saved["editor"] is not None and hasattr(editor, "load_state_dict"):
        editor.load_state_dict(saved["editor"])
    return log
