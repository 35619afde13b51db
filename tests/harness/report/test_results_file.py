"""What results.json says about its metrics (direction, display names)."""

from __future__ import annotations

import json


def test_every_metric_declares_whether_higher_is_better(report_runs):
    data = json.loads((report_runs["tpatcher"] / "results.json").read_text(encoding="utf-8"))
    info = data["metrics_info"]
    assert set(data["metrics"]) | set(data["original"]) <= set(info)
    assert (
        info["reliability"]["higher_is_better"] is True and info["locality_test"]["higher_is_better"] is True
    )
    assert info["patch_num"] == {"display": "Patch Num.", "higher_is_better": None, "unit": "count"}
    assert info["clg_de"] == {"display": "CLG de", "higher_is_better": True, "unit": "fraction"}
    assert info["clg_rephrase_fr"]["display"] == "CLG rephrases fr"
