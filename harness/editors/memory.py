"""The memory a patch must not fire on, and an exact fast search for its top rows.

T-Patcher's memory loss (docs/protocol.md) is a top-k mean over the patch's activations `m · key + b` on
the memory: the [CLS] vectors of 40,000 training rows in the reference, plus every earlier edit. Every
optimisation step must rank the whole memory; in fp32 that is one pass over 123 MB at the paper's
size, the largest single cost of a cached-path step on a CPU.

`Memory.top_rows(key, k)` returns a *superset* of the k rows of highest `m · key`. Both memory terms
of the loss are monotone top-k means, so evaluating them on any superset of those rows gives the very
same loss and gradient (up to ties between equal activations). On a CPU, once the memory is large
(`INDEX_MIN_ROWS`), the search runs on an exact int8 index (`harness.editors.memory_index`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

    from harness.editors.memory_index import Int8Index

INDEX_MIN_ROWS = 8192  # below this the fp32 scan is as fast as the int8 search


@dataclass
class SearchStats:
    """What the top-row searches did (for benchmarks): calls, int8 searches, fallbacks, candidates."""

    calls: int = 0
    indexed: int = 0
    fallbacks: int = 0
    candidates: int = 0  # summed over the indexed searches that did not fall back

    def mean_candidates(self) -> float | None:
        used = self.indexed - self.fallbacks
        return self.candidates / used if used else None


class Memory:
    """Unrelated [CLS] vectors the edit must not disturb: training rows, then every earlier edit.

    Rows are appended into spare capacity (no copy of the whole memory per edit); `reset()` forgets
    the added rows. `index=None` uses the int8 search on CPU memories of `INDEX_MIN_ROWS` rows or
    more; `True` / `False` force it on / off (tests).
    """

    def __init__(self, base: torch.Tensor, *, index: bool | None = None) -> None:
        self.base = base
        self._rows = base
        self._n = int(base.shape[0])
        self._use_index = index
        self._index: Int8Index | None = None
        self.stats = SearchStats()

    @property
    def vectors(self) -> torch.Tensor:
        return self._rows[: self._n]

    @property
    def added(self) -> torch.Tensor:
        """The rows added since the last reset (earlier edits)."""
        return self._rows[self.base.shape[0] : self._n]

    def __len__(self) -> int:
        return self._n

    def add(self, vectors: torch.Tensor) -> None:
        v = vectors.detach().to(self._rows)
        self._rows = append_rows(self._rows, self._n, v)  # never writes into `base`: it has no spare rows
        self._n += int(v.shape[0])
        if self._index is not None:
            self._index.extend(v)

    def reset(self) -> None:
        """Back to the base rows (the storage keeps them untouched: rows are only written past them)."""
        self._n = int(self.base.shape[0])
        if self._index is not None:
            self._index.truncate(self._n)

    def restore(self, added: torch.Tensor) -> None:
        """The base rows plus `added` (a checkpoint's earlier edits)."""
        self.reset()
        if len(added):
            self.add(added)

    def prepare(self) -> bool:
        """Build the int8 index now (a one-time cost) instead of at the first search; True if built."""
        return self._searcher() is not None

    def top_rows(self, key: torch.Tensor, k: int) -> torch.Tensor | None:
        """Indices of a superset of the k rows of highest `m · key`, or None for "every row"."""
        import torch

        self.stats.calls += 1
        n = self._n
        if n <= k:
            return None
        key = key.detach()
        index = self._searcher()
        if index is not None:
            self.stats.indexed += 1
            rows = index.candidates(key, k)
            if rows is not None and len(rows) <= max(4 * k, n // 8):
                self.stats.candidates += len(rows)
                return rows
            self.stats.fallbacks += 1
        with torch.no_grad():
            return (self.vectors @ key).topk(k).indices

    def _searcher(self) -> Int8Index | None:
        if self._index is not None:
            return self._index
        wanted = self._use_index
        if wanted is None:
            wanted = self._rows.device.type == "cpu" and self._n >= INDEX_MIN_ROWS
        from harness.editors.memory_index import Int8Index

        if wanted and Int8Index.supports(self._rows):
            self._index = Int8Index(self.vectors)
        return self._index


def append_rows(buffer: torch.Tensor, n: int, rows: torch.Tensor) -> torch.Tensor:
    """`rows` written after the first `n` rows of `buffer`, which grows by a quarter when full."""
    need = n + int(rows.shape[0])
    if need > buffer.shape[0]:
        grown = buffer.new_empty((max(need, n + n // 4 + 256), *buffer.shape[1:]))
        grown[:n] = buffer[:n]
        buffer = grown
    buffer[n:need] = rows
    return buffer
