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
columns, the best of our values in bold (rendered by `harness.report.tables`). `compare_paper=True`
adds the paper's rows, marked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common.errors import ToolkitError, UsageError
from common.io import write_text_atomic
from harness.report.comparable import (
    Group,
    RunIdentity,
    describe_differences,
    differences,
    group_runs,
    identity,
)
from harness.report.metrics import Metric, table_columns
from harness.report.results import load_result
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
    counts: dict[str, int] = field(default_factory=dict)  # rows behind a value (edit success: attempted)


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
        raise UsageError(_not_comparable(groups, identities))
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
    counts = {key: int(entry["n"]) for key, entry in metrics.items() if isinstance(entry.get("n"), int)}
    return Row(name, values, ci, editor=editor, group=group, run=run, counts=counts)


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
    from harness.report.tables import mixed_banner, render_csv, render_json, render_markdown

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
    write_text_atomic(paths["md"], render_markdown(board))
    write_text_atomic(paths["csv"], render_csv(board))
    write_text_atomic(paths["json"], render_json(board))
    write_text_atomic(paths["gains_csv"], render_gains_csv(gains))
    mixed = mixed_banner(board) if board.mixed else None
    charts = clg_chart(
        board.table_rows, board.langs, out / "clg_by_language", stand_in=board.stand_in, mixed=mixed
    )
    paths |= {"png": charts["png"], "pdf": charts["pdf"]}
    charts = gain_chart(gains, board.langs, out / "gain_by_language", stand_in=board.stand_in, mixed=mixed)
    paths |= {"gain_png": charts["png"], "gain_pdf": charts["pdf"]}
    return paths
