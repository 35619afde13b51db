"""Per-language gain of each editor over the original model, with paired intervals."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from matplotlib.container import BarContainer, ErrorbarContainer

from harness.report.gains import board_gains, gain_figure, gain_keys
from harness.report.leaderboard import collect


def test_gain_is_edited_minus_original_on_the_same_rows(report_runs):
    board = collect(list(report_runs.values()))
    gains = {g.run: g for g in board_gains(board)}
    assert list(gains) == ["none", "tpatcher", "mpn"]  # run rows only, in table order
    for run, gain in gains.items():
        data = json.loads((report_runs[run] / "results.json").read_text())
        assert list(gain.values) == gain_keys(["de", "fr", "es"])
        for key, delta in gain.values.items():
            assert delta == pytest.approx(data["metrics"][key]["value"] - data["original"][key]["value"])
            low, high = gain.ci[key]
            assert low <= high
            assert gain.n_rows[key] == 6
    assert set(gains["none"].values.values()) == {0.0} and set(gains["none"].ci.values()) == {(0.0, 0.0)}
    assert any(v != 0 for v in gains["tpatcher"].values.values())


def test_leaderboard_writes_the_gain_chart_and_table(report_runs, report_board):
    paths = report_board
    assert paths["gain_png"].read_bytes()[:4] == b"\x89PNG" and paths["gain_pdf"].read_bytes()[:5] == b"%PDF-"
    frame = pd.read_csv(paths["gains_csv"])
    assert len(frame) == 3 * 5 and set(frame.metric) == {
        "reliability",
        "clg_de",
        "clg_fr",
        "clg_es",
        "clg_avg",
    }
    assert (frame.ci_low <= frame.ci_high).all() and frame.p_value.between(0, 1).all()
    assert "gain_by_language.png" in paths["md"].read_text()
    board = collect(list(report_runs.values()))
    fig = gain_figure(board_gains(board), board.langs)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Reliability (en)", "de", "fr", "es", "CLG avg"]
    assert len([c for c in ax.containers if isinstance(c, BarContainer)]) == 3
    assert [c for c in ax.containers if isinstance(c, ErrorbarContainer)]  # the edited runs' intervals
