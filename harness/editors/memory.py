"""The memory a patch must not fire on, and an exact fast search for its top rows.

T-Patcher's memory loss (docs/protocol.md) is a top-k mean over the patch's activations `m · key + b` on
the memory: the [CLS] vectors of 40,000 training rows in the reference, plus every earlier edit. Every
optimisation step must rank the whole memory; in fp32 that is one pass over 123 MB at the paper's
size, the largest single cost of a cached-path step on a CPU.

`Memory.top_rows(key, k)` returns a *superset* of the k rows of highest `m · key`. Both memory terms
of the loss are monotone top-k means, so evaluating them on any superset of those rows gives the very
same loss and gradient (up to ties between equal activations). On a CPU, once the memory is large
(`INDEX_MIN_ROWS`), the search can run on an exact int8 index (`harness.editors.memory_index`).
Whether it does is measured, not assumed: on a CPU with fast int8 dot products (AVX-512 VNNI, AMX)
the index took 2.0 ms against 3.4 ms for the fp32 scan of 40,000 x 768 rows, but on an AVX2-only
CPU (no VNNI) oneDNN's int8 kernels are slow and the index took 22 ms against 10 ms. When the index
is built, both searches are timed on the memory itself and the faster one is kept
(`Memory.search`, recorded in results.json under `provenance.encoding.memory_search`); both are
exact, so the choice changes the time a step takes, never its result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

    from harness.editors.memory_index import Int8Index

INDEX_MIN_ROWS = 8192  # below this the fp32 scan is as fast as the int8 search
CALIBRATION_K, CALIBRATION_REPEATS = 1000, 3  # T-Patcher's memory top-k; best of 3 timed searches each


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
        self._decided = False
        # what the searches use (results.json records it); final once `_searcher` has decided
        self.search: dict[str, Any] = {
            "method": "fp32 scan",
            "reason": f"below {INDEX_MIN_ROWS} rows or not on a CPU" if index is None else "not searched yet",
        }
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
        """Decide the search now (for a large CPU memory: build the int8 index and time it against
        the fp32 scan, a one-time cost) instead of at the first search; True if the index is used."""
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
        if self._decided:
            return self._index
        auto = self._use_index is None
        if auto and not (self._rows.device.type == "cpu" and self._n >= INDEX_MIN_ROWS):
            return None  # the fp32 scan for now: decided once the memory has grown past INDEX_MIN_ROWS
        from harness.editors.memory_index import Int8Index

        self._decided = True
        if self._use_index is False:
            self.search = {"method": "fp32 scan", "reason": "index=False"}
        elif not Int8Index.supports(self._rows):
            self.search = {"method": "fp32 scan", "reason": "rows the int8 index cannot hold"}
        else:
            index = Int8Index(self.vectors)
            self.search = self._calibrate(index) if auto else {"method": "int8 index", "reason": "index=True"}
            if self.search["method"] == "int8 index":
                self._index = index
        return self._index

    def _calibrate(self, index: Int8Index) -> dict[str, Any]:
        """Time the int8 search and the fp32 scan on this memory (best of a few, after a warm-up);
        the faster method, with both times in ms."""
        import time

        import torch

        key = torch.randn(self.vectors.shape[1], generator=torch.Generator().manual_seed(0)).to(self.vectors)
        k = min(CALIBRATION_K, max(1, self._n // 8))

        def best(search: Any) -> float:
            search()  # warm-up: first-call allocations, prepacked weights paged in
            times = []
            for _ in range(CALIBRATION_REPEATS):
                started = time.perf_counter()
                search()
                times.append(time.perf_counter() - started)
            return 1000 * min(times)

        with torch.no_grad():
            int8_ms = best(lambda: index.candidates(key, k))
            fp32_ms = best(lambda: (self.vectors @ key).topk(k))
        method = "int8 index" if int8_ms < fp32_ms else "fp32 scan"
        timing = {"int8_ms": round(int8_ms, 3), "fp32_ms": round(fp32_ms, 3), "rows": self._n, "k": k}
        return {"method": method, "reason": "the faster on this CPU, timed on this memory"} | timing


def append_rows(buffer: torch.Tensor, n: int, rows: torch.Tensor) -> torch.Tensor:
    """`rows` written after the first `n` rows of `buffer`, which grows by a quarter when full."""
    need = n + int(rows.shape[0])
    if need > buffer.shape[0]:
        grown = buffer.new_empty((max(need, n + n // 4 + 256), *buffer.shape[1:]))
        grown[:n] = buffer[:n]
        buffer = grown
    buffer[n:need] = rows
    return buffer
