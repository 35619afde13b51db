"""Fixtures for the harness tests: a tiny XFEVER-shaped folder and a tiny trained BERT classifier.

The folder is written like `xfever build` writes it (parquet at `schema.parquet_path`, README.md with
YAML `configs`), so `datasets.load_dataset` resolves it exactly as it would the Hub dataset. The
"translations" are deterministic pseudo-translations (a per-language word mapping), so they are
different token sequences from the English claims.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.data.suite import Example
from harness.data.tiny import train_tiny_model, write_tiny_xfever
from tests.support import quick_config


@pytest.fixture(scope="session")
def fever_rows(fever_sample: Path) -> list[dict]:
    return [json.loads(line) for line in fever_sample.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="session")
def tiny_xfever(tmp_path_factory, fever_rows) -> Path:
    return write_tiny_xfever(tmp_path_factory.mktemp("xfever") / "tiny", fever_rows)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory, tiny_xfever: Path, fever_rows) -> Path:
    """A tiny BERT trained briefly on the tiny train split: some edit rows right, some wrong."""
    base_dir = tmp_path_factory.mktemp("bert") / "base"
    return train_tiny_model(tiny_xfever, fever_rows, base_dir, tmp_path_factory.mktemp("bert") / "trained")


REPORT_EDITORS = ("none", "tpatcher", "mpn")


@pytest.fixture(scope="session")
def report_runs(tmp_path_factory, tiny_model: Path, tiny_xfever: Path) -> dict[str, Path]:
    """Finished run folders of three editors on the same rows (one comparable group), shared by the
    report tests (leaderboard, plots, per-sample log, schema, publish)."""
    from harness import evaluate

    root = tmp_path_factory.mktemp("report-runs")
    runs = {}
    for editor in REPORT_EDITORS:
        evaluate(quick_config(tiny_model, tiny_xfever, root / editor, editor))
        runs[editor] = root / editor
    return runs


@pytest.fixture(scope="session")
def report_board(tmp_path_factory, report_runs: dict[str, Path]) -> dict[str, Path]:
    """The leaderboard of `report_runs` (written once: its PDF charts take seconds)."""
    from harness.report.leaderboard import leaderboard

    return leaderboard(list(report_runs.values()), tmp_path_factory.mktemp("report-board") / "board")


@pytest.fixture(scope="session")
def fever_examples(fever_sample: Path) -> list[Example]:
    rows = [json.loads(line) for line in fever_sample.read_text(encoding="utf-8").splitlines()]
    return [Example(r["id"], (r["input"],), r["output"][0]["answer"]) for r in rows]


@pytest.fixture(scope="session")
def fever_split(fever_examples: list[Example]) -> tuple[list[Example], list[Example]]:
    """Deterministic held-out cut of the bundled claims: every 4th row validates (60 rows)."""
    validation = fever_examples[::4]
    train = [ex for i, ex in enumerate(fever_examples) if i % 4]
    return train, validation
