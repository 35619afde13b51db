"""The XNLI loader on tiny folders shaped like facebook/xnli and nyu-mll/multi_nli."""

from __future__ import annotations

from pathlib import Path

import pytest

from common.errors import ToolkitError
from harness.data.xnli import load_multinli_examples, load_xnli_examples, load_xnli_suite
from harness.train.data import load_task_data
from tests.support import NAMES, nli, write_hub_folder, xnli_config
from tests.support import XNLI_LANGS as LANGS


@pytest.fixture(scope="session")
def xnli_folder(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("xnli")
    return write_hub_folder(root, {lang: xnli_config(lang) for lang in ("en", *LANGS)})


@pytest.fixture(scope="session")
def mnli_folder(tmp_path_factory) -> Path:
    train = nli(
        ["p0", "p1", "p2", "p3"], ["h0", "h1", "h2", "h3"], [0, -1, 2, 1], pairID=["a", "b", "c", "d"]
    )
    return write_hub_folder(tmp_path_factory.mktemp("mnli"), {"default": {"train": train}})


def test_suite_pairs_three_labels_and_parallel_rows(xnli_folder):
    suite = load_xnli_suite(str(xnli_folder))
    assert suite.name == "xnli" and suite.langs == ("de", "sw", "zh")  # Table 2 order, no en
    assert suite.label_names == tuple(NAMES) and not suite.has_rephrases
    assert [row.id for row in suite.edit] == [f"xnli-test-{i}" for i in range(4)]
    row = suite.edit[2]
    assert row.text == ("en premise 2", "en hyp 2") and row.label == "contradiction"
    assert row.parallel == {lang: (f"{lang} premise 2", f"{lang} hyp 2") for lang in LANGS}
    assert row.rephrases == ()
    (locality,) = suite.locality.values()
    assert list(suite.locality) == ["validation"] and [ex.label for ex in locality] == NAMES[::-1]
    assert locality[0].text == ("en vp 0", "en vh 0") and locality[0].id == "xnli-validation-0"
    assert "CC BY-NC" in suite.info["licence_note"]
    assert suite.dataset_revision.startswith("sha256:")


def test_langs_selection_and_unknown_language(xnli_folder):
    suite = load_xnli_suite(str(xnli_folder), langs=["zh", "de"])
    assert suite.langs == ("zh", "de") and set(suite.edit[0].parallel) == {"zh", "de"}
    with pytest.raises(ToolkitError, match=r"--langs: th not in .*available: de, sw, zh"):
        load_xnli_suite(str(xnli_folder), langs=["th"])


def test_misaligned_config_is_an_error(tmp_path):
    folder = write_hub_folder(tmp_path / "x", {"en": xnli_config("en"), "de": xnli_config("de", n_test=3)})
    with pytest.raises(ToolkitError, match="config 'de' split 'test' has 3 rows but config 'en' has 4"):
        load_xnli_suite(str(folder))


def test_missing_english_config_is_an_error(tmp_path):
    folder = write_hub_folder(tmp_path / "x", {"de": xnli_config("de")})
    with pytest.raises(ToolkitError, match="no 'en' config"):
        load_xnli_suite(str(folder))


def test_multinli_drops_rows_without_gold_label(mnli_folder):
    rows = load_multinli_examples(str(mnli_folder))
    assert [r.id for r in rows] == ["mnli-train-a", "mnli-train-c", "mnli-train-d"]
    assert [r.label for r in rows] == ["entailment", "contradiction", "neutral"]
    assert rows[1].text == ("p2", "h2")


def test_xnli_task_data_for_train_base(mnli_folder, xnli_folder):
    data = load_task_data("xnli", str(mnli_folder), validation_data=str(xnli_folder))
    assert len(data.train) == 3 and data.label_names == tuple(NAMES)
    assert data.validation == load_xnli_examples(str(xnli_folder), "en", "validation")
    assert data.info["validation"].endswith(":en/validation") and data.info["task"] == "xnli"


def test_train_base_on_pairs_with_a_bare_head(tmp_path, mnli_folder, xnli_folder):
    import json

    from harness.model.tiny import make_tiny_bert
    from harness.train.base import TrainSettings, train_classifier

    data = load_task_data("xnli", str(mnli_folder), validation_data=str(xnli_folder))
    texts = [seg for ex in data.train + data.validation for seg in ex.text]
    model = make_tiny_bert(tmp_path / "m", texts, labels=("LABEL_0", "LABEL_1"))  # head of the wrong size
    settings = TrainSettings.for_task("xnli", max_steps=2, batch_size=2, progress=False)
    result = train_classifier(
        model,
        data.train,
        data.validation,
        tmp_path / "o",
        settings,
        label_names=data.label_names,
        data=data.info,
    )
    config = json.loads((tmp_path / "o" / "config.json").read_text(encoding="utf-8"))
    assert config["id2label"] == {"0": "entailment", "1": "neutral", "2": "contradiction"}
    assert result.steps == 2 and result.data["task"] == "xnli"
    assert "(premise, hypothesis) pair" in (tmp_path / "o" / "README.md").read_text(encoding="utf-8")
