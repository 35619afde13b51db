"""Fine-tuning baseline: tune the last layer's FFN on the edit examples (cross-entropy, step cap)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from harness.editors.base import LAST_FFN, EditorError, EditRecord, EditRequest, Memory
from harness.editors.options import build_settings


@dataclass(frozen=True)
class FTSettings:
    lr: float = 1e-5  # the reference's
    max_steps: int = 100  # stop once every example is predicted correctly, or here
    weight_decay: float = 0.0

    def __post_init__(self) -> None:
        if self.max_steps < 1 or self.lr <= 0:
            raise ValueError("max_steps must be >= 1 and lr > 0")


class FineTune:
    """Adam on the last FFN's weights (intermediate and output dense) until the edit is right."""

    changes = LAST_FFN

    def __init__(self, **options: Any) -> None:
        self.s: FTSettings = build_settings(FTSettings, options, "ft")

    def settings(self) -> dict[str, Any]:
        return asdict(self.s)

    def __call__(self, view: Any, request: EditRequest, memory: Memory) -> EditRecord:
        import torch
        import torch.nn.functional as F

        texts = request.texts
        batch = view.encode(texts)
        labels = torch.full((len(texts),), request.label, device=view.device)
        params = view.ffn_parameters()
        for p in params:
            p.requires_grad_(True)
        opt = torch.optim.Adam(params, lr=self.s.lr, weight_decay=self.s.weight_decay)
        steps, loss_value = 0, float("nan")
        try:
            for steps in range(1, self.s.max_steps + 1):
                fw = view.forward(batch, train=True)
                loss = F.cross_entropy(fw.logits, labels)
                loss_value = loss.item()
                if not torch.isfinite(loss):
                    raise EditorError(f"ft: loss became {loss_value} at step {steps}")
                right = fw.logits.argmax(-1) if view.dropout == "none" else view.predict(texts)
                if bool((right.to(labels.device) == labels).all()):
                    steps -= 1
                    break
                opt.zero_grad()
                loss.backward()
                opt.step()
        finally:
            for p in params:
                p.requires_grad_(False)
                p.grad = None
        return EditRecord(edited=steps > 0, steps=steps, losses={"ce": loss_value})
