"""`leaderboard(run_dirs, out)`: the paper's Tables 1-3 from finished runs (markdown + CSV + CLG chart).

Rows: the original model (from the first run), then one row per run; columns from `harness.report.metrics`
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

from common.errors import ToolkitError, UsageError
from common.io import write_text_atomic
from harness.report.metrics import Metric, table_columns
from harness.report.results import load_result

ORIGINAL = "Original model"
SEEN, HELD_OUT = "seen", "held-out"


@dataclass
class Row:
    name: str
    values: dict[str, float | None]
    ci: dict[str, tuple[float, float]] = field(default_factory=dict)
    paper: bool = False  # a row of the paper's table, not one of our runs


@dataclass
class Board:
    langs: list[str]
    columns: list[tuple[str, Metric]]
    table_rows: list[Row]
    sources: list[dict[str, Any]]
    lang_marks: dict[str, str] = field(default_factory=dict)  # lang -> seen | held-out
    notes: list[str] = field(default_factory=list)
    paper_table: int | None = None

    @property
    def rows(self) -> list[tuple[str, dict[str, float | None]]]:
        """(name, key -> value) of every row (for plots)."""
        return [(row.name, row.values) for row in self.table_rows]


def collect(
    run_dirs: Sequence[str | Path], *, compare_paper: bool = False, table: int | None = None
) -> Board:
    if not run_dirs:
        raise ToolkitError("leaderboard: no run folders given")
    runs = [(Path(d), load_result(d)) for d in run_dirs]
    langs: list[str] = []
    for _, data in runs:
        langs += [lang for lang in data["dataset"].get("langs", []) if lang not in langs]
    models = {(d["model"].get("id"), d["dataset"].get("id"), _subset(d)) for _, d in runs}
    if len(models) > 1:
        raise ToolkitError(
            f"leaderboard: runs use different models / datasets / subsets {sorted(map(str, models))}"
        )
    names = [data["editor"]["name"] for _, data in runs]
    rows = [_row(ORIGINAL, runs[0][1]["original"])]
    for (path, data), name in zip(runs, names, strict=True):
        label = name if names.count(name) == 1 else f"{name} ({path.name})"
        rows.append(_row(label, data["metrics"]))
    board = Board(langs, [], rows, [_source(path, data) for path, data in runs])
    _mark_languages(board, runs)
    if compare_paper:
        _add_paper_rows(board, runs, names, table)
    ours = [row for row in board.table_rows if not row.paper]
    board.columns = [
        (k, m) for k, m in table_columns(langs) if any(r.values.get(k) is not None for r in ours)
    ]
    return board


def _subset(data: dict[str, Any]) -> str | None:
    subset = data["dataset"].get("subset")
    return subset.get("name") if isinstance(subset, dict) else subset


def _row(name: str, metrics: dict[str, Any]) -> Row:
    values = {key: entry.get("value") for key, entry in metrics.items()}
    ci = {key: tuple(entry["ci"]) for key, entry in metrics.items() if entry.get("ci")}
    return Row(name, values, ci)


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


def _add_paper_rows(board: Board, runs, names: list[str], table: int | None) -> None:
    """The paper's rows, each right after our row of the same editor (the rest at the end)."""
    from harness.report.paper import paper_table_info, table_for

    data = runs[0][1]
    info = paper_table_info(table) if table else table_for(data["dataset"].get("name", ""), _subset(data))
    if info is None:
        raise UsageError(
            f"--compare-paper: the paper has no table for dataset {data['dataset'].get('name')!r} "
            f"subset {_subset(data)!r} (use --table 1|2|3)"
        )
    board.paper_table = info.number
    board.notes.append(f"Rows marked (paper): the paper's Table {info.number} ({info.title}), as printed.")
    if set(info.langs) != set(board.langs):
        board.notes.append(
            f"The paper's CLG Avg. is over {', '.join(info.langs)}; ours over {', '.join(board.langs)}."
        )
    ours = ["none"] + names
    for prow in info.rows:
        values = {k: (v if k == "patch_num" else v / 100) for k, v in prow.values.items()}
        row = Row(prow.label, values, paper=True)
        where = [i for i, row_ in enumerate(board.table_rows) if not row_.paper]
        matches = [i for i, editor in zip(where, ours, strict=False) if editor == prow.editor]
        position = matches[0] + 1 if matches else len(board.table_rows)
        while position < len(board.table_rows) and board.table_rows[position].paper:
            position += 1
        board.table_rows.insert(position, row)


def _source(path: Path, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "run": path.name,
        "editor": data["editor"]["name"],
        "status": data.get("status"),
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
    values = [v for row in board.table_rows if not row.paper and (v := row.values.get(key)) is not None]
    if not values or metric.higher_is_better is None:
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


def render_markdown(board: Board) -> str:
    heads = ["Models/Methods"] + [header(k, m, board.lang_marks) for k, m in board.columns]
    lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    best = {k: _best(board, k, m) for k, m in board.columns}
    for row in board.table_rows:
        name = f"*{row.name}*" if row.paper else row.name
        cells = [name] + [_text(row, key, metric, best[key]) for key, metric in board.columns]
        lines.append("| " + " | ".join(cells) + " |")
    notes = [
        "",
        "CLG columns are languages; values are accuracies in percent; ±: half-width of the 95 % "
        "bootstrap interval over rows (bounds in leaderboard.csv); ↑: higher is better; our best in bold.",
    ]
    notes += board.notes + [""]
    heads = list(board.sources[0]) if board.sources else []
    notes += ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    notes += ["| " + " | ".join(str(s[k]) for k in s) + " |" for s in board.sources]
    return "\n".join(lines + notes) + "\n"


def render_csv(board: Board) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    head = ["model", "source"]
    for key, _ in board.columns:
        head += [key, f"{key}_ci_low", f"{key}_ci_high"]
    writer.writerow(head)
    for row in board.table_rows:
        cells = [row.name, "paper" if row.paper else "ours"]
        for key, metric in board.columns:
            value, ci = row.values.get(key), row.ci.get(key)
            cells.append("" if value is None else _cell(value, metric))
            cells += [_cell(ci[0], metric), _cell(ci[1], metric)] if ci else ["", ""]
        writer.writerow(cells)
    return buf.getvalue()


def leaderboard(
    run_dirs: Sequence[str | Path],
    out_dir: str | Path,
    *,
    compare_paper: bool = False,
    table: int | None = None,
) -> dict[str, Path]:
    """Write leaderboard.md, leaderboard.csv and clg_by_language.png into `out_dir`."""
    from harness.report.plots import clg_chart

    board = collect(run_dirs, compare_paper=compare_paper, table=table)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"md": out / "leaderboard.md", "csv": out / "leaderboard.csv", "png": out / "clg_by_language.png"}
    write_text_atomic(paths["md"], render_markdown(board))
    write_text_atomic(paths["csv"], render_csv(board))
    clg_chart(board.rows, board.langs, paths["png"])
    return paths
