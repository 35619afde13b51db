"""Fine-tuning baseline: tune part of the last layer on the edit examples until they are right.

Presets (`preset=fast|reference`):

- `fast` (default): the last FFN's weights and biases (`params=ffn`), one copy of each example,
  plain cross-entropy, at most 2,000 steps (the reference's cap: it stops as soon as the edit is
  right, so the cap only bounds edits it cannot make); this is the cached path.
- `reference` (ZeroYuHuang/Transformer-Patcher `scripts/ft.py` with `src/utils.py` `ft_related_args`
  and `src/models/class_modules.py` `BertBinary.forward`): every weight matrix of the last layer,
  attention included, no biases or LayerNorm (`params=layer`), the example repeated 8 times
  (`copies=8`) in train mode (dropout in every layer, the run's `dropout=model`), the model's own
  loss CE - 0.1 x entropy (`edit_loss=ce_entropy`), Adam lr 1e-5 without weight decay or clipping,
  a fresh optimiser per edit, the edit checked in eval mode before every step, at most 2,000 steps.
  `params=layer` changes more than the last FFN, so it runs on the full path.

The reference's `ft.py` also calls two functions it never defines (`get_lrr_grr`, `get_err`); both
only *report* locality and past-edit accuracy every 50 edits, so we follow its editing loop, which
is complete, and score with the harness's own metrics.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from harness.editors.base import LAST_FFN, EditorError, EditRecord, EditRequest, Memory
from harness.editors.options import build_settings
from harness.editors.presets import preset_options, run_settings_for

PARAMS = ("ffn", "layer")


@dataclass(frozen=True)
class FTSettings:
    preset: str = "fast"
    lr: float = 1e-5  # the reference's
    max_steps: int = 2000  # stop once every example is predicted correctly, or here (the reference's cap)
    weight_decay: float = 0.0
    params: str = "ffn"  # ffn: the last FFN (weights, biases); layer: every weight matrix of the last layer
    copies: int = 1  # each example repeated in the batch (reference: 8)
    edit_loss: str = "ce"  # ce | ce_entropy (CE - entropy_weight x entropy)
    entropy_weight: float = 0.1

    PRESET_VALUES = {  # noqa: RUF012
        "fast": {},
        "reference": {"params": "layer", "copies": 8, "edit_loss": "ce_entropy"},
    }

    def __post_init__(self) -> None:
        if self.max_steps < 1 or self.lr <= 0 or self.copies < 1:
            raise ValueError("max_steps and copies must be >= 1 and lr > 0")
        if self.params not in PARAMS:
            raise ValueError(f"params must be one of {PARAMS}, got {self.params!r}")
        if self.edit_loss not in ("ce", "ce_entropy"):
            raise ValueError(f"edit_loss must be ce or ce_entropy, got {self.edit_loss!r}")


def layer_weight_matrices(view: Any) -> list[Any]:
    """Every weight matrix of the last transformer layer (attention and FFN), no biases or LayerNorm:
    the reference's `--layer 11` selection (names without bias / norm)."""
    out = []
    for name, p in view.layer.named_parameters():
        lowered = name.lower()
        if p.dim() == 2 and "bias" not in lowered and "norm" not in lowered:
            out.append(p)
    return out


class FineTune:
    """Adam on part of the last layer until the edit is right (see the module docstring)."""

    def __init__(self, **options: Any) -> None:
        self.s: FTSettings = build_settings(FTSettings, preset_options(FTSettings, options, "ft"), "ft")
        self.changes = LAST_FFN if self.s.params == "ffn" else None  # None: the full path

    def settings(self) -> dict[str, Any]:
        return asdict(self.s)

    def run_settings(self) -> dict[str, str]:
        return run_settings_for(self.s.preset)

    def __call__(self, view: Any, request: EditRequest, memory: Memory) -> EditRecord:
        import torch

        from harness.editors.losses import edit_loss, nearest_cosine

        s = self.s
        texts = request.texts
        batch = view.repeat(view.encode(texts), s.copies)
        labels = torch.full((len(texts) * s.copies,), request.label, device=view.device)
        params = view.ffn_parameters() if s.params == "ffn" else layer_weight_matrices(view)
        for p in params:
            p.requires_grad_(True)
        opt = torch.optim.Adam(params, lr=s.lr, weight_decay=s.weight_decay)
        steps, loss_value, right = 0, float("nan"), False
        try:
            for steps in range(1, s.max_steps + 1):
                fw = view.forward(batch, train=True)
                loss = edit_loss(fw.logits, labels, s.edit_loss, s.entropy_weight)
                loss_value = loss.item()
                if not math.isfinite(loss_value):
                    raise EditorError(f"ft: loss became {loss_value} at step {steps}")
                pred = fw.logits.argmax(-1) if view.dropout == "none" else view.predict(texts)
                gold = labels if view.dropout == "none" else labels[: len(texts)]
                right = bool((pred.to(labels.device) == gold).all())
                if right:
                    steps -= 1
                    break
                opt.zero_grad()
                loss.backward()
                opt.step()
        finally:
            for p in params:
                p.requires_grad_(False)
                p.grad = None
        info: dict[str, Any] = {}
        if not right and not bool((view.predict(texts) == request.label).all()):
            cosine = nearest_cosine(view.vectors(texts)[0], memory.vectors) if len(memory) else None
            info["diagnosis"] = {"blocking": "ce", "terms": {"ce": loss_value}, "act_edit": None,
                                 "act_memory_max": None, "nearest_memory_cosine": cosine}  # fmt: skip
        return EditRecord(edited=steps > 0, steps=steps, losses={"ce": loss_value}, info=info)
