"""The leaderboard as markdown, CSV and JSON (harness.report.leaderboard.Board in, text out).

Markdown: the table first (line 1 is its header), values in percent with the half-width of their 95 %
bootstrap interval, ↑ / ↓ on directed columns, our best in bold (none in a mixed table); right under
the table the warnings a reader must see before citing it (stand-in models, a mixed table), then the
legend, what all runs scored (or the groups), and the sources of every run. CSV: one line per row with
exact interval bounds and the row's group. JSON: groups, mixed mark, stand-in notes, sources.
"""

from __future__ import annotations

import csv
import io
import json
from typing import TYPE_CHECKING, Any

from common.provenance import provenance
from harness.report.comparable import FIELDS, LABELS
from harness.report.metrics import Metric
from harness.report.results import SCHEMA_VERSION
from harness.report.standin import stand_in_title

if TYPE_CHECKING:
    from harness.report.leaderboard import Board, Row


def _cell(value: float | None, metric: Metric) -> str:
    if value is None:
        return "–"
    return f"{value * 100:.2f}" if metric.percent else f"{int(value)}"


def _best(board: Board, key: str, metric: Metric) -> float | None:
    """The best of our values in a column; none in a mixed table (its groups are not comparable)."""
    values = [v for row in board.table_rows if not row.paper and (v := row.values.get(key)) is not None]
    if not values or metric.higher_is_better is None or board.mixed:
        return None
    return max(values) if metric.higher_is_better else min(values)


def header(key: str, metric: Metric, lang_marks: dict[str, str] | None = None) -> str:
    """Column title: a language (marked seen / held-out, or `reph.` for rephrases) or the metric."""
    lang = key.removeprefix(metric.key + "_") if metric.per_language else None
    arrow = {True: " ↑", False: " ↓", None: ""}[metric.higher_is_better]
    if not lang:
        return metric.display + arrow
    mark = (lang_marks or {}).get(lang)
    title = f"{lang} reph." if metric.key == "clg_rephrase" else lang
    return title + (f" ({mark})" if mark and metric.key == "clg" else "") + arrow


def edit_success_text(value: float | None, attempted: int | None) -> str:
    """`succeeded/attempted (percent)`, e.g. `5/6 (83.3 %)`; `–` without a value."""
    if value is None:
        return "–"
    if not attempted:
        return f"{value * 100:.1f} %"
    return f"{round(value * attempted)}/{attempted} ({value * 100:.1f} %)"


def _text(row: Row, key: str, metric: Metric, best: float | None) -> str:
    value = row.values.get(key)
    if key == "edit_success":  # edit-time success: a count of edits, no interval in the table
        return edit_success_text(value, row.counts.get(key))
    text = _cell(value, metric)
    if best is not None and value is not None and not row.paper and abs(value - best) < 1e-12:
        text = f"**{text}**"
    if key in row.ci and metric.percent:
        low, high = row.ci[key]
        text += f" ±{(high - low) * 50:.1f}"
    return text


def mixed_banner(board: Board) -> str:
    """The visible mark of a mixed table (markdown, plots)."""
    differing = ", ".join(LABELS[f] for f in board.differing)
    return f"MIXED TABLE, NOT COMPARABLE ACROSS GROUPS: the runs differ in {differing}"


def render_markdown(board: Board) -> str:
    heads = ["Models/Methods"] + [header(k, m, board.lang_marks) for k, m in board.columns]
    # The table comes first (line 1 is its header: scripts read it so); the warnings right under it.
    lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    best = {k: _best(board, k, m) for k, m in board.columns}
    for row in board.table_rows:
        name = f"*{row.name}*" if row.paper else row.name
        cells = [name] + [_text(row, key, metric, best[key]) for key, metric in board.columns]
        lines.append("| " + " | ".join(cells) + " |")
    legend = (
        "CLG columns are languages; values are accuracies in percent; ±: half-width of the 95 % "
        "bootstrap interval over rows (bounds in leaderboard.csv); ↑: higher is better"
    )
    if any(key == "edit_success" for key, _ in board.columns):
        legend += (
            "; Edit success: edits predicted correctly just after their edit / edits attempted (edit time, "
            "beside Reliability, which scores the final model)"
        )
    notes = [""] + _warnings(board) + [legend + ("." if board.mixed else "; our best in bold.")]
    notes += [
        "Each editor's gain over its original model per language, with paired intervals: "
        "gain_by_language.png / .pdf and gains.csv."
    ]
    notes += board.notes + [""] + _scored_lines(board) + [""]
    notes += _table(board.sources)
    return "\n".join(lines + notes) + "\n"


def _warnings(board: Board) -> list[str]:
    """What a reader must know before citing the table: stand-in models, a mixed table."""
    lines = []
    if board.stand_in:
        lines += [
            f"> **{stand_in_title(board.stand_in)}** ({'; '.join(board.stand_in)}).",
            "",
        ]
    if board.mixed:
        lines += [
            f"> **{mixed_banner(board)}.** Rows are tagged with their group ([A], [B], ...: see Groups "
            "below); each group has its own original-model row; no value is marked best.",
            "",
        ]
    return lines


def _scored_lines(board: Board) -> list[str]:
    """What every run scored (one group), or a table of the groups and what sets them apart."""
    if not board.mixed:
        shown = board.groups[0].identity.shown
        parts = [f"{LABELS[f]} {shown[f]}" for f, _ in FIELDS if f != "original"]
        return ["All runs scored the same: " + "; ".join(parts) + "."]
    fields = board.differing
    heads = ["group", "runs", *(LABELS[f] for f in fields)]
    rows = [
        {"group": g.tag, "runs": ", ".join(board.identities[i].run for i in g.runs)}
        | {LABELS[f]: g.identity.shown[f] for f in fields}
        for g in board.groups
    ]
    return ["Groups:", "", *_table(rows, heads)]


def _table(rows: list[dict[str, Any]], heads: list[str] | None = None) -> list[str]:
    heads = heads or (list(rows[0]) if rows else [])
    out = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    return out + ["| " + " | ".join(str(r.get(k)) for k in heads) + " |" for r in rows]


def render_csv(board: Board) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    head = ["model", "source", "group"]
    for key, _ in board.columns:
        head += [key, f"{key}_ci_low", f"{key}_ci_high"]
    writer.writerow(head)
    for row in board.table_rows:
        group = "" if row.paper else row.group + (" (mixed)" if board.mixed else "")
        cells = [row.name, "paper" if row.paper else "ours", group]
        for key, metric in board.columns:
            value, ci = row.values.get(key), row.ci.get(key)
            cells.append("" if value is None else _cell(value, metric))
            cells += [_cell(ci[0], metric), _cell(ci[1], metric)] if ci else ["", ""]
        writer.writerow(cells)
    return buf.getvalue()


def render_json(board: Board) -> str:
    """leaderboard.json: what the table holds, machine-readable (groups, mixed mark, sources)."""
    body = {
        "schema_version": SCHEMA_VERSION,
        "mixed": board.mixed,
        "differing": [LABELS[f] for f in board.differing],
        "groups": [
            {"tag": g.tag, "runs": [board.identities[i].run for i in g.runs], "scored": g.identity.shown}
            for g in board.groups
        ],
        "stand_in": board.stand_in,
        "langs": board.langs,
        "paper_table": board.paper_table,
        "notes": board.notes,
        "sources": board.sources,
        "provenance": provenance(),
    }
    return json.dumps(body, indent=2, ensure_ascii=False, default=str) + "\n"
