"""Figures of a leaderboard, each as PNG (screens) and PDF (vector, for papers: LaTeX includes it as is).

`clg_figure`: CLG per language as grouped bars (one group per language and the average, one bar per
row) with the 95 % bootstrap interval of every value as an error bar. A value a run does not have (a
language it did not score) gets no bar and an "n/a" mark, explained under the chart: never a 0 % bar.
Notes under a chart say what a reader must know before citing it: stand-in models or synthetic
translations (results.json `stand_in`), a mixed table (runs not comparable).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from common.io import write_atomic
from harness.report.standin import TESTBED_TITLE, stand_in_title

FORMATS = ("png", "pdf")
MISSING = "n/a"
MISSING_NOTE = "n/a: no value (the run did not score this language); no bar is drawn."


class RowLike(Protocol):
    """A leaderboard row (harness.report.leaderboard.Row)."""

    name: str
    values: dict[str, float | None]
    ci: dict[str, tuple[float, float]]
    paper: bool


def pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["pdf.fonttype"] = 42  # TrueType in the PDF: text stays text (journals ask for it)
    return plt


def clg_figure(
    rows: Sequence[RowLike],
    langs: Sequence[str],
    *,
    stand_in: Sequence[str] = (),
    mixed: str | None = None,
) -> Any:
    """Grouped bars of `clg_<lang>` and `clg_avg` per row, with interval error bars; a Figure."""
    plt = pyplot()
    groups = list(langs) + ["avg"]
    keys = [f"clg_{g}" for g in groups]
    fig, ax = plt.subplots(figsize=(1.6 + 1.2 * len(groups), 3.6))
    missing = grouped_bars(ax, rows, keys, scale=100)
    ax.set_xticks(range(len(groups)), groups)
    ax.set_xlabel("language (avg: the mean over languages)")
    ax.set_ylabel("CLG accuracy (%)")
    ax.set_ylim(0, 100)
    ax.set_title(title_of("Cross-lingual generalisation by language", mixed))
    legend_outside(ax)
    notes = ["Error bars: 95 % bootstrap intervals over rows."]
    notes += [MISSING_NOTE] if missing else []
    add_notes(fig, notes, stand_in=stand_in, mixed=mixed)
    return fig


def grouped_bars(ax: Any, rows: Sequence[RowLike], keys: Sequence[str], *, scale: float) -> int:
    """One bar per row at each key's slot, error bars from `row.ci`; "n/a" where a value is missing.
    Returns the number of missing values."""
    width = 0.8 / max(len(rows), 1)
    missing = 0
    for i, row in enumerate(rows):
        offset = (i - (len(rows) - 1) / 2) * width
        xs, heights, low, high = [], [], [], []
        for slot, key in enumerate(keys):
            value = row.values.get(key)
            if value is None:
                missing += 1
                ax.text(slot + offset, 1, MISSING, rotation=90, ha="center", va="bottom", fontsize=7,
                        color="0.4")  # fmt: skip
                continue
            xs.append(slot + offset)
            heights.append(scale * value)
            ci = row.ci.get(key)
            # a percentile interval can miss its estimate when rows are few: no negative bar length
            low.append(max(0.0, scale * (value - ci[0])) if ci else 0.0)
            high.append(max(0.0, scale * (ci[1] - value)) if ci else 0.0)
        yerr = [low, high] if any(low) or any(high) else None
        bars = ax.bar(xs, heights, width=width, label=row.name, hatch="//" if row.paper else None)
        if yerr is not None:
            ax.errorbar(xs, heights, yerr=yerr, fmt="none", ecolor="0.15", elinewidth=0.8, capsize=2)
        if not xs:  # keep the legend entry of a row with no value at all
            bars.set_label(row.name)
    return missing


def title_of(title: str, mixed: str | None) -> str:
    return f"MIXED, NOT COMPARABLE: {title}" if mixed else title


def legend_outside(ax: Any) -> None:
    # Outside the axes: inside it covers the bars it explains.
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)


def add_notes(
    fig: Any, notes: Sequence[str], *, stand_in: Sequence[str] = (), mixed: str | None = None
) -> None:
    """Footnotes under the axes (stand-in and mixed warnings first, in red), and a watermark on every
    axes of a stand-in figure, so that a crop without the footnotes still says it."""
    import textwrap

    fig.tight_layout()
    warnings = [f"{stand_in_title(stand_in)} ({'; '.join(stand_in)})."] if stand_in else []
    warnings += [f"{mixed}."] if mixed else []
    width = max(60, int(fig.get_figwidth() * 16))  # characters per line at 7 pt
    line = 7 * 1.35 / (72 * fig.get_figheight())  # one 7 pt line, in figure fractions
    y = -0.02
    for texts, color in ((warnings, "red"), (notes, "0.25")):
        for text in texts:
            wrapped = textwrap.fill(text, width)
            fig.text(0.01, y, wrapped, fontsize=7, color=color, ha="left", va="top",
                     weight="bold" if color == "red" else "normal")  # fmt: skip
            y -= line * (wrapped.count("\n") + 1.4)
    if stand_in:
        for ax in fig.axes:
            mark = "TESTBED" if stand_in_title(stand_in) == TESTBED_TITLE else "STAND-IN MODELS"
            ax.text(0.5, 0.5, mark, transform=ax.transAxes, fontsize=26, color="red",
                    alpha=0.15, rotation=20, ha="center", va="center", weight="bold")  # fmt: skip


def save_figure(fig: Any, base: str | Path) -> dict[str, Path]:
    """`base`.png and `base`.pdf, each written atomically; the same figure gives the same bytes."""
    plt = pyplot()
    base = Path(base)
    base.parent.mkdir(parents=True, exist_ok=True)
    paths = {}
    metadata = {"png": {"Software": None}, "pdf": {"CreationDate": None, "Producer": None}}
    try:
        for fmt in FORMATS:
            save = lambda tmp, fmt=fmt: fig.savefig(  # noqa: E731
                tmp, format=fmt, dpi=150, bbox_inches="tight", metadata=metadata[fmt]
            )
            paths[fmt] = write_atomic(base.with_name(f"{base.name}.{fmt}"), save)
    finally:
        plt.close(fig)
    return paths


def clg_chart(
    rows: Sequence[RowLike],
    langs: Sequence[str],
    base: str | Path,
    *,
    stand_in: Sequence[str] = (),
    mixed: str | None = None,
) -> dict[str, Path]:
    """`clg_figure` written as `base`.png and `base`.pdf."""
    return save_figure(clg_figure(rows, langs, stand_in=stand_in, mixed=mixed), base)
