"""The exact int8 search behind `Memory.top_rows` on large CPU memories (`Int8Index`).

The memory loss ranks the whole memory (40,000 rows in the reference) at every step; in fp32 that is
one pass over 123 MB at the paper's size. The index finds a superset of the top-k rows instead:

- rows are centred and scaled per dimension, `c_i = (m_i − μ) / d` (so `c_i · (d ⊙ key) = m_i · key −
  μ · key`, the same ranking), then quantised per row: `c_i ≈ s_i Q_i` with `Q_i` int8;
- the scaled key is quantised in two 7-bit levels, `d ⊙ key ≈ t1 q1 + t2 q2`, and one integer matrix
  product (exact int32 arithmetic: oneDNN's prepacked int8 matmul, or `torch._int_mm`) gives
  `approx_i = s_i (t1 Q_i·q1 + t2 Q_i·q2)`;
- `|m_i · key − μ · key − approx_i| ≤ ‖c_i‖ ‖d⊙key − k̂‖ + ‖c_i − s_i Q_i‖ ‖k̂‖ + margin_i` (Cauchy-
  Schwarz on the two rounding errors; `margin_i = 2 h u ‖m_i‖ ‖key‖` covers any fp32 evaluation of
  `m_i · key`, u = 2⁻²⁴, and a relative 1e-12 the float64 arithmetic of the search itself); the
  norms are precomputed per row in float64;
- `L` ≤ the k-th largest lower bound; every row whose upper bound reaches `L` is a candidate. A row
  left out lies strictly below k candidates in any fp32 evaluation, so it is in no top k;
- a second int8 matrix holds level 1's rounding residual, `c_i ≈ s_i Q_i + s2_i R_i`; it refines
  only the candidates of level 1 (a few percent of the rows), with the same bound on what is left,
  so about k rows remain for the fp32 recompute with gradient.

When the bound admits too many rows (more than `max(4k, n/8)`), the search falls back to the exact
fp32 scan, so the worst case costs the int8 pass more than before, never a wrong answer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.editors.memory import append_rows

if TYPE_CHECKING:
    import torch

UNIT_ROUNDOFF = 2.0**-24  # fp32
_QMAX = 127  # memory rows: int8
_KEY_QMAX = 63  # key levels: 7 bits, so u8 x s8 pair sums never saturate int16 (AVX2 int8 kernels)
_KEY_ZERO = 64  # the key as uint8 for oneDNN: q + 64 in [1, 127]
_CHUNK = 8192  # rows quantised at a time (float64 temporaries)


class Int8Index:
    """Two int8 levels of the centred, scaled memory and the per-row constants of the error bound.

    Level 1 (`q`, scale `s1`) ranks every row; level 2 (`r`, scale `s2`, the rounding residual of
    level 1) refines only level 1's candidates, so the exact fp32 recompute sees little more than k rows.
    """

    def __init__(self, rows: torch.Tensor) -> None:
        import torch

        h = int(rows.shape[1])
        ref = rows.double()
        self.mean = ref.mean(0)
        scale = ref.std(0) if rows.shape[0] > 1 else torch.ones(h, dtype=torch.float64)
        self.scale = torch.where(scale > 0, scale, torch.ones_like(scale))
        self.hidden = h
        self.q = torch.empty((0, h), dtype=torch.int8)
        self.r = torch.empty((0, h), dtype=torch.int8)
        # the norms of each level's bound: ‖c_i‖, ‖c_i − ĉ_i‖ (ĉ_i: the row as the level sees it), ‖m_i‖
        self.s1 = torch.empty(0, dtype=torch.float64)
        self.norms1 = torch.empty((0, 3), dtype=torch.float64)
        self.level2 = torch.empty((0, 4), dtype=torch.float64)  # s2 and level 2's norms: one gather
        self.n = 0
        self._products: _IntProducts | None = None
        self.extend(rows)
        self._products = _IntProducts(self.q[: self.n])  # packs the rows present now

    @staticmethod
    def supports(rows: torch.Tensor) -> bool:
        """fp32 CPU rows narrow enough that int8 dot products cannot overflow int32."""
        import torch

        if rows.device.type != "cpu" or rows.dtype != torch.float32 or rows.dim() != 2:
            return False  # on a GPU the fp32 scan is fast; the integer kernels are CPU ones
        return rows.shape[1] * _QMAX**2 < 2**31

    def extend(self, rows: torch.Tensor) -> None:
        for i in range(0, int(rows.shape[0]), _CHUNK):
            parts = self._quantise(rows[i : i + _CHUNK])
            n = self.n
            buffers = (self.q, self.r, self.s1, self.norms1, self.level2)
            self.q, self.r, self.s1, self.norms1, self.level2 = (
                append_rows(buf, n, part) for buf, part in zip(buffers, parts, strict=True)
            )
            self.n += int(parts[0].shape[0])

    def truncate(self, n: int) -> None:
        self.n = min(self.n, n)
        if self._products is not None:
            self._products.keep(self.n)  # rows written after this are new: not in the packed copy

    def _quantise(self, rows: torch.Tensor) -> tuple[torch.Tensor, ...]:
        import torch

        m = rows.detach().cpu().double()
        c = (m - self.mean) / self.scale
        q, s1 = _round_rows(c)
        rest = c - s1[:, None] * q
        r, s2 = _round_rows(rest)
        final = rest - s2[:, None] * r
        c_norm, m_norm = c.norm(dim=1), m.norm(dim=1)
        norms1 = torch.stack([c_norm, rest.norm(dim=1), m_norm], 1)
        level2 = torch.stack([s2, c_norm, final.norm(dim=1), m_norm], 1)
        return q.to(torch.int8), r.to(torch.int8), s1, norms1, level2

    def candidates(self, key: torch.Tensor, k: int) -> torch.Tensor | None:
        """A superset of the top-k rows for `key` (fp32), or None (all-zero or non-finite key: scan)."""
        import torch

        kd = key.detach().cpu().double()
        scaled = kd * self.scale
        found = _key_levels(scaled)
        if found is None:
            return None  # a zero key (every activation equals the bias) or a non-finite one
        levels, t, rest = found
        # |m·key − μ·key − approx| <= ‖c‖·(‖scaled − k̂‖ + ε‖scaled‖) + ‖c − ĉ‖·‖k̂‖ + 2hu·‖m‖·‖key‖,
        # ε = 1e-12 covering the float64 rounding of c, scaled and approx (about 1e-16 each)
        norms = torch.stack([kd, scaled, rest, scaled - rest]).norm(dim=1)
        key_norm, scaled_norm, rest_norm, k_hat_norm = norms
        margin = 2 * self.hidden * UNIT_ROUNDOFF * key_norm
        errors = torch.stack([rest_norm + 1e-12 * scaled_norm, k_hat_norm, margin])
        n = self.n
        approx = self._products(self.q[:n], levels).mv(t).mul_(self.s1[:n])
        rows = _within(approx, self.norms1[:n].mv(errors), k)
        level2 = self.level2.index_select(0, rows)  # s2, then the three norms of level 2's bound
        products = _IntProducts._int_mm(self.r.index_select(0, rows), levels)
        approx = approx.index_select(0, rows).addcmul_(level2[:, 0], products.mv(t))
        return rows[_within(approx, level2[:, 1:].mv(errors), k)].to(key.device)


def _round_rows(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-row symmetric int8 rounding: x ≈ s[:, None] * q, q in [-127, 127] (as float64)."""
    import torch

    s = x.abs().amax(1) / _QMAX
    s = torch.where(s > 0, s, torch.ones_like(s))
    return torch.round(x / s[:, None]).clamp_(-_QMAX, _QMAX), s


def _key_levels(scaled: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None:
    """The key in two 7-bit levels (2, h) of integers, their scales t, and `scaled − k̂` (k̂ = t1 q1 + t2 q2).

    None for a zero, infinite or NaN key: the caller leaves those to the fp32 scan.
    """
    import torch

    levels = torch.empty((2, scaled.shape[0]), dtype=torch.float64)
    scales, rest = [], scaled
    for level in levels:
        t = float(rest.abs().max()) / _KEY_QMAX
        if 0.0 < t < float("inf"):
            torch.div(rest, t, out=level).round_().clamp_(-_KEY_QMAX, _KEY_QMAX)
            rest = torch.add(rest, level, alpha=-t)
        elif not scales:
            return None
        else:  # level 1 was exact
            level.zero_()
            t = 0.0
        scales.append(t)
    return levels, torch.tensor(scales, dtype=torch.float64), rest


class _IntProducts:
    """Exact integer products `Q @ levels.T` for int8 rows Q and the key's integer levels.

    `torch._int_mm` (int32) serves any rows. For the rows present when the index is built (the
    40,000 base rows), a weight prepacked for oneDNN's int8 matmul (`torch.ops.onednn.qlinear_*`,
    the kernels of PyTorch's x86 quantisation) is about twice as fast; with unit scales it returns
    the int32 sums as float32, exact below 2**24 (|sum| <= h * 63 * 127). The packed path is used
    only if it is present and reproduces `_int_mm` exactly on a check at build time.
    """

    def __init__(self, q: torch.Tensor) -> None:
        self.packed = None
        self.rows = 0
        try:
            self._pack(q)
        except (AttributeError, RuntimeError, TypeError):
            self.packed, self.rows = None, 0

    def _pack(self, q: torch.Tensor) -> None:
        import torch

        n, h = int(q.shape[0]), int(q.shape[1])
        if n == 0 or h * _KEY_QMAX * _QMAX >= 2**24:
            return
        self.packed = torch.ops.onednn.qlinear_prepack(q, [2, h])
        self.rows = n
        self._ones = torch.ones(n)
        self._zeros = torch.zeros(n, dtype=torch.long)
        gen = torch.Generator().manual_seed(0)
        probe = torch.randint(-_KEY_QMAX, _KEY_QMAX + 1, (2, h), generator=gen).double()
        probe[0, : h // 2] = _KEY_QMAX  # extremes too
        probe[1, : h // 2] = -_KEY_QMAX
        if not torch.equal(self._packed(probe), self._int_mm(q, probe)):
            self.packed, self.rows = None, 0

    def _packed(self, levels: torch.Tensor) -> torch.Tensor:
        import torch

        xq = (levels + _KEY_ZERO).to(torch.uint8)
        unit = (self._ones, self._zeros, None, 1.0, 0, torch.float32, "none", [], "")  # scales 1, no bias
        out = torch.ops.onednn.qlinear_pointwise(xq, 1.0, _KEY_ZERO, self.packed, *unit)
        return out.t().double()

    @staticmethod
    def _int_mm(q: torch.Tensor, levels: torch.Tensor) -> torch.Tensor:
        import torch

        cols = torch.zeros((q.shape[1], 8), dtype=torch.int8)  # _int_mm wants a few columns
        cols[:, : levels.shape[0]] = levels.t().to(torch.int8)
        return torch._int_mm(q, cols)[:, : levels.shape[0]].double()

    def keep(self, n: int) -> None:
        """Only the first `n` packed rows are still the index's rows (the rest were truncated)."""
        self.rows = min(self.rows, n)

    def __call__(self, q: torch.Tensor, levels: torch.Tensor) -> torch.Tensor:
        """(n, 2) float64 integer sums for rows `q` (a leading slice of the indexed rows)."""
        import torch

        n = int(q.shape[0])
        if self.packed is None or self.rows == 0 or n == 0:
            return self._int_mm(q, levels)
        packed = self._packed(levels)[: min(n, self.rows)]
        if n <= self.rows:
            return packed
        return torch.cat([packed, self._int_mm(q[self.rows :], levels)])


def _within(approx: torch.Tensor, bound: torch.Tensor, k: int) -> torch.Tensor:
    """Rows whose upper bound reaches a threshold at or below the k-th largest lower bound.

    Such rows include every top-k row. The threshold is the k-th largest of the maxima of at least
    k disjoint blocks of lower bounds (k blocks each hold a lower bound that high, so it is at most
    the k-th largest); with blocks of ~n/4k rows this is a selection over 4k values instead of n.
    """
    import torch

    lower = approx - bound
    size = max(1, int(lower.shape[0]) // (4 * k))
    blocks = int(lower.shape[0]) // size  # >= 4k blocks when size > 1; a remainder is left out
    maxima = lower[: blocks * size].view(blocks, size).amax(1) if size > 1 else lower
    threshold = maxima.kthvalue(int(maxima.shape[0]) - k + 1).values  # the k-th largest
    return torch.nonzero(approx + bound >= threshold).squeeze(1)
