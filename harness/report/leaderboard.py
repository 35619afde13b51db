"""`leaderboard(run_dirs, out)`: the paper's Tables 1-3 from finished runs (markdown + CSV + charts).

Only comparable runs share a table: runs are grouped by what they scored (`harness.report.comparable`:
model, dataset, rows, languages, settings, the original model's metrics), and runs of several groups
are refused with the differences named, unless `allow_mixed`, which renders one table marked as mixed
in every output, one original-model row per group, rows tagged with their group, nothing in bold.

Rows: the original model (of its group), then one row per run; columns from `harness.report.metrics`
in the paper's order (Patch Num., Reliability, MLG, CLG per language, Avg., Locality train / test, or
XNLI's single Locality), then what the paper leaves out when runs have it: the seen / held-out CLG
averages of MPN trained on some languages, and CLG on translated rephrases. Values in percent with
the half-width of their 95 % bootstrap interval (exact bounds in the CSV), ↑ on higher-is-better
columns, the best of our values in bold. `compare_paper=True` adds the paper's rows, marked.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common.errors import ToolkitError
from harness.report.comparable import (
    LABELS,
    Group,
    RunIdentity,
    describe_differences,
    differences,
    group_runs,
    identity,
)
from harness.report.metrics import Metric, table_columns
from harness.report.results import SCHEMA_VERSION, load_result, provenance, write_text
from harness.report.standin import stand_in_notes

ORIGINAL = "Original model"
SEEN, HELD_OUT = "seen", "held-out"


@dataclass
class Row:
    name: str
    values: dict[str, float | None]
    ci: dict[str, tuple[float, float]] = field(default_factory=dict)
    paper: bool = False  # a row of the paper's table, not one of our runs
    editor: str | None = None  # "none" for the original model's row
    group: str = "A"  # the comparable group (harness.report.comparable) the row belongs to
    run: int | None = None  # index of the run in Board.runs; None for original-model and paper rows


@dataclass
class Board:
    langs: list[str]
    columns: list[tuple[str, Metric]]
    table_rows: list[Row]
    sources: list[dict[str, Any]]
    lang_marks: dict[str, str] = field(default_factory=dict)  # lang -> seen | held-out
    notes: list[str] = field(default_factory=list)
    paper_table: int | None = None
    groups: list[Group] = field(default_factory=list)
    identities: list[RunIdentity] = field(default_factory=list)
    differing: list[str] = field(default_factory=list)  # identity fields that differ between groups
    stand_in: list[str] = field(default_factory=list)  # runs' stand-in notes (harness.report.standin)
    runs: list[tuple[Path, dict[str, Any]]] = field(default_factory=list, repr=False)  # folder, results

    @property
    def mixed(self) -> bool:
        """Runs of more than one comparable group in one table (only with allow_mixed)."""
        return len(self.groups) > 1

    @property
    def rows(self) -> list[tuple[str, dict[str, float | None]]]:
        """(name, key -> value) of every row (for plots)."""
        return [(row.name, row.values) for row in self.table_rows]


def collect(
    run_dirs: Sequence[str | Path],
    *,
    compare_paper: bool = False,
    table: int | None = None,
    allow_mixed: bool = False,
) -> Board:
    """The table of `run_dirs`; a ToolkitError naming the differences when they are not comparable."""
    if not run_dirs:
        raise ToolkitError("leaderboard: no run folders given")
    runs = [(Path(d), load_result(d)) for d in run_dirs]
    identities = [identity(path, data) for path, data in runs]
    groups = group_runs(identities)
    if len(groups) > 1 and not allow_mixed:
        raise ToolkitError(_not_comparable(groups, identities))
    langs: list[str] = []
    for _, data in runs:
        langs += [lang for lang in data["dataset"].get("langs", []) if lang not in langs]
    names = [data["editor"]["name"] for _, data in runs]
    mixed = len(groups) > 1
    rows: list[Row] = []
    for group in groups:
        tag = f" [{group.tag}]" if mixed else ""
        rows.append(_row(ORIGINAL + tag, _original(runs, group), "none", group.tag))
        for i in group.runs:
            path, data = runs[i]
            label = names[i] if names.count(names[i]) == 1 else f"{names[i]} ({path.name})"
            rows.append(_row(label + tag, data["metrics"], names[i], group.tag, run=i))
    tags = {i: g.tag for g in groups for i in g.runs}
    sources = [_source(path, data, identities[i], tags[i], mixed) for i, (path, data) in enumerate(runs)]
    board = Board(langs, [], rows, sources, groups=groups, identities=identities, runs=runs)
    board.differing = differences(groups) if mixed else []
    board.stand_in = stand_in_notes([data for _, data in runs])
    _mark_languages(board, runs)
    if compare_paper:
        _add_paper_rows(board, runs, table)
    ours = [row for row in board.table_rows if not row.paper]
    board.columns = [
        (k, m) for k, m in table_columns(langs) if any(r.values.get(k) is not None for r in ours)
    ]
    return board


def _original(runs: list[tuple[Path, dict[str, Any]]], group: Group) -> dict[str, Any]:
    """The original model's metrics of a group: they agree between its runs (the identity says so),
    and the runs' own extras are merged (seen / held-out averages of the MPN runs' train_langs)."""
    merged: dict[str, Any] = {}
    for i in group.runs:
        for key, entry in runs[i][1]["original"].items():
            merged.setdefault(key, entry)
    return merged


def _not_comparable(groups: list[Group], identities: list[RunIdentity]) -> str:
    listed = "; ".join(f"{g.tag}: {', '.join(identities[i].run for i in g.runs)}" for g in groups)
    only_original = differences(groups) == ["original"]
    why = (
        "the runs agree on model, data, rows and settings but their original-model metrics differ "
        "(other device, or cached vs full path on a GPU?)"
        if only_original
        else "the runs did not score the same things, so their numbers are not comparable"
    )
    return (
        f"leaderboard: {why}:\n{describe_differences(groups, identities)}\n"
        f"Groups of comparable runs: {listed}. Make one leaderboard per group, or pass --allow-mixed "
        "to render one table marked as mixed."
    )


def _subset(data: dict[str, Any]) -> str | None:
    subset = data["dataset"].get("subset")
    return subset.get("name") if isinstance(subset, dict) else subset


def _row(name: str, metrics: dict[str, Any], editor: str, group: str, run: int | None = None) -> Row:
    values = {key: entry.get("value") for key, entry in metrics.items()}
    ci = {key: tuple(entry["ci"]) for key, entry in metrics.items() if entry.get("ci")}
    return Row(name, values, ci, editor=editor, group=group, run=run)


def _mark_languages(board: Board, runs: list[tuple[Path, dict[str, Any]]]) -> None:
    """Seen / held-out marks on CLG columns from the runs' MPN `train_langs`."""
    chosen = {
        (path.name, tuple(tl))
        for path, data in runs
        if (tl := data["editor"].get("settings", {}).get("train_langs"))
    }
    sets = {langs for _, langs in chosen}
    if len(sets) == 1:
        seen = next(iter(sets))
        board.lang_marks = {lang: SEEN if lang in seen else HELD_OUT for lang in board.langs}
        board.notes.append(
            f"MPN trained on {', '.join(seen)} only (train_langs): CLG columns marked seen / held-out."
        )
    elif sets:
        listed = "; ".join(f"{run}: {', '.join(langs)}" for run, langs in sorted(chosen))
        board.notes.append(f"Runs differ in train_langs ({listed}): see each run's Avg. seen / held-out.")


def _add_paper_rows(board: Board, runs, table: int | None) -> None:
    """The paper's rows, each right after our first row of the same editor (the rest at the end)."""
    from harness.report.paper import paper_table_info, table_for

    data = runs[0][1]
    info = paper_table_info(table) if table else table_for(data["dataset"].get("name", ""), _subset(data))
    if info is None:
        raise ToolkitError(
            f"--compare-paper: the paper has no table for dataset {data['dataset'].get('name')!r} "
            f"subset {_subset(data)!r} (use --table 1|2|3)"
        )
    board.paper_table = info.number
    board.notes.append(f"Rows marked (paper): the paper's Table {info.number} ({info.title}), as printed.")
    if set(info.langs) != set(board.langs):
        board.notes.append(
            f"The paper's CLG Avg. is over {', '.join(info.langs)}; ours over {', '.join(board.langs)}."
        )
    for prow in info.rows:
        values = {k: (v if k == "patch_num" else v / 100) for k, v in prow.values.items()}
        row = Row(prow.label, values, paper=True, editor=prow.editor)
        matches = [i for i, r in enumerate(board.table_rows) if not r.paper and r.editor == prow.editor]
        position = matches[0] + 1 if matches else len(board.table_rows)
        while position < len(board.table_rows) and board.table_rows[position].paper:
            position += 1
        board.table_rows.insert(position, row)


def _source(path: Path, data: dict[str, Any], ident: RunIdentity, tag: str, mixed: bool) -> dict[str, Any]:
    """One line of the sources table: what the run scored and how (every run, every table)."""
    source = {"run": path.name} | ({"group": tag} if mixed else {})
    return source | {
        "editor": data["editor"]["name"],
        "status": data.get("status"),
        "edit rows": ident.keys["edit_rows"][0],
        "languages": ident.shown["langs"],
        "folders": data.get("folders"),
        "seed": data.get("seed"),
        "path": data.get("path"),
        "dropout": data.get("dropout"),
        "subset": _subset(data) or "–",
        "model": f"{data['model'].get('id')}@{data['model'].get('revision')}",
        "dataset": f"{data['dataset'].get('id')}@{data['dataset'].get('revision')}",
        "git_sha": data.get("provenance", {}).get("git_sha"),
    }


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


def _text(row: Row, key: str, metric: Metric, best: float | None) -> str:
    value = row.values.get(key)
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
            f"> **STAND-IN MODELS: these numbers measure nothing real** ({'; '.join(board.stand_in)}).",
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
    from harness.report.comparable import FIELDS

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
    import json

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


def leaderboard(
    run_dirs: Sequence[str | Path],
    out_dir: str | Path,
    *,
    compare_paper: bool = False,
    table: int | None = None,
    allow_mixed: bool = False,
) -> dict[str, Path]:
    """Write leaderboard.md, .csv, .json, gains.csv and the charts (PNG and PDF) into `out_dir`."""
    from harness.report.gains import board_gains, gain_chart, render_gains_csv
    from harness.report.plots import clg_chart

    board = collect(run_dirs, compare_paper=compare_paper, table=table, allow_mixed=allow_mixed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    gains = board_gains(board)
    paths = {
        "md": out / "leaderboard.md",
        "csv": out / "leaderboard.csv",
        "json": out / "leaderboard.json",
        "gains_csv": out / "gains.csv",
    }
    write_text(paths["md"], render_markdown(board))
    write_text(paths["csv"], render_csv(board))
    write_text(paths["json"], render_json(board))
    write_text(paths["gains_csv"], render_gains_csv(gains))
    mixed = mixed_banner(board) if board.mixed else None
    charts = clg_chart(
        board.table_rows, board.langs, out / "clg_by_language", stand_in=board.stand_in, mixed=mixed
    )
    paths |= {"png": charts["png"], "pdf": charts["pdf"]}
    charts = gain_chart(gains, board.langs, out / "gain_by_language", stand_in=board.stand_in, mixed=mixed)
    paths |= {"gain_png": charts["png"], "gain_pdf": charts["pdf"]}
    return paths
