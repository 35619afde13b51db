"""The cached path's memo of the frozen last FFN's output `dense(act(W1 q))`.

Patch editors never change the FFN's own weights, so its two large matrix products need computing
once per input, not once per optimisation step or per folder:

- `for_batch`: the edit batch that a patch editor runs for up to 2,000 steps (the batch tensor
  itself, and the version counters of the batch and the FFN weights, are the key);
- `scoring_batch`: the texts `keep`-ed for the whole run (the locality rows, scored by every folder's
  final model): their output is kept per text, so each folder's scoring takes it from the memo
  instead of recomputing it (issue 15: 7.8x per folder on the locality rows).

Version counters are bumped by every in-place change (optimiser steps, `copy_`, `load_state_dict`),
so the memo is never stale; editors that train the FFN (`requires_grad`) always take the modules.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from harness.data.suite import Text


def _same_params(a: tuple, b: tuple) -> bool:
    return len(a) == len(b) and all(p is q and u == v for (p, u), (q, v) in zip(a, b, strict=True))


class FrozenFFN:
    """The memo of one CachedView (see the module docstring)."""

    def __init__(self) -> None:
        self.recent: list[tuple[torch.Tensor, tuple, tuple, torch.Tensor]] = []
        self.kept: set[Text] = set()
        self.by_text: dict[Text, torch.Tensor] = {}
        self.stamp: tuple = ()

    def keep(self, texts: Sequence[Text]) -> None:
        self.kept.update(texts)

    @staticmethod
    def _params(view: Any) -> tuple | None:
        params = view.ffn_parameters()
        if not view._split_ffn or any(p.requires_grad for p in params):
            return None
        return tuple((p, p._version) for p in params)

    @staticmethod
    def _compute(view: Any, x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return view.layer.output.dense.base(view.layer.intermediate.base(x[:, None, :]))

    def for_batch(self, view: Any, batch: torch.Tensor) -> torch.Tensor | None:
        """The frozen FFN's output for `batch` (B, 1, H), memoised; None while the FFN trains."""
        params = self._params(view)
        if params is None:
            return None
        for seen, version, seen_params, base in self.recent:
            if seen is batch and version == batch._version and _same_params(seen_params, params):
                return base
        base = self._compute(view, batch)
        self.remember(batch, params, base)
        return base

    def remember(self, batch: torch.Tensor, params: tuple, base: torch.Tensor) -> None:
        self.recent = [
            (batch, batch._version, params, base),
            *self.recent[:1],
        ]  # the edit batch and one other

    def scoring_batch(self, view: Any, texts: Sequence[Text], batch: torch.Tensor) -> torch.Tensor:
        """`batch` (the encoded `texts`), its frozen-FFN output remembered for `for_batch`: kept
        texts from the per-text memo (computed the first time), the others with the batch."""
        params = self._params(view)
        if params is None or not any(t in self.kept for t in texts):
            return batch
        if not _same_params(self.stamp, params):
            self.by_text, self.stamp = {}, params  # the FFN moved: start again
        todo = [i for i, t in enumerate(texts) if t not in self.by_text]
        have = [i for i, t in enumerate(texts) if t in self.by_text]
        base = torch.empty_like(batch)
        if todo:
            fresh = self._compute(view, batch[todo])[:, 0]
            base[todo] = fresh
            for j, i in enumerate(todo):
                if texts[i] in self.kept:
                    self.by_text[texts[i]] = fresh[j]
        if have:
            base[have] = torch.stack([self.by_text[texts[i]] for i in have])
        self.remember(batch, params, base[:, None, :])
        return batch
