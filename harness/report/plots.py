"""Figures: CLG per language as grouped bars (one group per language, one bar per row)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from common.io import write_atomic


def clg_chart(
    rows: Sequence[tuple[str, dict[str, float | None]]], langs: Sequence[str], path: str | Path
) -> Path:
    """Grouped bar chart of `clg_<lang>` (and the average) per row; written atomically as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = list(langs) + ["avg"]
    width = 0.8 / max(len(rows), 1)
    fig, ax = plt.subplots(figsize=(1.6 + 1.2 * len(groups), 3.6))
    for i, (name, values) in enumerate(rows):
        heights = [100 * (values.get(f"clg_{g}") or 0.0) for g in groups]
        xs = [g + (i - (len(rows) - 1) / 2) * width for g in range(len(groups))]
        ax.bar(xs, heights, width=width, label=name)
    ax.set_xticks(range(len(groups)), groups)
    ax.set_ylabel("CLG accuracy (%)")
    ax.set_ylim(0, 100)
    ax.set_title("Cross-lingual generalisation by language")
    # Outside the axes: inside it covers the bars it explains.
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.tight_layout()
    try:
        return write_atomic(path, lambda tmp: fig.savefig(tmp, dpi=120, format="png"))
    finally:
        plt.close(fig)
