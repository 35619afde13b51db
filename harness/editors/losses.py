"""T-Patcher's loss terms and decisions as plain functions (docs/protocol.md, "Transformer-Patcher").

The activation and memory terms are top-k means of exponentiated margins; the reference takes the
"stay below -3" term's top-k over (memory row x edit copy) pairs (`pairs_topk_mean`); its early stop
asks whether the validation-memory loss made a new best (`no_new_best`); its edit loss subtracts
0.1 x the prediction's entropy (`edit_loss`). `nearest_cosine` feeds the failure diagnosis.
"""

from __future__ import annotations

from typing import Any

from harness.editors.memory import Memory


def topk_mean(values: Any, k: int) -> Any:
    flat = values.reshape(-1)
    return flat.topk(min(k, flat.numel())).values.mean()


def pairs_topk_mean(row_values: Any, copies: int, k: int) -> Any:
    """Top-k mean over (row x copy) pairs of values that do not depend on the copy: each row counts
    `copies` times, so the top k pairs are the top ceil(k / copies) rows (k=1000, 8 copies: 125)."""
    rows = min(row_values.numel(), -(-k // copies))
    top = row_values.reshape(-1).topk(rows).values
    return top.repeat_interleave(copies)[: min(k, rows * copies)].mean()


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


def no_new_best(history: list[float], tol: float, patience: int = 1) -> bool:
    """The reference's early-stop rule: the best value (improving by more than `tol`) is more than
    `patience` checks old."""
    best = 0
    for i, value in enumerate(history):
        if value < history[best] - tol:
            best = i
    return best < len(history) - patience


def edit_loss(logits: Any, labels: Any, kind: str, entropy_weight: float) -> Any:
    """Cross-entropy, or CE minus `entropy_weight` x the entropy of the predicted distribution (the
    reference's BCE - 0.1 x Bernoulli entropy; for a 2-way softmax head exactly that)."""
    import torch.nn.functional as F

    ce = F.cross_entropy(logits, labels)
    if kind == "ce":
        return ce
    logp = logits.log_softmax(-1)
    entropy = -(logp.exp() * logp).sum(-1).mean()
    return ce - entropy_weight * entropy


def nearest_cosine(vector: Any, rows: Any) -> float | None:
    """The highest cosine similarity between `vector` and any row of `rows` (None when empty)."""
    import torch.nn.functional as F

    if not len(rows):
        return None
    sims = F.normalize(rows.float(), dim=-1) @ F.normalize(vector.float(), dim=0)
    return float(sims.max())
