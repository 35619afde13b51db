"""Checkpoints in O(new work) (issue 15): what each checkpoint writes does not grow with the rows done.

checkpoint.json stays the same size whatever the row count (steps stay in steps.jsonl), each row
delta holds only the patch and memory rows appended since the previous checkpoint, and a patch editor
saves no weights at all (its FFN is frozen); FT saves the FFN weights it changed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from harness import EvalConfig, evaluate
from harness.model.patch import PatchBank
from harness.protocol import checkpoint as checkpoint_module
from harness.protocol import edit_state


class Spy:
    """Records checkpoint.json's size at every commit, and every row delta and state written."""

    def __init__(self, monkeypatch) -> None:
        self.meta_sizes: list[int] = []
        self.deltas: list[dict] = []
        self.changed: list[dict] = []
        real_commit = checkpoint_module.Checkpointer._commit
        real_state = edit_state.save_state

        def commit(ckpt, *args):
            real_commit(ckpt, *args)
            self.meta_sizes.append((ckpt.dir / checkpoint_module.CHECKPOINT_FILE).stat().st_size)

        def save_rows(path, delta):
            self.deltas.append(delta)
            torch.save(delta, path)

        def save_state(path, view, editor, snapshot):
            self.changed.append(dict(snapshot.changed()))
            real_state(path, view, editor, snapshot)

        monkeypatch.setattr(checkpoint_module.Checkpointer, "_commit", commit)
        monkeypatch.setattr(edit_state, "save_rows", save_rows)
        monkeypatch.setattr(edit_state, "save_state", save_state)


def run(tiny_model: Path, tiny_xfever: Path, out: Path, editor: str, options: dict) -> dict:
    config = EvalConfig(
        model=str(tiny_model),
        dataset=str(tiny_xfever),
        editor=editor,
        editor_options=options,
        folders=1,
        max_edits=12,
        progress=False,
        out_dir=str(out),
        checkpoint_every=1,
    )
    evaluate(config)
    return json.loads((out / "results.json").read_text(encoding="utf-8"))


def test_patch_editor_checkpoints_write_only_new_rows(tiny_model, tiny_xfever, tmp_path, monkeypatch):
    spy = Spy(monkeypatch)
    results = run(tiny_model, tiny_xfever, tmp_path / "run", "tpatcher", {"max_steps": 40})
    assert len(spy.deltas) == 12 and len(spy.meta_sizes) == 1 + 12 + 1
    mid = spy.meta_sizes[1:-1]  # checkpoint.json during the folder: the same size at row 1 and 12
    assert max(mid) - min(mid) <= 2 * len(str(12)) + 2, mid
    bank_end = memory_end = 0
    for delta in spy.deltas:
        assert delta["bank_start"] == bank_end and delta["memory_start"] == memory_end
        bank_end += int(delta["bank"]["keys"].shape[0])
        memory_end += int(delta["memory_repeats"].sum())
        assert delta["memory"].shape[0] <= delta["memory_repeats"].sum()  # identical copies once
        assert int(delta["bank"]["keys"].shape[0]) <= 1, "one row edited: at most one new patch"
    assert bank_end == results["metrics"]["patch_num"]["value"] > 0
    assert all(changed == {} for changed in spy.changed), "T-Patcher changes no FFN weight"


def test_ft_checkpoints_save_the_weights_it_changed(tiny_model, tiny_xfever, tmp_path, monkeypatch):
    spy = Spy(monkeypatch)
    run(tiny_model, tiny_xfever, tmp_path / "run", "ft", {"lr": 1e-2, "max_steps": 20})
    assert any(spy.changed), "FT changed the last FFN"
    for changed in spy.changed:
        assert set(changed) <= {0, 1, 2, 3}  # the last FFN's four tensors, by index
    assert all(int(d["bank"]["keys"].shape[0]) == 0 for d in spy.deltas)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_patch_bank_appends_in_place_and_matches_concatenation(dtype):
    gen = torch.Generator().manual_seed(0)
    bank = PatchBank(8).to(dtype)
    ref = {k: [] for k in ("keys", "biases", "values")}
    stores = set()
    for _ in range(100):
        key, value = torch.randn(8, generator=gen, dtype=dtype), torch.randn(8, generator=gen, dtype=dtype)
        bank.start(key, value, amp=2.0)
        with torch.no_grad():
            bank.pending["bias"].fill_(0.5)
        ref["keys"].append(key)
        ref["biases"].append(torch.tensor(0.5, dtype=dtype))
        ref["values"].append(value * 2.0)
        bank.commit()
        stores.add(bank.keys.data_ptr())
    assert len(bank) == 100 and len(stores) <= 5, "the buffer doubles: a handful of reallocations"
    for k in ref:
        assert torch.equal(getattr(bank, k), torch.stack(ref[k]))
    bank.clear()
    assert len(bank) == 0
    bank.load_rows(*(torch.stack(ref[k][:7]) for k in ref))
    assert torch.equal(bank.keys, torch.stack(ref["keys"][:7])) and len(bank) == 7
    bank.keys = bank.keys.clone()  # replaced from outside: the next append must not write into it
    outside = bank.keys
    bank.append_rows(ref["keys"][0][None], ref["biases"][0][None], ref["values"][0][None])
    assert outside.shape[0] == 7 and len(bank) == 8
