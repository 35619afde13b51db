"""Transformer-Patcher (Huang et al., 2023): one patch neuron per edit in the last FFN.

Faithful to docs/protocol.md: key `q_e/||q_e||²`, bias 0, value `u ⊙ a` (u ~ N(0, 1), amplifier a = 10,
learnable); loss CE + 1.0·L_act + 5·L_mem with margins; the edit repeated 8 times; Adam lr 1e-2,
weight decay 0.01, gradient clipping 5, at most 2,000 steps, early stop once the edit is predicted
correctly and the memory loss stops falling (tolerance 1e-3); the edit joins the memory afterwards.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from harness.editors.base import LAST_FFN, EditorError, EditRecord, EditRequest, Memory
from harness.editors.options import build_settings


@dataclass(frozen=True)
class TPatcherSettings:
    lr: float = 1e-2
    weight_decay: float = 0.01
    clip: float = 5.0
    max_steps: int = 2000
    copies: int = 8  # the edit repeated in the batch (dropout makes copies differ)
    amp_init: float = 10.0
    act_weight: float = 1.0
    mem_weight: float = 5.0
    act_top_k: int = 5
    mem_top_k: int = 1000
    margin: float = 3.0  # fire on the edit 3 above any memory, and stay below -3 on memories
    tol: float = 1e-3  # early stop: memory loss changed by less than this (converged)
    key_init: str = "first"  # first: the English example's vector; mean: mean over the examples
    memory_update: bool = True

    def __post_init__(self) -> None:
        if self.key_init not in ("first", "mean"):
            raise ValueError(f"key_init must be 'first' or 'mean', got {self.key_init!r}")
        if self.max_steps < 1 or self.copies < 1:
            raise ValueError("max_steps and copies must be >= 1")


def topk_mean(values: Any, k: int) -> Any:
    flat = values.reshape(-1)
    return flat.topk(min(k, flat.numel())).values.mean()


def top_memory_activations(memory: Memory, patch: Any, k: int) -> Any:
    """The patch's activations, with gradient, on a superset of the `k` memory rows where it fires most.

    Both memory terms are top-k means over (memory row x edit copy) pairs or memory rows. For any
    edit copy, a pair's value grows with the row's activation, so every pair in the top k lies in
    one of the k rows of highest activation, and both terms take the same value and gradient on any
    superset of those rows. `Memory.top_rows` finds such a superset without gradient (an exact int8
    search on large CPU memories); only those rows are recomputed with gradient, instead of
    back-propagating through the whole memory (40,000 rows in the reference).
    """
    rows = memory.top_rows(patch["key"], k)
    mem = memory.vectors if rows is None else memory.vectors.index_select(0, rows)
    return mem @ patch["key"] + patch["bias"]


class TPatcher:
    """The T-Patcher editor; options are the fields of `TPatcherSettings`."""

    changes = LAST_FFN

    def __init__(self, **options: Any) -> None:
        self.s: TPatcherSettings = build_settings(TPatcherSettings, options, "tpatcher")

    def settings(self) -> dict[str, Any]:
        return asdict(self.s)

    def __call__(self, view: Any, request: EditRequest, memory: Memory) -> EditRecord:
        import torch

        s = self.s
        texts = request.texts
        labels = torch.full((len(texts) * s.copies,), request.label, device=view.device)
        batch = view.repeat(view.encode(texts), s.copies)
        q = view.vectors(texts)
        anchor = q[0] if s.key_init == "first" else q.mean(0)
        gen = torch.Generator().manual_seed(request.seed)
        u = torch.randn(q.shape[1], generator=gen).to(q)
        patch = view.bank.start(anchor / anchor.pow(2).sum(), u, s.amp_init)
        params = list(patch.parameters())
        opt = torch.optim.Adam(params, lr=s.lr, weight_decay=s.weight_decay)
        prev_mem, steps, losses = float("inf"), 0, {}
        try:
            for steps in range(1, s.max_steps + 1):
                fw = view.forward(batch, train=True)
                losses, total = self._losses(fw, labels, memory, patch)
                if not torch.isfinite(total):
                    raise EditorError(f"tpatcher: loss became {total.item()} at step {steps}")
                right = bool((fw.logits.argmax(-1) == labels).all())
                if right and abs(prev_mem - losses["mem"]) < s.tol and self._correct(view, texts, request):
                    break
                prev_mem = losses["mem"]
                opt.zero_grad()
                total.backward()
                torch.nn.utils.clip_grad_norm_(params, s.clip)
                opt.step()
        except BaseException:
            view.bank.discard()
            raise
        view.bank.commit()
        if s.memory_update:
            memory.add(q)
        return EditRecord(edited=True, patches_added=1, steps=steps, losses=losses)

    def _losses(self, fw: Any, labels: Any, memory: Memory, patch: Any) -> tuple[dict[str, float], Any]:
        import torch
        import torch.nn.functional as F

        s = self.s
        a_e = fw.patch_pre[:, -1]
        ce = F.cross_entropy(fw.logits, labels)
        l_act = topk_mean(torch.exp(-a_e), s.act_top_k)
        if len(memory):
            a_m = top_memory_activations(memory, patch, s.mem_top_k)
            l_mem = topk_mean(torch.exp(a_m[:, None] - a_e[None, :] + s.margin), s.mem_top_k)
            l_mem = l_mem + topk_mean(torch.exp(a_m + s.margin), s.mem_top_k)
        else:
            l_mem = ce.new_zeros(())
        total = ce + s.act_weight * l_act + s.mem_weight * l_mem
        losses = {"ce": ce.item(), "act": l_act.item(), "mem": l_mem.item(), "total": total.item()}
        return losses, total

    @staticmethod
    def _correct(view: Any, texts: list, request: EditRequest) -> bool:
        if view.dropout == "none":
            return True  # the training forward was already in eval mode
        return bool((view.predict(texts) == request.label).all())
