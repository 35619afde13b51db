"""Each editor's gain over the original model, per language: Reliability (en), CLG per language, CLG avg.

The gain of a run is edited minus original on the same rows (its own rows.parquet: the original model
is scored on every edit row before any edit, each folder's edited model on its rows), in points, with
a paired 95 % bootstrap interval over rows and a two-sided p-value
(`harness.report.bootstrap.paired_bootstrap`, the run's own bootstrap resamples and seed). Pairing
rows removes the rows' shared difficulty, so the interval of a gain is narrower than the two
accuracies' intervals would suggest: read gains here, not by subtracting table cells.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.report.plots import (
    MISSING_NOTE,
    add_notes,
    grouped_bars,
    legend_outside,
    pyplot,
    save_figure,
    title_of,
)

GAIN_NOTE = (
    "Bars: edited minus original model on the same rows, in points; error bars: paired 95 % bootstrap "
    "intervals over rows (gains.csv has p-values)."
)


@dataclass
class Gain:
    """One run's gains: key -> delta (fraction), its paired interval, p-value, rows."""

    name: str  # the run's leaderboard row
    run: str  # run folder name
    group: str
    values: dict[str, float | None] = field(default_factory=dict)
    ci: dict[str, tuple[float, float]] = field(default_factory=dict)
    p_value: dict[str, float] = field(default_factory=dict)
    n_rows: dict[str, int] = field(default_factory=dict)
    paper: bool = False  # (plots.RowLike)


def gain_keys(langs: Sequence[str]) -> list[str]:
    return ["reliability", *(f"clg_{lang}" for lang in langs), "clg_avg"]


def run_gain(path: Path, data: dict[str, Any], name: str, group: str) -> Gain:
    """The gains of one run over its own original model (every key it has both records of)."""
    from harness.report.bootstrap import paired_bootstrap
    from harness.report.compare import load_rows
    from harness.report.scoring import metric_keys, row_scores

    records = load_rows(path)
    langs = data["dataset"].get("langs", [])
    boot = data.get("bootstrap", {})
    gain = Gain(name, path.name, group)
    for key in gain_keys(langs):
        if key not in data["metrics"] or key not in data.get("original", {}):
            continue
        keys = metric_keys(key, langs)
        before, after = row_scores(records, "original", keys), row_scores(records, "edited", keys)
        ids = sorted(set(before) & set(after))
        if not ids:
            continue
        test = paired_bootstrap(
            [after[i] for i in ids],
            [before[i] for i in ids],
            n_resamples=int(boot.get("n_resamples", 1000)),
            seed=int(boot.get("seed", 0)),
        )
        gain.values[key], gain.ci[key] = test.delta, (test.low, test.high)
        gain.p_value[key], gain.n_rows[key] = test.p_value, test.n_rows
    return gain


def board_gains(board: Any) -> list[Gain]:
    """The gains of every run row of a leaderboard (harness.report.leaderboard.Board), in table order."""
    out = []
    for row in board.table_rows:
        if row.run is not None:
            path, data = board.runs[row.run]
            out.append(run_gain(path, data, row.name, row.group))
    return out


def render_gains_csv(gains: Sequence[Gain]) -> str:
    """gains.csv: one line per run and key, in points."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["model", "run", "group", "metric", "gain", "ci_low", "ci_high", "p_value", "n_rows"])
    for gain in gains:
        for key, delta in gain.values.items():
            low, high = gain.ci[key]
            points = [f"{100 * x:.2f}" for x in (delta, low, high)]
            writer.writerow(
                [gain.name, gain.run, gain.group, key, *points, f"{gain.p_value[key]:.4g}", gain.n_rows[key]]
            )
    return buf.getvalue()


def gain_figure(
    gains: Sequence[Gain], langs: Sequence[str], *, stand_in: Sequence[str] = (), mixed: str | None = None
) -> Any:
    """Grouped bars of each run's gain per language (Reliability en, CLG per language, avg)."""
    plt = pyplot()
    keys = gain_keys(langs)
    slots = ["Reliability (en)", *langs, "CLG avg"]
    fig, ax = plt.subplots(figsize=(1.8 + 1.2 * len(slots), 3.6))
    missing = grouped_bars(ax, gains, keys, scale=100)
    ax.axhline(0, color="0.2", linewidth=0.8)
    ax.set_xticks(range(len(slots)), slots)
    ax.set_ylabel("gain over the original model (points)")
    ax.set_title(title_of("Gain of each editor over the original model", mixed))
    if gains:
        legend_outside(ax)
    notes = [GAIN_NOTE]
    notes += [MISSING_NOTE] if missing else []
    add_notes(fig, notes, stand_in=stand_in, mixed=mixed)
    return fig


def gain_chart(
    gains: Sequence[Gain],
    langs: Sequence[str],
    base: str | Path,
    *,
    stand_in: Sequence[str] = (),
    mixed: str | None = None,
) -> dict[str, Path]:
    """`gain_figure` written as `base`.png and `base`.pdf."""
    return save_figure(gain_figure(gains, langs, stand_in=stand_in, mixed=mixed), base)
