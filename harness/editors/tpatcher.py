"""Transformer-Patcher (Huang et al., 2023): one patch neuron per edit in the last FFN.

Faithful to docs/protocol.md: key `q_e/||q_e||²`, bias 0, value `u ⊙ a` (u ~ N(0, 1), amplifier a = 10,
learnable); loss CE + 1.0·L_act + 5·L_mem with margins; the edit repeated 8 times; Adam lr 1e-2,
weight decay 0.01, gradient clipping 5, at most 2,000 steps; the edit joins the memory afterwards.

Two presets (`preset=fast|reference`, docs/protocol.md "Reference behaviours and presets"):

- `fast` (default): scalar amplifier, plain cross-entropy, the "stay below -3" term over the top-1000
  memory rows, one memory row per past edit, no learning-rate schedule, and an early stop at the
  first step where the edit is right and the training-memory loss moved by less than `tol`.
- `reference` (scripts/T-patch.py, src/models/class_modules.py, src/models/patch.py of
  ZeroYuHuang/Transformer-Patcher): a vector amplifier (`amp_shape=vector`); CE minus 0.1 x the
  prediction's entropy (`edit_loss=ce_entropy`); the "stay below -3" term's top-k over
  (memory row x copy) pairs (`mem_pairs`); each past edit joins the memory as its 8 copies
  (`memory_copies=8`); every `check_every`=25 steps an eval-mode check of the edit batch that feeds
  ReduceLROnPlateau with the edit's loss (`lr_plateau`: factor 0.5, patience 1, relative threshold
  0.05) and, from step `stop_start`=125 on, stops when the edit is right and the memory loss on the
  *validation* memory made no new best (by more than `tol`) since the previous check
  (`early_stop=reference`, `stop_memory=validation`). Its run settings (train-mode dropout in every
  layer, no dropout before the classifier, ...) are declared by `run_settings()`.

An edit that fails gets `info["diagnosis"]`: which loss term was largest at the end, the patch's
activation on the edit vs its highest on the memory, and the nearest memory row's cosine.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from harness.editors.base import LAST_FFN, EditorError, EditRecord, EditRequest, Memory
from harness.editors.losses import (
    edit_loss,
    nearest_cosine,
    no_new_best,
    pairs_topk_mean,
    top_memory_activations,
    topk_mean,
)
from harness.editors.options import build_settings
from harness.editors.presets import preset_options, run_settings_for

EARLY_STOPS = ("converged", "reference")
STOP_MEMORIES = ("validation", "train")


@dataclass(frozen=True)
class TPatcherSettings:
    preset: str = "fast"  # fast | reference: the values of the options below not given explicitly
    lr: float = 1e-2
    weight_decay: float = 0.01
    clip: float = 5.0
    max_steps: int = 2000
    copies: int = 8  # the edit repeated in the batch (dropout makes copies differ)
    amp_init: float = 10.0
    amp_shape: str = "scalar"  # scalar | vector (reference: one entry per hidden unit)
    act_weight: float = 1.0
    mem_weight: float = 5.0
    act_top_k: int = 5
    mem_top_k: int = 1000
    mem_pairs: bool = False  # "stay below" term: top-k over (memory row x copy) pairs (reference)
    margin: float = 3.0  # fire on the edit 3 above any memory, and stay below -3 on memories
    edit_loss: str = "ce"  # ce | ce_entropy: CE - entropy_weight * H(prediction) (reference eps 0.1)
    entropy_weight: float = 0.1
    tol: float = 1e-3  # early stop: memory loss change (converged) / improvement (reference)
    early_stop: str = "converged"  # converged | reference
    check_every: int = 25  # reference checks (plateau, early stop): every K steps
    stop_start: int = 125  # reference early stop: first step checked
    stop_memory: str = "validation"  # reference early stop's memory: validation split | train memory
    lr_plateau: bool = False  # ReduceLROnPlateau on the edit's eval loss at each check
    plateau_factor: float = 0.5
    plateau_patience: int = 1
    plateau_threshold: float = 0.05  # relative
    memory_copies: int = 1  # memory rows each past edit adds (reference: its 8 copies)
    key_init: str = "first"  # first: the English example's vector; mean: mean over the examples
    memory_update: bool = True

    PRESET_VALUES = {  # noqa: RUF012 (a class constant, not a field)
        "fast": {},
        "reference": {
            "amp_shape": "vector",
            "edit_loss": "ce_entropy",
            "mem_pairs": True,
            "memory_copies": 8,
            "lr_plateau": True,
            "early_stop": "reference",
        },
    }

    def __post_init__(self) -> None:
        choices = {
            "key_init": ("first", "mean"),
            "amp_shape": ("scalar", "vector"),
            "edit_loss": ("ce", "ce_entropy"),
            "early_stop": EARLY_STOPS,
            "stop_memory": STOP_MEMORIES,
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        if self.max_steps < 1 or self.copies < 1 or self.memory_copies < 1 or self.check_every < 1:
            raise ValueError("max_steps, copies, memory_copies and check_every must be >= 1")


class TPatcher:
    """The T-Patcher editor; options are the fields of `TPatcherSettings` (`preset` sets them all)."""

    changes = LAST_FFN

    def __init__(self, **options: Any) -> None:
        options = preset_options(TPatcherSettings, options, "tpatcher")
        self.s: TPatcherSettings = build_settings(TPatcherSettings, options, "tpatcher")
        self.val_memory: Memory | None = None
        self._report: dict[str, Any] = {}

    def settings(self) -> dict[str, Any]:
        return asdict(self.s)

    def run_settings(self) -> dict[str, str]:
        """The run settings this editor's preset needs (EvalConfig's `auto` values resolve to these)."""
        return run_settings_for(self.s.preset)

    # -- hooks ------------------------------------------------------------------------------------
    def setup(self, view: Any, suite: Any) -> None:
        """Encode the validation memory of the reference early stop (the dataset's validation split)."""
        s = self.s
        if s.early_stop != "reference" or s.stop_memory != "validation":
            return
        rows = tuple(getattr(suite, "validation", ()) or ())
        if not rows:
            self._report["stop_memory"] = {
                "source": "training memory (fallback)",
                "reason": "the dataset has no validation split",
                "rows": None,
            }
            return
        self.val_memory = Memory(view.vectors([e.text for e in rows]))
        self._report["stop_memory"] = {
            "source": getattr(suite, "validation_source", "") or "validation split",
            "rows": len(rows),
        }

    def reset(self) -> None:
        if self.val_memory is not None:
            self.val_memory.reset()

    def state_dict(self) -> dict[str, Any]:
        return {} if self.val_memory is None else {"val_added": self.val_memory.added.cpu()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if self.val_memory is not None and "val_added" in state:
            self.val_memory.restore(state["val_added"].to(self.val_memory.vectors.device))

    def report(self) -> dict[str, Any]:
        """What results.json records of this run beyond the settings (the early stop's memory)."""
        return dict(self._report)

    # -- editing ----------------------------------------------------------------------------------
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
        patch = view.bank.start(
            anchor / anchor.pow(2).sum(), u, s.amp_init, vector_amp=s.amp_shape == "vector"
        )
        params = list(patch.parameters())
        opt = torch.optim.Adam(params, lr=s.lr, weight_decay=s.weight_decay)
        plateau = None
        if s.lr_plateau:
            plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(
                opt, mode="min", factor=s.plateau_factor, patience=s.plateau_patience,
                threshold=s.plateau_threshold,
            )  # fmt: skip
        checking = s.lr_plateau or s.early_stop == "reference"
        stop_memory = self.val_memory if self.val_memory is not None else memory
        prev_mem, steps, terms, checks, history = float("inf"), 0, None, [], []
        try:
            for steps in range(1, s.max_steps + 1):
                fw = view.forward(batch, train=True)
                terms = self._terms(fw, labels, memory, patch)
                total = terms["total"]
                if s.early_stop == "converged":  # decides every step: one host sync
                    right_t = (fw.logits.argmax(-1) == labels).all().to(total.dtype)
                    total_v, mem_v, right = torch.stack([total, terms["mem"], right_t]).tolist()
                    if not math.isfinite(total_v):
                        raise EditorError(f"tpatcher: loss became {total_v} at step {steps}")
                    if right and abs(prev_mem - mem_v) < s.tol and self._correct(view, texts, request):
                        break
                    prev_mem = mem_v
                opt.zero_grad()
                total.backward()
                torch.nn.utils.clip_grad_norm_(params, s.clip)
                opt.step()
                if checking and steps % s.check_every == 0:
                    check = self._check(view, batch, labels, stop_memory, patch, steps)
                    checks.append(check | {"lr": opt.param_groups[0]["lr"]})
                    if plateau is not None:
                        plateau.step(check["eval_loss"])
                    if s.early_stop == "reference" and steps >= s.stop_start and check["right"]:
                        history.append(check["stop_mem"])
                        if no_new_best(history, s.tol):
                            break
            losses = self._final(terms, steps)
            diagnosis = self._diagnose(view, texts, request, memory, patch, losses)
        except BaseException:
            view.bank.discard()
            raise
        view.bank.commit()
        if s.memory_update:
            rows = q.repeat_interleave(s.memory_copies, dim=0)
            memory.add(rows)
            if self.val_memory is not None:
                self.val_memory.add(rows)
        info: dict[str, Any] = {"checks": checks} if checks else {}
        if diagnosis is not None:
            info["diagnosis"] = diagnosis
        return EditRecord(edited=True, patches_added=1, steps=steps, losses=losses, info=info)

    def _terms(self, fw: Any, labels: Any, memory: Memory, patch: Any) -> dict[str, Any]:
        """The loss terms (tensors, no host sync): ce, act, mem and the weighted total."""
        import torch

        s = self.s
        a_e = fw.patch_pre[:, -1]
        ce = edit_loss(fw.logits, labels, s.edit_loss, s.entropy_weight)
        l_act = topk_mean(torch.exp(-a_e), s.act_top_k)
        l_mem = self._mem_loss(memory, patch, a_e) if len(memory) else ce.new_zeros(())
        total = ce + s.act_weight * l_act + s.mem_weight * l_mem
        return {"ce": ce, "act": l_act, "mem": l_mem, "total": total}

    def _mem_loss(self, memory: Memory, patch: Any, a_e: Any) -> Any:
        import torch

        s = self.s
        a_m = top_memory_activations(memory, patch, s.mem_top_k)
        above = topk_mean(torch.exp(a_m[:, None] - a_e[None, :] + s.margin), s.mem_top_k)
        below_rows = torch.exp(a_m + s.margin)
        if s.mem_pairs:
            below = pairs_topk_mean(below_rows, a_e.numel(), s.mem_top_k)
        else:
            below = topk_mean(below_rows, s.mem_top_k)
        return above + below

    def _check(self, view: Any, batch: Any, labels: Any, stop_memory: Memory, patch: Any, step: int) -> dict:
        """The reference's validation: the edit batch in eval mode; its loss (for the plateau), whether
        it is right, and the memory loss on the early stop's memory. One host sync."""
        import torch

        s = self.s
        with torch.no_grad():
            fw = view.forward(batch, train=False)
            loss = edit_loss(fw.logits, labels, s.edit_loss, s.entropy_weight)
            right = (fw.logits.argmax(-1) == labels).all().to(loss.dtype)
            a_e = fw.patch_pre[:, -1]
            mem = self._mem_loss(stop_memory, patch, a_e) if len(stop_memory) else loss.new_zeros(())
            loss_v, right_v, mem_v = torch.stack([loss, right, mem]).tolist()
        if not math.isfinite(loss_v) or not math.isfinite(mem_v):
            raise EditorError(f"tpatcher: loss became non-finite at step {step}")
        return {"step": step, "eval_loss": loss_v, "right": bool(right_v), "stop_mem": mem_v}

    @staticmethod
    def _final(terms: dict[str, Any] | None, steps: int) -> dict[str, float]:
        import torch

        if terms is None:
            return {}
        names = ("ce", "act", "mem", "total")
        values = torch.stack([terms[n].detach() for n in names]).tolist()
        if not all(math.isfinite(v) for v in values):
            raise EditorError(f"tpatcher: loss became non-finite at step {steps}")
        return dict(zip(names, values, strict=True))

    def _diagnose(
        self, view: Any, texts: list, request: EditRequest, memory: Memory, patch: Any, losses: dict
    ) -> dict[str, Any] | None:
        """Why the edit is still wrong (None when it is right): computed once, at the end."""
        import torch

        s = self.s
        with torch.no_grad():
            fw = view.forward(view.encode(texts), train=False)
            if bool((fw.logits.argmax(-1) == request.label).all()):
                return None
            act_edit = float(fw.patch_pre[:, -1].min())
            out: dict[str, Any] = {
                "act_edit": act_edit,
                "act_memory_max": None,
                "nearest_memory_cosine": None,
            }
            if len(memory):
                acts = memory.vectors @ patch["key"] + patch["bias"]
                out["act_memory_max"] = float(acts.max())
                out["nearest_memory_cosine"] = nearest_cosine(view.vectors(texts)[0], memory.vectors)
        weighted = {
            "ce": losses.get("ce", 0.0),
            "activation": s.act_weight * losses.get("act", 0.0),
            "memory": s.mem_weight * losses.get("mem", 0.0),
        }
        out["blocking"] = max(weighted, key=weighted.get)
        out["terms"] = weighted
        if out["act_memory_max"] is not None:
            out["act_gap"] = act_edit - out["act_memory_max"]  # the memory term wants >= margin
        return out

    @staticmethod
    def _correct(view: Any, texts: list, request: EditRequest) -> bool:
        if view.dropout == "none":
            return True  # the training forward was already in eval mode
        return bool((view.predict(texts) == request.label).all())
