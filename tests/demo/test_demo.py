"""The offline demo: a fast small variant in-process, the full demo (CLI, HF_HUB_OFFLINE=1) opt-in."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys

import pytest

from common.errors import ToolkitError
from harness.demo import DEMO_EDITORS, DEMO_FILE, NOTE_FILE, STAND_IN_WARNING, run_demo


def _check_outputs(result, editors, langs) -> None:
    out = result.out
    for path in result.leaderboard.values():
        assert path.is_file() and path.stat().st_size > 0
    with result.leaderboard["csv"].open(encoding="utf-8") as handle:
        names = [row["model"] for row in csv.DictReader(handle)]
    assert names == ["Original model", *editors]
    for editor in editors:
        data = json.loads((result.runs[editor] / "results.json").read_text(encoding="utf-8"))
        assert data["status"] == "complete" and data["editor"]["name"] == editor
    record = json.loads((out / DEMO_FILE).read_text(encoding="utf-8"))
    assert record["warning"] == STAND_IN_WARNING and record["settings"]["langs"] == list(langs)
    assert "stand-in" in (out / NOTE_FILE).read_text(encoding="utf-8")
    build = json.loads((result.dataset / "build.json").read_text(encoding="utf-8"))
    assert all(build["engines"][lang]["stand_in"] for lang in langs)
    assert build["configs"]["de"]["rephrases"] > 0  # synthetic rephrases exist, so MLG does
    assert not list(out.rglob("*.tmp")) and not list(out.parent.glob("*.partial"))


def test_demo_small_variant(tmp_path):
    langs = ("de", "zh")
    result = run_demo(tmp_path / "demo", quiet=True, langs=langs, max_edits=2, folders=1, epochs=1)
    _check_outputs(result, DEMO_EDITORS, langs)
    board = result.leaderboard["md"].read_text(encoding="utf-8")
    assert "| zh" in board and "MLG" in board


def test_demo_refuses_non_empty_out_and_leaves_it(tmp_path):
    out = tmp_path / "busy"
    out.mkdir()
    (out / "keep.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(ToolkitError, match="not empty"):
        run_demo(out, quiet=True)
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_demo_unknown_editor_fails_before_any_work(tmp_path):
    with pytest.raises(ToolkitError, match="Did you mean 'tpatcher'"):
        run_demo(tmp_path / "demo", quiet=True, editors=("none", "tpatchr"))
    assert not (tmp_path / "demo").exists()


@pytest.mark.parametrize("existed", [False, True])
def test_demo_failure_leaves_nothing(tmp_path, monkeypatch, existed):
    import harness.demo

    def broken(*args, **kwargs):
        raise ToolkitError("translation models: disk full")

    monkeypatch.setattr(harness.demo, "make_translators", broken)
    out = tmp_path / "demo"
    if existed:
        out.mkdir()
    with pytest.raises(ToolkitError, match="disk full"):
        run_demo(out, quiet=True)
    assert (list(out.iterdir()) == []) if existed else not out.exists()  # the KILT files went too


@pytest.mark.slow
def test_full_demo_cli_offline(tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    out = tmp_path / "demo"
    code = "from harness.cli import main; main()"
    proc = subprocess.run(
        [sys.executable, "-c", code, "demo", "--out", str(out)], env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "stand-in" in proc.stdout and "xfever build" in proc.stdout and "harness eval" in proc.stdout
    record = json.loads((out / DEMO_FILE).read_text(encoding="utf-8"))
    assert sum(record["result"]["timings"].values()) < 180
    with (out / "leaderboard" / "leaderboard.csv").open(encoding="utf-8") as handle:
        assert [row["model"] for row in csv.DictReader(handle)] == ["Original model", *DEMO_EDITORS]
