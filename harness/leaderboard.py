"""`leaderboard(run_dirs, out)`: the paper's Table 1 from finished runs (markdown + CSV + CLG chart).

Rows: the original model (from the first run), then one row per run; columns from `harness.metrics`
in Table 1 order (Patch Num., Reliability, MLG, CLG per language, Avg., Locality train / test), values
in percent, ↑ on higher-is-better columns, the best value of each such column in bold.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.metrics import Metric, table_columns
from harness.results import load_result, write_text
from xfever.errors import XfeverError

ORIGINAL = "Original model"


@dataclass
class Board:
    langs: list[str]
    columns: list[tuple[str, Metric]]
    rows: list[tuple[str, dict[str, float | None]]]  # (row name, key -> value)
    sources: list[dict[str, Any]]


def collect(run_dirs: Sequence[str | Path]) -> Board:
    if not run_dirs:
        raise XfeverError("leaderboard: no run folders given")
    runs = [(Path(d), load_result(d)) for d in run_dirs]
    langs: list[str] = []
    for _, data in runs:
        langs += [lang for lang in data["dataset"].get("langs", []) if lang not in langs]
    models = {(d["model"].get("id"), d["dataset"].get("id")) for _, d in runs}
    if len(models) > 1:
        raise XfeverError(f"leaderboard: runs use different models / datasets {sorted(map(str, models))}")
    names = [data["editor"]["name"] for _, data in runs]
    rows = [(ORIGINAL, _values(runs[0][1]["original"]))]
    for (path, data), name in zip(runs, names, strict=True):
        label = name if names.count(name) == 1 else f"{name} ({path.name})"
        rows.append((label, _values(data["metrics"])))
    sources = [_source(path, data) for path, data in runs]
    columns = [(k, m) for k, m in table_columns(langs) if any(vals.get(k) is not None for _, vals in rows)]
    return Board(langs, columns, rows, sources)


def _values(metrics: dict[str, Any]) -> dict[str, float | None]:
    return {key: entry.get("value") for key, entry in metrics.items()}


def _source(path: Path, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "run": path.name,
        "editor": data["editor"]["name"],
        "status": data.get("status"),
        "folders": data.get("folders"),
        "seed": data.get("seed"),
        "path": data.get("path"),
        "dropout": data.get("dropout"),
        "model": f"{data['model'].get('id')}@{data['model'].get('revision')}",
        "dataset": f"{data['dataset'].get('id')}@{data['dataset'].get('revision')}",
        "git_sha": data.get("provenance", {}).get("git_sha"),
    }


def _cell(value: float | None, metric: Metric) -> str:
    if value is None:
        return "–"
    return f"{value * 100:.2f}" if metric.percent else f"{int(value)}"


def _best(board: Board, key: str, metric: Metric) -> float | None:
    values = [v for _, vals in board.rows if (v := vals.get(key)) is not None]
    if not values or metric.higher_is_better is None:
        return None
    return max(values) if metric.higher_is_better else min(values)


def _header(key: str, metric: Metric, langs: list[str]) -> str:
    lang = key.removeprefix(metric.key + "_") if metric.per_language else None
    arrow = {True: " ↑", False: " ↓", None: ""}[metric.higher_is_better]
    return (lang if lang else metric.display) + arrow


def render_markdown(board: Board) -> str:
    heads = ["Models/Methods"] + [_header(k, m, board.langs) for k, m in board.columns]
    lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    best = {k: _best(board, k, m) for k, m in board.columns}
    for name, vals in board.rows:
        cells = [name]
        for key, metric in board.columns:
            text = _cell(vals.get(key), metric)
            if best[key] is not None and vals.get(key) is not None and abs(vals[key] - best[key]) < 1e-12:
                text = f"**{text}**"
            cells.append(text)
        lines.append("| " + " | ".join(cells) + " |")
    notes = [
        "",
        "CLG columns are languages; values are accuracies in percent; ↑: higher is better; best in bold.",
        "",
    ]
    notes += [
        "| run | editor | status | folders | seed | path | dropout | model | dataset | git |",
        "|" + "---|" * 10,
    ]
    notes += ["| " + " | ".join(str(s[k]) for k in s) + " |" for s in board.sources]
    return "\n".join(lines + notes) + "\n"


def render_csv(board: Board) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["model"] + [key for key, _ in board.columns])
    for name, vals in board.rows:
        writer.writerow([name] + ["" if vals.get(k) is None else _cell(vals[k], m) for k, m in board.columns])
    return buf.getvalue()


def leaderboard(run_dirs: Sequence[str | Path], out_dir: str | Path) -> dict[str, Path]:
    """Write leaderboard.md, leaderboard.csv and clg_by_language.png into `out_dir`."""
    from harness.plots import clg_chart

    board = collect(run_dirs)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"md": out / "leaderboard.md", "csv": out / "leaderboard.csv", "png": out / "clg_by_language.png"}
    write_text(paths["md"], render_markdown(board))
    write_text(paths["csv"], render_csv(board))
    clg_chart(board.rows, board.langs, paths["png"])
    return paths
