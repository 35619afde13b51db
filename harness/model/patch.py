"""T-Patcher's patch neurons: extra key/value neurons in the last transformer layer's FFN.

One patch = one extra neuron (paper §3.2, eq. 7-8): a key row `k_p` and bias `b_p` next to the first
FFN linear, a value row `v_p` next to the second, so that

    FFN'(q) = FFN(q) + act(q · k_p + b_p) · v_p

at every position, with the model's own activation. `install_patches(model)` swaps the last layer's
`intermediate` for `PatchedIntermediate` (which hands its input `q` to the bank) and `output.dense` for
`PatchedDense` (which adds `act(q · K_p^T + b_p) · V_p` to the dense output, before the layer's own
dropout, residual and LayerNorm): the "concatenated neuron" of eq. 8, computed without concatenating,
so that no gradient is computed for the frozen FFN's own 3,072 activations.

Saving: `save_edited(model, dir)` writes the original architecture with `save_pretrained` plus
`patches.safetensors` and `patches.json`; `load_edited(dir)` reloads both, so a plain
`AutoModelForSequenceClassification.from_pretrained(dir)` gives the unedited weights and
`load_edited(dir)` the edited model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from common.io import write_atomic, write_json_atomic

PATCH_FILE = "patches.safetensors"
PATCH_META = "patches.json"
PATCH_FORMAT = 1


class PatchBank(nn.Module):
    """The patch neurons of one layer: committed ones (frozen) plus at most one being trained.

    A pending patch trains `key`, `bias`, `u` and the amplifier `amp`; its value is `u * amp`
    (docs/protocol.md: `v_p = u ⊙ a`, `a` learnable, initialised to 10). `commit()` folds it into the frozen
    tensors.
    """

    def __init__(self, hidden_size: int) -> None:
        super().__init__()
        self.hidden_size = hidden_size
        self.register_buffer("keys", torch.zeros(0, hidden_size))
        self.register_buffer("biases", torch.zeros(0))
        self.register_buffer("values", torch.zeros(0, hidden_size))
        self.pending: nn.ParameterDict | None = None
        self.input_mask: torch.Tensor | None = None  # (batch, hidden) dropout mask on the patch input
        self.last_pre: torch.Tensor | None = None  # (batch, n_patches) pre-activations at [CLS]
        self.stash: tuple[torch.Tensor, Any] | None = None  # PatchedIntermediate's input and activation
        self._store: tuple[torch.Tensor, ...] | None = None  # capacity behind keys/biases/values

    def __len__(self) -> int:
        return int(self.keys.shape[0]) + (1 if self.pending is not None else 0)

    def start(
        self, key: torch.Tensor, value_dir: torch.Tensor, amp: float = 10.0, *, vector_amp: bool = False
    ) -> nn.ParameterDict:
        """Open a trainable patch with key `key`, bias 0 and value `value_dir * amp`.

        `vector_amp=True`: the amplifier is a vector, one learnable entry per hidden unit, all `amp`
        (the reference's `ModifyLinearInput.a`); else one learnable scalar."""
        if self.pending is not None:
            raise RuntimeError("a patch is already being trained; commit() or discard() it first")
        ref = self.keys
        self.pending = nn.ParameterDict(
            {
                "key": nn.Parameter(key.detach().to(ref).clone()),
                "bias": nn.Parameter(torch.zeros((), dtype=ref.dtype, device=ref.device)),
                "u": nn.Parameter(value_dir.detach().to(ref).clone()),
                "amp": nn.Parameter(
                    torch.full(
                        (self.hidden_size,) if vector_amp else (),
                        float(amp),
                        dtype=ref.dtype,
                        device=ref.device,
                    )
                ),
            }
        )
        return self.pending

    def commit(self) -> None:
        p = self.pending
        if p is None:
            return
        with torch.no_grad():
            self.append_rows(
                p["key"].detach()[None], p["bias"].detach()[None], self.pending_value().detach()[None]
            )
        self.pending = None

    def append_rows(self, keys: torch.Tensor, biases: torch.Tensor, values: torch.Tensor) -> None:
        """Append committed rows in amortised O(rows): `keys`/`biases`/`values` are views of the first
        rows of buffers that double when full, so a commit copies one row, not the whole bank.
        Rows past the view are only ever written by a later append (rows of the bank are frozen)."""
        n, add = int(self.keys.shape[0]), int(keys.shape[0])
        store = self._store
        ours = store is not None and all(
            getattr(self, k).data_ptr() == buf.data_ptr() and getattr(self, k).dtype == buf.dtype
            for k, buf in zip(("keys", "biases", "values"), store, strict=True)
        )
        if not ours or n + add > store[0].shape[0]:
            size = max(2 * (n + add), 16)
            store = tuple(t.new_empty((size, *t.shape[1:])) for t in (self.keys, self.biases, self.values))
            for buf, t in zip(store, (self.keys, self.biases, self.values), strict=True):
                buf[:n] = t
            self._store = store
        for buf, rows in zip(store, (keys, biases, values), strict=True):
            buf[n : n + add] = rows
        self.keys, self.biases, self.values = (buf[: n + add] for buf in store)

    def load_rows(self, keys: torch.Tensor, biases: torch.Tensor, values: torch.Tensor) -> None:
        """Replace the committed rows (a checkpoint's), keeping spare capacity for appends."""
        self.pending = None
        self.clear()
        self.append_rows(keys, biases, values)

    def discard(self) -> None:
        self.pending = None

    def clear(self) -> None:
        """Remove every patch (back to the original model); the buffers' capacity is kept."""
        self.pending = None
        self.keys = self.keys[:0]
        self.biases = self.biases[:0]
        self.values = self.values[:0]

    def pending_value(self) -> torch.Tensor:
        """The pending patch's value row, `u * amp` (call only while a patch is pending)."""
        return self.pending["u"] * self.pending["amp"]

    def output(self, q: torch.Tensor, base: torch.Tensor, act: Any) -> torch.Tensor:
        """`base + act(q · K_p^T + b_p) · V_p`: the FFN output with the patches, given the base FFN's.

        `q` (..., hidden) gets the patch-input dropout mask if one is set. Committed and pending
        patches are computed apart: no copy of every committed key per step, and no gradient for
        the committed activations. `last_pre` keeps the pre-activations at [CLS] (batch, n_patches).
        """
        if len(self) == 0:
            self.last_pre = None
            return base
        if self.input_mask is not None:
            mask = self.input_mask
            q = q * (mask[:, None, :] if q.dim() == 3 else mask)
        out, pres = base, []
        if self.keys.shape[0]:
            pre = q @ self.keys.T + self.biases
            out = out + act(pre) @ self.values
            pres.append(pre)
        if self.pending is not None:
            pre = (q @ self.pending["key"] + self.pending["bias"])[..., None]
            out = out + act(pre) * self.pending_value()
            pres.append(pre)
        pre = pres[0] if len(pres) == 1 else torch.cat(pres, dim=-1)
        self.last_pre = pre[:, 0] if pre.dim() == 3 else pre
        return out


class PatchedIntermediate(nn.Module):
    """The last layer's `intermediate`; hands its input to the bank for `PatchedDense`."""

    def __init__(self, base: nn.Module, bank: PatchBank, act: Any) -> None:
        super().__init__()
        self.base = base
        self.bank = bank
        self.act = act

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        self.bank.stash = (hidden_states, self.act)
        return self.base(hidden_states)


class PatchedDense(nn.Module):
    """The last layer's `output.dense` plus the patch neurons' `act(q · K_p^T + b_p) · V_p`."""

    def __init__(self, base: nn.Linear, bank: PatchBank) -> None:
        super().__init__()
        self.base = base
        self.bank = bank

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        out = self.base(hidden_states)
        stash, self.bank.stash = self.bank.stash, None
        if stash is None:
            raise RuntimeError("PatchedDense ran without its PatchedIntermediate before it")
        q, act = stash
        return self.bank.output(q, out, act)


def last_layer(model: nn.Module) -> nn.Module:
    """The last transformer layer of a BERT-style encoder (`encoder.layer[-1]`)."""
    base = getattr(model, "base_model", model)
    layers = getattr(getattr(base, "encoder", None), "layer", None)
    if layers is None or not len(layers):
        raise TypeError(f"{type(model).__name__}: no BERT-style encoder.layer list; cannot patch it")
    layer = layers[-1]
    if not (hasattr(layer, "intermediate") and hasattr(getattr(layer, "output", None), "dense")):
        raise TypeError(f"{type(model).__name__}: last layer has no intermediate/output.dense FFN")
    return layer


def install_patches(model: nn.Module) -> PatchBank:
    """Wrap the last FFN so it carries patch neurons (idempotent); return its `PatchBank`."""
    layer = last_layer(model)
    if isinstance(layer.intermediate, PatchedIntermediate):
        return layer.intermediate.bank
    base = layer.intermediate
    act = getattr(base, "intermediate_act_fn", None)
    if act is None:
        raise TypeError(f"{type(base).__name__}: no intermediate_act_fn; cannot build patch neurons")
    dense = base.dense
    bank = PatchBank(dense.in_features).to(device=dense.weight.device, dtype=dense.weight.dtype)
    layer.intermediate = PatchedIntermediate(base, bank, act)
    layer.output.dense = PatchedDense(layer.output.dense, bank)
    return bank


def uninstall_patches(model: nn.Module) -> PatchBank | None:
    """Restore the original last FFN modules; return the bank that was removed (or None)."""
    layer = last_layer(model)
    if not isinstance(layer.intermediate, PatchedIntermediate):
        return None
    bank = layer.intermediate.bank
    layer.intermediate = layer.intermediate.base
    layer.output.dense = layer.output.dense.base
    return bank


def save_edited(model: nn.Module, out_dir: str | Path, tokenizer: Any = None) -> Path:
    """`save_pretrained` of the original architecture + the patches beside it (see `load_edited`)."""
    from safetensors.torch import save_file

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    bank = uninstall_patches(model)
    try:
        model.save_pretrained(out)
    finally:
        if bank is not None:
            _reinstall(model, bank)
    if tokenizer is not None:
        tokenizer.save_pretrained(out)
    n = 0
    if bank is not None:
        bank.commit()
        n = int(bank.keys.shape[0])
        tensors = {"keys": bank.keys, "biases": bank.biases, "values": bank.values}
        cpu = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
        write_atomic(out / PATCH_FILE, lambda tmp: save_file(cpu, str(tmp)))
    meta = {"format": PATCH_FORMAT, "n_patches": n, "layer": "last", "module": "intermediate/output.dense"}
    meta["reload"] = "harness.model.patch.load_edited(dir)"
    write_json_atomic(out / PATCH_META, meta)
    return out


def _reinstall(model: nn.Module, bank: PatchBank) -> None:
    layer = last_layer(model)
    base = layer.intermediate
    layer.intermediate = PatchedIntermediate(base, bank, base.intermediate_act_fn)
    layer.output.dense = PatchedDense(layer.output.dense, bank)


def load_patches(model: nn.Module, folder: str | Path) -> PatchBank:
    """Install the patches saved in `folder` (by `save_edited`) into `model`."""
    from safetensors.torch import load_file

    bank = install_patches(model)
    path = Path(folder) / PATCH_FILE
    if path.exists():
        tensors = load_file(str(path))
        ref = bank.keys
        bank.keys = tensors["keys"].to(ref)
        bank.biases = tensors["biases"].to(ref)
        bank.values = tensors["values"].to(ref)
    return bank


def load_edited(folder: str | Path, **from_pretrained: Any) -> nn.Module:
    """Reload a model written by `save_edited`: the checkpoint plus its patch neurons, in eval mode."""
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(str(folder), **from_pretrained)
    load_patches(model, folder)
    return model.eval()
