"""The controlled cross-lingual testbed (harness.testbed): synthetic languages, tiny model.

One small testbed is built once per session through the CLI (`harness testbed`), which runs the real
`xfever build --engine lexicon` and the real train-base. The paper's findings on a full-size testbed
are asserted in test_findings.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.testbed import CLOSE, FAR, LABEL, TestbedSettings, write_kilt
from harness.testbed.claims import fact_table


@pytest.fixture(scope="session")
def small_testbed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from click.testing import CliRunner

    from harness.cli import cli

    out = tmp_path_factory.mktemp("testbed") / "tb"
    args = ["testbed", "--out", str(out), "--people", "300", "--seed", "3", "--quick"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert LABEL in result.output
    return out


def test_everything_written_says_synthetic_languages_tiny_model(small_testbed: Path) -> None:
    record = json.loads((small_testbed / "testbed.json").read_text(encoding="utf-8"))
    assert LABEL in record["kind"] and record["settings"]["seed"] == 3
    assert record["settings"]["pretrain"]["seed"] == 3  # one seed drives everything
    assert record["close_langs"] == list(CLOSE) and record["far_langs"] == list(FAR)
    dataset = small_testbed / record["dataset"]
    build = json.loads((dataset / "build.json").read_text(encoding="utf-8"))
    assert build["settings"]["engine"] == "lexicon"
    assert all(engine["synthetic"] for engine in build["engines"].values())
    assert "Synthetic languages, not translations" in (dataset / "README.md").read_text(encoding="utf-8")
    model = json.loads((small_testbed / record["model"] / "train_base.json").read_text(encoding="utf-8"))
    assert LABEL in model["data"]["note"]
    pretrain = json.loads(
        (small_testbed / record["pretrained"] / "pretrain.json").read_text(encoding="utf-8")
    )
    assert LABEL in pretrain["kind"]
    assert pretrain["mlm_loss_last20"] < pretrain["mlm_loss_first"]  # the MLM pretraining learnt something


def test_model_learns_the_facts_but_errs_on_some(small_testbed: Path) -> None:
    record = json.loads((small_testbed / "testbed.json").read_text(encoding="utf-8"))
    accuracy = record["train_base"]["validation_accuracy"]
    assert 0.6 < accuracy < 0.98, accuracy  # above chance (the rule), below 1 (exceptions, real claims)
    assert record["settings"]["pretrain"]["hidden_size"] == 64  # --quick
    sizes = record["build"]["en"]
    assert sizes["edit"] >= 100  # enough rows for intervals of about +-10 points
    assert record["build"]["zh"] == {"edit": sizes["edit"], "rephrases": 2 * sizes["edit"]}


def test_facts_and_claims_are_a_function_of_the_seed(tmp_path: Path) -> None:
    settings = TestbedSettings(seed=5, people=50, test_people=10)
    a, b = write_kilt(tmp_path / "a", settings), write_kilt(tmp_path / "b", settings)
    assert a["train"].read_bytes() == b["train"].read_bytes()
    c = write_kilt(tmp_path / "c", TestbedSettings(seed=6, people=50, test_people=10))
    assert c["train"].read_bytes() != a["train"].read_bytes()
    people = fact_table(400, seed=1, exception_rate=0.15)
    assert len({p.name for p in people}) == 400
    share = sum(p.exception for p in people) / len(people)
    assert 0.08 < share < 0.22 and 0.4 < sum(p.olympian for p in people) / 400 < 0.6
    rows = [json.loads(line) for line in a["train"].read_text(encoding="utf-8").splitlines()]
    synthetic = [r for r in rows if r["id"].startswith("synth-")]
    assert len(synthetic) == 100 and all(len(r["rephrases"]) == 2 for r in synthetic)
    assert len(rows) - len(synthetic) == 239  # the bundled real claims beside them
