"""The per-sample log: rows.parquet records predictions and gold probabilities before and after editing."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from harness.report.compare import load_rows
from harness.report.samples import before_after, load_samples


def test_rows_parquet_logs_every_prediction_with_gold_probability(report_runs, tiny_xfever):
    run = report_runs["tpatcher"]
    rows = load_samples(run)
    expected = ["model", "folder", "metric", "row_id", "correct", "lang", "gold", "pred", "prob_gold"]
    assert list(rows.columns) == [*expected, "needed_edit", "edited"]
    assert rows.prob_gold.between(0, 1).all()
    # the prediction is the most probable label: right with p(gold) > 0.5, wrong below (2 labels)
    assert ((rows.prob_gold > 0.5) == rows.correct).all()
    assert ((rows.pred == rows.gold) == rows.correct).all()
    assert set(rows[rows.metric == "clg_de"].lang) == {"de"} and set(rows[rows.metric == "mlg"].lang) == {
        "en"
    }
    assert set(rows[rows.metric == "clg_rephrase_fr"].lang) == {"fr"}
    # edit flags follow steps.jsonl; locality rows have none
    steps = [json.loads(line) for line in (run / "steps.jsonl").read_text().splitlines()]
    needed = {s["id"] for s in steps if s["needed"]}
    edit = rows[~rows.metric.str.startswith("locality_")]
    assert (edit.needed_edit == edit.row_id.str.split("#").str[0].isin(needed)).all() and needed
    assert rows[rows.metric.str.startswith("locality_")].needed_edit.isna().all()
    # ids only: no text of the dataset reaches the log
    claims = set(pd.read_parquet(tiny_xfever / "en" / "edit-00000-of-00001.parquet").claim)
    assert not any(rows[c].isin(claims).any() for c in rows.columns if rows[c].dtype == object)


def test_before_after_pairs_the_original_record_with_the_edited_one(report_runs):
    run = report_runs["tpatcher"]
    pairs = before_after(run)
    rel = pairs[pairs.metric == "reliability"]
    assert len(rel) == 6 and rel.needed_edit.sum() > 0 and rel.edited.sum() > 0
    # the first row of a folder meets the original model: it needs an edit exactly when that was wrong
    steps = [json.loads(line) for line in (run / "steps.jsonl").read_text().splitlines()]
    firsts = {next(s["id"] for s in steps if s["folder"] == f) for f in (0, 1)}
    first = rel[rel.row_id.isin(firsts)]
    assert len(first) == 2 and (first.needed_edit == ~first.correct_before).all()
    assert (rel.prob_gold_after != rel.prob_gold_before).any()  # the edits moved probabilities
    # locality rows: one pair per folder
    loc = pairs[pairs.metric == "locality_test"]
    assert loc.groupby("row_id").size().eq(2).all()
    # the metrics are the log's means
    data = json.loads((run / "results.json").read_text())
    assert data["metrics"]["reliability"]["value"] == pytest.approx(rel.correct_after.mean())
    assert data["original"]["reliability"]["value"] == pytest.approx(rel.correct_before.mean())


def test_readers_of_version_1_rows_still_work(report_runs, tmp_path):
    import shutil

    old = tmp_path / "old"
    shutil.copytree(report_runs["none"], old)
    frame = pd.read_parquet(old / "rows.parquet")
    frame[["model", "folder", "metric", "row_id", "correct"]].to_parquet(old / "rows.parquet", index=False)
    records = load_rows(old)
    assert len(records) == len(frame) and set(records.lang) == {None}
