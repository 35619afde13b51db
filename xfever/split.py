"""The paper's split: shuffle KILT FEVER train with a fixed seed, cut 0.8 / 0.1 / 0.1.

The reference script is unseeded (docs/protocol.md, "Data"), so its exact edit subset cannot be
regenerated; ours is seeded and recorded. Sizes are `int(n * r)` per part, as in the paper
(104,966 rows -> 83,972 / 10,496 / 10,496); the `n - sum(sizes)` leftover rows (2 there) are dropped
and counted.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")

SPLIT_NAMES: tuple[str, str, str] = ("train", "validation", "edit")


def split_sizes(n: int, ratios: Sequence[float]) -> list[int]:
    """`int(n * r)` for each ratio."""
    return [int(n * r) for r in ratios]


def seeded_split(rows: Sequence[T], seed: int, ratios: Sequence[float]) -> tuple[dict[str, list[T]], int]:
    """Shuffle a copy of `rows` with `random.Random(seed)`, cut it into train / validation / edit.

    Returns the parts and the number of leftover rows dropped.
    """
    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    parts: dict[str, list[T]] = {}
    start = 0
    for name, size in zip(SPLIT_NAMES, split_sizes(len(rows), ratios), strict=True):
        parts[name] = [rows[i] for i in order[start : start + size]]
        start += size
    return parts, len(rows) - start
