"""Base-model training on a tiny BERT and the bundled FEVER claims."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from common.errors import ToolkitError
from harness.data.suite import Example
from harness.model.tiny import make_tiny_bert
from harness.train.base import RECORD_FILE, TrainSettings, train_classifier
from harness.train.data import load_fever_examples, load_task_data
from harness.train.loop import encode
from tests.support import write_hub_folder

TINY = dict(epochs=10, batch_size=16, lr=3e-3, warmup_steps=10, progress=False)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory, fever_examples) -> Path:
    return make_tiny_bert(tmp_path_factory.mktemp("tiny") / "bert", [ex.text[0] for ex in fever_examples])


@pytest.fixture(scope="session")
def trained(tmp_path_factory, tiny_model, fever_split):
    train, validation = fever_split
    out = tmp_path_factory.mktemp("trained") / "model"
    result = train_classifier(tiny_model, train, validation, out, TrainSettings(**TINY))
    return result, out


def test_training_beats_untrained_and_majority(trained, fever_split):
    result, _ = trained
    validation = fever_split[1]
    majority = max(sum(ex.label == name for ex in validation) for name in ("SUPPORTS", "REFUTES"))
    assert result.best_accuracy > result.initial_accuracy
    assert result.best_accuracy >= (majority + 2) / len(validation)  # at least 2 rows better
    assert result.steps == 10 * 12  # 179 rows / batch 16 = 12 steps per epoch
    assert len(result.history) == 10  # one validation per epoch
    assert result.best_accuracy == max(h.accuracy for h in result.history)


def test_output_reloads_and_predicts_the_best_accuracy(trained, fever_split):
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    result, out = trained
    model = AutoModelForSequenceClassification.from_pretrained(out).eval()
    tokenizer = AutoTokenizer.from_pretrained(out)
    validation = fever_split[1]
    with torch.inference_mode():
        logits = model(**encode(tokenizer, [ex.text for ex in validation], 32)).logits
    names = [model.config.id2label[int(i)] for i in logits.argmax(-1)]
    accuracy = sum(n == ex.label for n, ex in zip(names, validation, strict=True)) / len(validation)
    assert accuracy == pytest.approx(result.best_accuracy)
    assert model.config.label2id == {"SUPPORTS": 0, "REFUTES": 1}


def test_card_and_record(trained):
    result, out = trained
    record = json.loads((out / RECORD_FILE).read_text(encoding="utf-8"))
    assert record["schema_version"] == 1
    assert record["best_accuracy"] == result.best_accuracy
    assert record["settings"]["seed"] == 0 and record["settings"]["label_smoothing"] == 0.1
    assert record["provenance"]["package_version"]
    assert "git_sha" in record["provenance"] and record["provenance"]["stand_in"]
    card = (out / "README.md").read_text(encoding="utf-8")
    assert card.startswith("---\n") and "pipeline_tag: text-classification" in card
    assert f"{100 * result.best_accuracy:.2f} %" in card and "Stand-in model" in card
    assert "| warmup_steps | 10 |" in card
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no temp folder left


def test_deterministic_given_the_seed(tmp_path, tiny_model, fever_split):
    train, validation = fever_split
    settings = TrainSettings(**{**TINY, "max_steps": 6, "eval_every": 3})
    a = train_classifier(tiny_model, train, validation, tmp_path / "a", settings)
    b = train_classifier(tiny_model, train, validation, tmp_path / "b", settings)
    assert a.history == b.history and a.steps == 6 and [h.step for h in a.history] == [3, 6]


def test_unnamed_head_is_named_from_the_dataset(tmp_path, fever_examples, fever_split):
    model = make_tiny_bert(
        tmp_path / "m", [ex.text[0] for ex in fever_examples], labels=("LABEL_0", "LABEL_1")
    )
    settings = TrainSettings(**{**TINY, "max_steps": 2})
    result = train_classifier(
        model, *fever_split, tmp_path / "out", settings, label_names=("SUPPORTS", "REFUTES")
    )
    config = json.loads((tmp_path / "out" / "config.json").read_text(encoding="utf-8"))
    assert config["id2label"] == {"0": "SUPPORTS", "1": "REFUTES"}
    assert result.label_names == ("SUPPORTS", "REFUTES")


def test_named_head_is_matched_by_name_case_insensitively(tmp_path, fever_examples, fever_split):
    model = make_tiny_bert(
        tmp_path / "m", [ex.text[0] for ex in fever_examples], labels=("refutes", "supports")
    )
    train_classifier(model, *fever_split, tmp_path / "out", TrainSettings(**{**TINY, "max_steps": 1}))
    config = json.loads((tmp_path / "out" / "config.json").read_text(encoding="utf-8"))
    assert config["label2id"] == {"refutes": 0, "supports": 1}  # the head keeps its own order


def test_label_mismatch_and_bad_out_dir_are_clear_errors(tmp_path, tiny_model, fever_split):
    train, validation = fever_split
    bad = [Example("x1", ("A claim .",), "NOT ENOUGH INFO")]
    with pytest.raises(ToolkitError, match="label 'NEI' of the dataset is not in the model's label2id"):
        train_classifier(tiny_model, train, validation, tmp_path / "o1", label_names=("SUPPORTS", "NEI"))
    with pytest.raises(ToolkitError, match=r"validation data: row 0 \(id x1\): field 'label'"):
        train_classifier(tiny_model, train, bad, tmp_path / "o2", TrainSettings(progress=False))
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("x")
    with pytest.raises(ToolkitError, match="not an empty folder"):
        train_classifier(tiny_model, train, validation, tmp_path / "full")
    assert not (tmp_path / "o1").exists() and not (tmp_path / "o2").exists()


def test_settings_presets_and_validation():
    fever, xnli = TrainSettings.for_task("xfever"), TrainSettings.for_task("xnli", seed=3)
    assert (fever.epochs, fever.batch_size, fever.lr, fever.max_length) == (20, 128, 3e-5, 32)
    assert (fever.weight_decay, fever.warmup_steps, fever.label_smoothing) == (0.01, 500, 0.1)
    assert (xnli.epochs, xnli.batch_size, xnli.max_length, xnli.seed, xnli.lr) == (3, 64, 128, 3, 3e-5)
    assert TrainSettings.for_task("xnli", epochs=1).epochs == 1
    with pytest.raises(ToolkitError, match="batch_size"):
        TrainSettings(batch_size=0)
    with pytest.raises(ToolkitError, match="unknown task"):
        TrainSettings.for_task("squad")


def test_pairs_are_encoded_as_pairs(tiny_model):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    batch = encode(tokenizer, [("a claim", "another claim")], 32)
    assert batch["token_type_ids"][0].tolist().count(1) >= 2  # hypothesis + its [SEP]
    assert (batch["input_ids"][0] == tokenizer.sep_token_id).sum() == 2


def _xfever_folder(root: Path, rows: list, *, text_labels: bool = False) -> Path:
    """An `en` config of train and validation, `label` a ClassLabel as xfever.schema says (or text,
    as folders of layout version 1 and other tools' copies hold it)."""
    from datasets import Dataset, Value

    from xfever import schema

    features = schema.features(schema.SOURCE_LANG)
    if text_labels:
        features[schema.LABEL] = Value("string")

    def split(part):
        labels = [r.label for r in part]
        return Dataset.from_dict(
            {
                "id": [r.id for r in part],
                "label": labels if text_labels else schema.label_ids(labels),
                "claim": [r.text[0] for r in part],
                "rephrases": [[] for _ in part],
            },
            features=features,
        )

    return write_hub_folder(root, {"en": {"train": split(rows[:20]), "validation": split(rows[20:30])}})


@pytest.fixture(scope="session")
def xfever_folder(tmp_path_factory, fever_examples) -> Path:
    return _xfever_folder(tmp_path_factory.mktemp("xfever"), fever_examples)


def test_text_labels_read_as_they_are(tmp_path, fever_examples):
    """A folder whose `label` is text (layout version 1, other tools' copies) reads the same rows."""
    folder = _xfever_folder(tmp_path, fever_examples, text_labels=True)
    assert load_fever_examples(str(folder), "validation") == fever_examples[20:30]


def test_load_fever_examples_and_task_data(xfever_folder, fever_examples):
    rows = load_fever_examples(str(xfever_folder), "validation")
    assert rows == fever_examples[20:30]
    data = load_task_data("fever", str(xfever_folder))
    assert len(data.train) == 20 and data.label_names == ("SUPPORTS", "REFUTES")
    assert data.info["revision"].startswith("sha256:") and data.info["train"].endswith(":en/train")
    with pytest.raises(ToolkitError, match="split 'edit'"):
        load_fever_examples(str(xfever_folder), "edit")
    with pytest.raises(ToolkitError, match="--data"):
        load_task_data("fever")


def test_diverging_loss_stops_with_a_clear_error_and_writes_nothing(tmp_path, tiny_model, fever_split):
    settings = TrainSettings(**{**TINY, "lr": 1e30, "warmup_steps": 0, "max_steps": 20})
    with pytest.raises(ToolkitError, match="training loss became nan at step"):
        train_classifier(tiny_model, *fever_split, tmp_path / "out", settings)
    assert list(tmp_path.iterdir()) == []


def test_reference_recipe_trains_without_head_dropout_and_records_it(
    tmp_path, tiny_model, fever_split, monkeypatch
):
    """--recipe reference: CE - 0.1 entropy, the classifier's own dropout off while training
    (Transformer-Patcher's BertClassifier has none), recorded in train_base.json."""
    from transformers import AutoModelForSequenceClassification

    from harness.model.views import head_dropouts

    train, validation = fever_split
    seen: list[tuple[bool, list[bool]]] = []
    loader = AutoModelForSequenceClassification.from_pretrained

    def watched(*args, **kwargs):
        model = loader(*args, **kwargs)
        model.classifier.register_forward_pre_hook(
            lambda _m, _a: seen.append((model.training, [d.training for d in head_dropouts(model)]))
        )
        return model

    monkeypatch.setattr(AutoModelForSequenceClassification, "from_pretrained", watched)
    settings = TrainSettings(**{**TINY, "max_steps": 2, "recipe": "reference", "decay_steps": 100})
    train_classifier(tiny_model, train, validation, tmp_path / "ref", settings)
    training = [dropouts for mode, dropouts in seen if mode]
    assert training and all(d == [False] for d in training)
    record = json.loads((tmp_path / "ref" / RECORD_FILE).read_text(encoding="utf-8"))
    assert record["settings"]["recipe"] == "reference" and record["settings"]["decay_steps"] == 100
