"""Charts: intervals drawn, missing values left empty and explained, vector output, stand-in note."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from matplotlib.container import BarContainer, ErrorbarContainer

from harness.report.leaderboard import collect
from harness.report.plots import MISSING, MISSING_NOTE, clg_chart, clg_figure
from harness.report.standin import STAND_IN_TITLE


@dataclass
class Row:
    name: str
    values: dict
    ci: dict = field(default_factory=dict)
    paper: bool = False


ROWS = [
    Row("Original model", {"clg_de": 0.5, "clg_fr": 0.25, "clg_avg": 0.375},
        {"clg_de": (0.4, 0.6), "clg_fr": (0.2, 0.3), "clg_avg": (0.3, 0.45)}),
    Row("two-language run", {"clg_de": 0.75, "clg_avg": 0.75}, {"clg_de": (0.7, 0.8), "clg_avg": (0.7, 0.8)}),
]  # fmt: skip


def texts(fig) -> list[str]:
    return [t.get_text() for t in fig.texts] + [t.get_text() for ax in fig.axes for t in ax.texts]


def test_clg_chart_draws_intervals_and_leaves_missing_values_empty():
    fig = clg_figure(ROWS, ["de", "fr"])
    ax = fig.axes[0]
    heights = [p.get_height() for c in ax.containers if isinstance(c, BarContainer) for p in c]
    assert sorted(heights) == [25.0, 37.5, 50.0, 75.0, 75.0]  # no 0 % bar for the missing fr value
    bars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert len(bars) == 2  # one set of error bars per row
    segments = bars[0].lines[2][0].get_segments()  # Original model: de, fr, avg
    assert [(round(s[0][1], 6), round(s[1][1], 6)) for s in segments] == [(40, 60), (20, 30), (30, 45)]
    assert texts(fig).count(MISSING) == 1 and MISSING_NOTE in texts(fig)
    assert not any(STAND_IN_TITLE in t for t in texts(fig))


def test_charts_are_written_as_png_and_pdf_with_the_same_bytes_each_time(tmp_path):
    first = clg_chart(ROWS, ["de", "fr"], tmp_path / "a" / "clg")
    second = clg_chart(ROWS, ["de", "fr"], tmp_path / "b" / "clg")
    assert first["png"].read_bytes()[:4] == b"\x89PNG" and first["pdf"].read_bytes()[:5] == b"%PDF-"
    assert all(first[f].read_bytes() == second[f].read_bytes() for f in ("png", "pdf"))


def test_runs_on_stand_ins_say_so_in_results_and_on_every_chart(report_runs, report_board):
    data = json.loads((report_runs["none"] / "results.json").read_text())
    assert "stand-in" in data["stand_in"]["model"]  # fine-tuned from harness.model.tiny's BERT
    assert data["stand_in"]["dataset"].endswith("for de, fr, es")  # the fixture's pseudo-translations
    board = collect(list(report_runs.values()))
    assert len(board.stand_in) == 2
    fig = clg_figure(board.table_rows, board.langs, stand_in=board.stand_in)
    assert any(t.startswith(STAND_IN_TITLE) for t in texts(fig))
    md = report_board["md"].read_text()
    assert report_board["pdf"].is_file() and md.startswith("| Models/Methods |")
    assert "\n> **STAND-IN MODELS: these numbers measure nothing real** (model: fine-tuned from" in md


def test_sentence_length_histogram_labels_its_y_axis():
    from xfever.stats import histogram_figure

    fig = histogram_figure({"en": ["a b c", "a b"], "zh": ["你好世界"]})
    assert [ax.get_ylabel() for ax in fig.axes[:2]] == ["sentences", "sentences"]
