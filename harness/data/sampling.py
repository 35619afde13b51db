"""Seeded, disjoint draws of rows: the locality-train subset and T-Patcher's memory.

The reference (Transformer-Patcher's `SeqEditDataSet`) shuffles the train split once and takes the
first 10,000 rows as the locality-train subset and the *next* 40,000 as the memory, so the memory
loss never protects a row that locality is measured on. `disjoint_draw` does the same with a fixed
seed. A split too small for every part gives each part its share of the rows in proportion to the
sizes asked (recorded by the caller), instead of letting parts overlap.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


def part_sizes(total: int, wanted: Sequence[int]) -> list[int]:
    """The sizes the parts get from `total` rows: as asked when they fit, else proportional shares."""
    asked = sum(wanted)
    if asked <= total:
        return list(wanted)
    sizes = [total * w // asked for w in wanted]
    for i in sorted(range(len(wanted)), key=lambda i: -(total * wanted[i] % asked)):  # largest remainders
        if sum(sizes) >= total:
            break
        sizes[i] += 1
    return sizes


def disjoint_draw(rows: Sequence[T], wanted: Sequence[int], seed: int) -> list[tuple[T, ...]]:
    """One permutation of `rows` seeded by `seed`, cut into consecutive parts of the `part_sizes`;
    each part is returned in dataset order (so that it does not depend on how it was drawn)."""
    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    parts, start = [], 0
    for size in part_sizes(len(rows), wanted):
        chosen = sorted(order[start : start + size])
        parts.append(tuple(rows[i] for i in chosen))
        start += size
    return parts


def sample(rows: Sequence[T], size: int, seed: int) -> tuple[T, ...]:
    """`size` rows drawn with `seed` (all rows when `size` is 0 or covers them), in dataset order."""
    if size <= 0 or size >= len(rows):
        return tuple(rows)
    return disjoint_draw(rows, [size], seed)[0]
