"""The Table 3 all-wrong subset."""

from __future__ import annotations

import pytest

from common.errors import ToolkitError
from harness.data.subsets import all_wrong, select_subset
from harness.data.suite import EditRow, EvalSuite


def suite() -> EvalSuite:
    rows = tuple(
        EditRow(id=f"r{i}", text=(f"claim {i}",), label="SUPPORTS", parallel={"de": ("de",), "zh": ("zh",)})
        for i in range(4)
    )
    return EvalSuite("xfever", "tiny", None, ("de", "zh"), ("SUPPORTS", "REFUTES"), rows, {}, info={"k": 1})


CORRECT = {
    "r0": {"en": False, "de": False, "zh": False},  # wrong everywhere: kept
    "r1": {"en": False, "de": True, "zh": False},  # right in de only: dropped
    "r2": {"en": True, "de": False, "zh": False},  # right in en only: dropped
    "r3": {"en": False, "de": False, "zh": False, "fr": True},  # extra language outside the run: kept
}


def test_keeps_rows_wrong_in_english_and_every_language():
    subset = all_wrong(suite(), CORRECT)
    assert [row.id for row in subset.edit] == ["r0", "r3"]
    assert subset.info == {
        "k": 1,
        "subset": {"name": "all-wrong", "rows": 2, "of": 4, "langs": ["en", "de", "zh"]},
    }
    assert subset.langs == ("de", "zh") and subset.locality == {}


def test_languages_of_the_run_can_be_narrowed():
    assert [row.id for row in all_wrong(suite(), CORRECT, langs=["zh"]).edit] == ["r0", "r1", "r3"]


def test_missing_predictions_are_errors():
    with pytest.raises(ToolkitError, match="edit row r3"):
        all_wrong(suite(), {k: v for k, v in CORRECT.items() if k != "r3"})
    partial = {**CORRECT, "r2": {"en": True, "de": False}}
    with pytest.raises(ToolkitError, match="edit row r2: no original-model prediction in zh"):
        all_wrong(suite(), partial)


def test_select_by_name():
    assert len(select_subset("all-wrong", suite(), CORRECT).edit) == 2
    with pytest.raises(ToolkitError, match="known: all-wrong"):
        select_subset("hard", suite(), CORRECT)
