"""Leaderboards rank only comparable runs: grouped by what they scored, mixed tables refused or marked."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from common.errors import ToolkitError
from harness import evaluate
from harness.report.leaderboard import collect
from tests.support import harness_cli, quick_config

pytestmark = pytest.mark.slow  # eight runs of the protocol; CI runs -m slow

# One change each to what a run scores (the `none` editor: no edits, fast).
VARIANTS = {
    "fewer-rows": ({"max_edits": 4}, "edit rows"),
    "one-lang": ({"langs": ("de",)}, "languages"),
    "swapped-labels": ({"label_map": {"SUPPORTS": 1, "REFUTES": 0}, "force_label_map": True}, "label map"),
    "lifelong": ({"folders": 1}, "folders"),
    "longer": ({"max_length": 24}, "max_length"),
}


@pytest.fixture(scope="module")
def variants(tmp_path_factory, tiny_model, tiny_xfever):
    root = tmp_path_factory.mktemp("variants")
    for name, (changes, _) in VARIANTS.items():
        evaluate(quick_config(tiny_model, tiny_xfever, root / name, "none", **changes))
    return {name: root / name for name in VARIANTS}


def test_comparable_runs_share_one_table_and_one_original_row(report_runs, report_board, tmp_path):
    # a version-1 run folder (no `scored` in results.json) joins its group through rows.parquet
    old = tmp_path / "v1"
    shutil.copytree(report_runs["none"], old)
    data = json.loads((old / "results.json").read_text())
    data["schema_version"] = 1
    del data["scored"]
    (old / "results.json").write_text(json.dumps(data))
    board = collect([*report_runs.values(), old])
    assert not board.mixed and [r.name for r in board.table_rows].count("Original model") == 1
    md = report_board["md"].read_text()
    assert "All runs scored the same: model " in md and "edit rows 6 (sha256:" in md
    assert "languages de, fr, es" in md and "label map REFUTES=1, SUPPORTS=0" in md
    sources = [line for line in md.splitlines() if line.startswith("| run |")][0]
    assert "| edit rows | languages | folders |" in sources and "**" in md


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_runs_that_scored_other_things_are_refused_naming_the_difference(report_runs, variants, variant):
    with pytest.raises(ToolkitError) as info:
        collect([report_runs["tpatcher"], report_runs["mpn"], variants[variant]])
    text = str(info.value)
    field = VARIANTS[variant][1]
    assert f"  {field}: " in text and "--allow-mixed" in text
    assert f"A: tpatcher, mpn; B: {variant}" in text
    assert "original-model metrics" not in text  # it follows from the real difference


def test_original_model_metrics_must_agree_within_a_group(report_runs, tmp_path):
    odd = tmp_path / "odd"
    shutil.copytree(report_runs["none"], odd)
    data = json.loads((odd / "results.json").read_text())
    data["original"]["reliability"]["value"] += 1 / 6
    (odd / "results.json").write_text(json.dumps(data))
    with pytest.raises(ToolkitError, match="original-model metrics differ") as info:
        collect([report_runs["tpatcher"], odd])
    assert "  original-model metrics: reliability " in str(info.value)


def test_allow_mixed_renders_one_table_marked_as_mixed(report_runs, variants, tmp_path, capsys):
    runs = [report_runs["tpatcher"], variants["one-lang"], variants["fewer-rows"]]
    assert harness_cli(["leaderboard", *runs, "--out", tmp_path / "refused"]) == 2
    assert "languages: de, fr, es in tpatcher, fewer-rows; de in one-lang\n" in capsys.readouterr().err
    assert not (tmp_path / "refused").exists()
    assert harness_cli(["leaderboard", *runs, "--out", tmp_path / "b", "--allow-mixed"]) == 0
    md = (tmp_path / "b" / "leaderboard.md").read_text()
    assert md.startswith("| Models/Methods |")  # the table first, its warnings right under it
    banner = "\n> **MIXED TABLE, NOT COMPARABLE ACROSS GROUPS: the runs differ in languages, edit rows.**"
    assert md.index(banner) < md.index("CLG columns are languages")
    names = [line.split("|")[1].strip() for line in md.splitlines() if line.startswith("| ")]
    for row in (
        "Original model [A]",
        "tpatcher [A]",
        "Original model [B]",
        "none (one-lang) [B]",
        "Original model [C]",
    ):
        assert row in names
    table = md.split("\n\n")[0]
    assert "**" not in table  # nothing is "best" across groups
    assert "| group | runs | languages | edit rows |" in md
    frame = pd.read_csv(tmp_path / "b" / "leaderboard.csv")
    assert set(frame.group) == {"A (mixed)", "B (mixed)", "C (mixed)"}
    record = json.loads((tmp_path / "b" / "leaderboard.json").read_text())
    assert record["mixed"] is True and record["differing"] == ["languages", "edit rows"]


def test_train_langs_averages_of_the_original_do_not_split_a_group(report_runs, tmp_path):
    """MPN with train_langs also reports the original model's seen / held-out averages; FT does not."""
    mpn = tmp_path / "mpn-de"
    shutil.copytree(report_runs["mpn"], mpn)
    data = json.loads((mpn / "results.json").read_text())
    data["original"]["clg_avg_seen"] = dict(data["original"]["clg_de"])
    (mpn / "results.json").write_text(json.dumps(data))
    board = collect([report_runs["tpatcher"], mpn])
    assert not board.mixed
    original = board.table_rows[0]
    assert (
        original.name == "Original model"
        and original.values["clg_avg_seen"] == data["original"]["clg_de"]["value"]
    )
