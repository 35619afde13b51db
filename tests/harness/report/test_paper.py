"""The paper's tables as data: transcription checks."""

from __future__ import annotations

import pytest

from harness.report.paper import paper_source, paper_table, paper_table_info, table_for


@pytest.mark.parametrize("number", [1, 2, 3])
def test_every_row_has_every_column(number):
    table = paper_table_info(number)
    assert [row.table for row in table.rows] == [number] * len(table.rows)
    for row in table.rows:
        assert tuple(row.values) == table.columns, row.name
        assert set(row.bold) <= set(table.columns)
    assert table.columns == (
        ("patch_num", "reliability")
        + (("mlg",) if table.dataset == "xfever" else ())
        + tuple(f"clg_{lang}" for lang in table.langs)
        + ("clg_avg",)
        + (("locality_train", "locality_test") if table.dataset == "xfever" else ("locality_validation",))
    )


@pytest.mark.parametrize("number", [1, 2, 3])
def test_stored_averages_match_the_languages(number):
    """Catches transcription typos; the paper's own two slips are listed in the data, nothing else."""
    table = paper_table_info(number)
    known = {(i["row"], i["metric"]): i for i in table.inconsistencies}
    for row in table.rows:
        mean = sum(row.values[f"clg_{lang}"] for lang in table.langs) / len(table.langs)
        if (row.name, "clg_avg") in known:
            assert abs(mean - row.values["clg_avg"]) > 0.05
            assert known[(row.name, "clg_avg")]["mean_of_languages"] == pytest.approx(mean, abs=0.005)
            assert known[(row.name, "clg_avg")]["printed"] == row.values["clg_avg"]
        else:
            assert row.values["clg_avg"] == pytest.approx(mean, abs=0.0051), row.name


def test_bold_cells_are_the_column_maxima():
    """The paper bolds the best edited row per column (the original model's row excluded)."""
    for number in (1, 2, 3):
        table = paper_table_info(number)
        edited = [row for row in table.rows if row.editor not in ("none", "ft")]
        for key in table.columns[1:]:
            best = max(row.values[key] for row in edited)
            bold = {row.name for row in table.rows if key in row.bold}
            assert bold <= {row.name for row in edited if row.values[key] == best}, (number, key)


def test_headline_numbers_and_lookup():
    t1 = {row.editor: row for row in paper_table(1)}
    assert [row.editor for row in paper_table(1)] == ["none", "ft", "tpatcher", "mpn", "mpn-all"]
    assert t1["tpatcher"].values["patch_num"] == 1207 and t1["mpn-all"].values["clg_avg"] == 96.94
    assert t1["none"].values["locality_train"] == 93.05 and t1["mpn"].label == "MPN (only) (paper)"
    t2 = paper_table_info(2)
    assert len(t2.langs) == 14 and "mlg" not in t2.columns and t2.rows[-1].values["clg_avg"] == 77.15
    assert paper_table(3)[0].values["reliability"] == 0 and table_for("xfever", "all-wrong").number == 3
    assert table_for("xnli").number == 2 and table_for("other") is None
    assert "MPN" in paper_source()["title"]
    with pytest.raises(KeyError, match="no Table 4"):
        paper_table(4)


def test_callers_cannot_corrupt_the_stored_numbers():
    paper_table(1)[0].values["reliability"] = -1.0
    assert paper_table(1)[0].values["reliability"] == 88.07
