"""Issue 6 end to end through the CLI: train-base, XNLI track, all-wrong subset, bootstrap intervals,
seen / held-out CLG, rephrase CLG columns, compare, reproduce, --compare-paper. Tiny models only."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from common.errors import UsageError
from tests.support import harness_cli, nli, write_hub_folder, xnli_config
from xfever import schema

pytestmark = pytest.mark.slow  # end to end over every editor; CI runs -m slow

XF_LANGS = ("de", "fr", "es")
QUICK = ["--quiet", "--bootstrap-resamples", "300"]


def write_xfever(root: Path, rows: list[dict]) -> Path:
    """A tiny XFEVER-shaped folder (English + pseudo-translated edit and rephrase configs)."""
    from datasets import ClassLabel, Dataset, Features, Value

    label = ClassLabel(names=list(schema.LABELS))  # as xfever.schema: 0 SUPPORTS, 1 REFUTES
    en = {}
    sizes = {"train": 110, "validation": 40, "edit": 40, "test": 40}
    start = 0
    for split, size in sizes.items():
        part = rows[start : start + size]
        start += size
        columns = {"id": [r["id"] for r in part], "label": schema.label_ids([r["label"] for r in part])}
        columns["claim"] = [r["claim"] for r in part]
        reph = [[f"reportedly , {r['claim']}"] for r in part]
        columns["rephrases"] = reph if split == "edit" else [[] for _ in part]
        en[split] = Dataset.from_dict(columns, features=schema.features(schema.SOURCE_LANG))
    configs = {"en": en}
    edit = en["edit"]
    for n, lang in enumerate(XF_LANGS):
        claims = [f"{lang} {c}" if n % 2 else f"{c} {lang}" for c in edit["claim"]]
        configs[lang] = {
            "edit": Dataset.from_dict(
                {
                    "id": edit["id"],
                    "rephrase_index": [None] * len(edit),
                    "label": edit["label"],
                    "claim": claims,
                },
                features=Features(
                    {
                        "id": Value("string"),
                        "rephrase_index": Value("int64"),
                        "label": label,
                        "claim": Value("string"),
                    }
                ),
            ),  # fmt: skip
            "rephrases": Dataset.from_dict(
                {
                    "id": edit["id"],
                    "rephrase_index": [0] * len(edit),
                    "label": edit["label"],
                    "claim": [f"{lang} reportedly {c}" for c in edit["claim"]],
                },
                features=Features(
                    {
                        "id": Value("string"),
                        "rephrase_index": Value("int64"),
                        "label": label,
                        "claim": Value("string"),
                    }
                ),
            ),
        }
    folder = write_hub_folder(root, configs)
    (folder / schema.BUILD_FILE).write_text(json.dumps({"build_id": "issue6-test"}), encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def claims(fever_sample: Path) -> list[dict]:
    import random

    rows = [json.loads(line) for line in fever_sample.read_text(encoding="utf-8").splitlines()]
    out = [{"id": r["id"], "label": r["output"][0]["answer"], "claim": r["input"]} for r in rows]
    random.Random(0).shuffle(out)  # the sample is sorted by label
    return out


@pytest.fixture(scope="session")
def xfever_dir(tmp_path_factory, claims) -> Path:
    return write_xfever(tmp_path_factory.mktemp("issue6") / "xfever", claims)


@pytest.fixture(scope="session")
def bert(tmp_path_factory, claims) -> Path:
    from harness.model.tiny import make_tiny_bert

    texts = [c["claim"] for c in claims] + [f"{lang} reportedly" for lang in XF_LANGS]
    return make_tiny_bert(
        tmp_path_factory.mktemp("issue6") / "bert", texts, hidden_size=64, intermediate_size=128
    )


@pytest.fixture(scope="session")
def trained(tmp_path_factory, bert, xfever_dir) -> Path:
    """`harness train-base --task fever` on the tiny folder (Table 4 flags overridden for speed)."""
    out = tmp_path_factory.mktemp("issue6") / "model"
    args = ["train-base", "--task", "fever", "--model", str(bert), "--data", str(xfever_dir)]
    args += ["--out", str(out), "--epochs", "6", "--batch-size", "16", "--lr", "3e-3", "--warmup-steps", "0"]
    args += ["--label-smoothing", "0", "--device", "cpu", "--quiet"]
    assert harness_cli(args) == 0
    return out


@pytest.fixture(scope="session")
def reproduced(tmp_path_factory, trained, xfever_dir) -> Path:
    out = tmp_path_factory.mktemp("issue6") / "table1"
    args = ["reproduce", "--table", "1", "--model", str(trained), "--dataset", str(xfever_dir)]
    args += ["--out", str(out), "--folders", "2", "--max-edits", "10", "--editor-opt", "max_steps=20", *QUICK]
    args += ["--train-langs", "de,fr"]
    assert harness_cli(args) == 0
    return out


def test_train_base_cli_improves_validation_accuracy(trained):
    record = json.loads((trained / "train_base.json").read_text(encoding="utf-8"))
    assert record["best_accuracy"] > record["initial_accuracy"]
    assert record["settings"]["epochs"] == 6 and record["settings"]["weight_decay"] == 0.01  # Table 4
    assert record["data"]["train"].endswith(":en/train") and (trained / "README.md").is_file()


def test_fever_examples_reread_after_an_in_place_rebuild(tmp_path, claims):
    from harness.train.data import load_fever_examples

    folder = write_xfever(tmp_path / "x", claims)
    before = load_fever_examples(str(folder), "validation")
    write_xfever(folder, claims[::-1])  # same folder, other rows
    after = load_fever_examples(str(folder), "validation")
    assert [e.id for e in after] == [str(c["id"]) for c in claims[::-1][110:150]]
    assert [e.id for e in before] != [e.id for e in after]


def test_reproduce_writes_every_editor_with_paper_rows_and_intervals(reproduced):
    md = (reproduced / "leaderboard.md").read_text(encoding="utf-8")
    names = [line.split("|")[1].strip() for line in md.splitlines()[2:] if line.startswith("| ")]
    for editor in ("Original model", "ft", "tpatcher", "mpn", "mpn-all"):
        assert editor in names
    assert "*T-patcher (paper)*" in names and "*MPN (all) (paper)*" in names
    assert names.index("*T-patcher (paper)*") == names.index("tpatcher") + 1  # side by side
    assert "±" in md and "de reph." in md  # intervals; CLG on translated rephrases
    record = json.loads((reproduced / "reproduce.json").read_text(encoding="utf-8"))
    assert [r["editor"] for r in record["runs"]] == ["ft", "tpatcher", "mpn", "mpn-all"]
    assert record["train_langs"] == ["de", "fr"] and "es (held-out)" in md and "Avg. held-out" in md
    ft = json.loads((reproduced / "runs" / "ft" / "results.json").read_text(encoding="utf-8"))
    assert ft["editor"]["settings"].get("train_langs") is None  # only the MPN editors are restricted
    # reproduce runs the reference preset by default: its run settings for every editor alike
    assert record["preset"] == "reference" and ft["editor"]["settings"]["preset"] == "reference"
    assert ft["dropout"] == "model" and ft["path"] == "full" and ft["config"]["folder_order"] == "random"
    frame = pd.read_csv(reproduced / "leaderboard.csv")
    assert set(frame.source) == {"ours", "paper"} and "reliability_ci_low" in frame.columns
    paper = frame[frame.model == "T-patcher (paper)"].iloc[0]
    assert paper.reliability == pytest.approx(98.75)


def test_reproduce_rerun_reuses_finished_runs(reproduced, trained, xfever_dir):
    """A second `reproduce` with the same command reuses every finished run instead of redoing it."""
    runs = {e: (reproduced / "runs" / e / "results.json").read_bytes() for e in ("ft", "tpatcher", "mpn")}
    args = ["reproduce", "--table", "1", "--model", str(trained), "--dataset", str(xfever_dir)]
    args += ["--out", str(reproduced), "--folders", "2", "--max-edits", "10", "--editor-opt", "max_steps=20"]
    assert harness_cli([*args, *QUICK, "--train-langs", "de,fr"]) == 0
    for editor, before in runs.items():
        assert (reproduced / "runs" / editor / "results.json").read_bytes() == before, editor


def test_reproduce_pins_revisions_like_every_command(capsys):
    """`ID@REV` and `--model-revision` / `--dataset-revision` are one convention (eval, reproduce)."""
    from harness.protocol.reproduce import table_config

    config = table_config(1, "org/mbert-fever@v2", "org/xfever@v1.0")
    assert (config.model, config.model_revision) == ("org/mbert-fever", "v2")
    assert (config.dataset, config.dataset_revision) == ("org/xfever", "v1.0")
    config = table_config(1, "org/m", "org/x", model_revision="abc", dataset_revision="v1.0")
    assert (config.model_revision, config.dataset_revision) == ("abc", "v1.0")
    with pytest.raises(UsageError, match="revision"):
        table_config(1, "org/m@v1", "org/x", model_revision="v2")
    assert harness_cli(["reproduce", "--help"]) == 0
    text = capsys.readouterr().out
    assert "--model-revision" in text and "--dataset-revision" in text


def test_every_metric_has_an_interval_around_its_estimate(reproduced):
    data = json.loads((reproduced / "runs" / "tpatcher" / "results.json").read_text(encoding="utf-8"))
    assert data["bootstrap"]["n_resamples"] == 300 and data["bootstrap"]["seed"] == 0
    for block in ("metrics", "original"):
        for key, entry in data[block].items():
            if key == "patch_num":
                continue
            low, high = entry["ci"]
            assert low - 1e-9 <= entry["value"] <= high + 1e-9, (block, key, entry)
    assert {"clg_avg", "clg_rephrase_de", "locality_train", "locality_test"} <= set(data["metrics"])


def test_compare_two_runs_and_refuse_different_rows(reproduced, tmp_path, trained, xfever_dir, capsys):
    runs = reproduced / "runs"
    out = tmp_path / "cmp"
    assert harness_cli(["compare", str(runs / "ft"), str(runs / "tpatcher"), "--out", str(out)]) == 0
    report = json.loads((out / "compare.json").read_text(encoding="utf-8"))
    rel = report["metrics"]["reliability"]
    assert rel["delta"] == pytest.approx(rel["b"] - rel["a"]) and 0 < rel["p_value"] <= 1
    assert rel["n_rows"] == 10 and "clg_avg" in report["metrics"]
    assert "| reliability |" in (out / "compare.md").read_text(encoding="utf-8")
    same = tmp_path / "same"
    assert harness_cli(["compare", str(runs / "mpn"), str(runs / "mpn"), "--out", str(same)]) == 0
    assert json.loads((same / "compare.json").read_text())["metrics"]["clg_avg"]["p_value"] == 1.0
    other = tmp_path / "other"
    args = ["eval", "--model", str(trained), "--dataset", str(xfever_dir), "--editor", "none"]
    assert harness_cli([*args, "--out", str(other / "r"), "--max-edits", "8", *QUICK]) == 0
    capsys.readouterr()
    assert harness_cli(["compare", str(runs / "ft"), str(other / "r"), "--out", str(tmp_path / "bad")]) == 1
    assert "different rows" in capsys.readouterr().err
    assert not (tmp_path / "bad" / "compare.json").exists()


def test_held_out_languages_are_marked(trained, xfever_dir, tmp_path):
    args = ["eval", "--model", str(trained), "--dataset", str(xfever_dir)]
    args += ["--editor", "mpn", "--editor-opt", "train_langs=de,fr", "--editor-opt", "max_steps=20"]
    run_args = ["--out", str(tmp_path / "runs" / "mpn-de-fr")]
    assert harness_cli([*args, "--folders", "2", "--max-edits", "10", *run_args, *QUICK]) == 0
    run = tmp_path / "runs" / "mpn-de-fr"
    data = json.loads((run / "results.json").read_text(encoding="utf-8"))
    metrics = data["metrics"]
    assert metrics["clg_avg_seen"]["value"] == pytest.approx(
        (metrics["clg_de"]["value"] + metrics["clg_fr"]["value"]) / 2
    )
    assert metrics["clg_avg_heldout"]["value"] == pytest.approx(metrics["clg_es"]["value"])
    assert "clg_avg_heldout" in data["original"] and metrics["clg_avg_seen"]["ci"]
    assert harness_cli(["leaderboard", str(run), "--out", str(tmp_path / "board")]) == 0
    head = (tmp_path / "board" / "leaderboard.md").read_text(encoding="utf-8").splitlines()[0]
    assert "de (seen)" in head and "fr (seen)" in head and "es (held-out)" in head
    assert "Avg. seen" in head and "Avg. held-out" in head


def test_all_wrong_subset(trained, xfever_dir, tmp_path):
    common = ["--model", str(trained), "--dataset", str(xfever_dir), *QUICK]
    assert (
        harness_cli(["eval", *common, "--editor", "none", "--out", str(tmp_path / "full"), "--folders", "1"])
        == 0
    )
    rows = pd.read_parquet(tmp_path / "full" / "rows.parquet")
    orig = rows[
        (rows.model == "original") & rows.metric.isin(["reliability", *(f"clg_{x}" for x in XF_LANGS)])
    ]
    expected = sorted(rid for rid, group in orig.groupby("row_id") if not group.correct.any())
    assert 0 < len(expected) < 40
    args = ["eval", *common, "--editor", "tpatcher", "--editor-opt", "max_steps=20", "--subset", "all-wrong"]
    assert harness_cli([*args, "--out", str(tmp_path / "wrong"), "--folders", "2"]) == 0
    data = json.loads((tmp_path / "wrong" / "results.json").read_text(encoding="utf-8"))
    assert data["dataset"]["subset"] == {
        "name": "all-wrong",
        "rows": len(expected),
        "of": 40,
        "langs": ["en", *XF_LANGS],
    }
    assert data["config"]["subset"] == "all-wrong"
    for key in ("reliability", "clg_de", "clg_fr", "clg_es", "clg_avg"):
        assert data["original"][key]["value"] == 0.0  # Table 3's original row
    edited = pd.read_parquet(tmp_path / "wrong" / "rows.parquet")
    assert sorted(edited[(edited.model == "edited") & (edited.metric == "reliability")].row_id) == expected
    assert (
        harness_cli(["leaderboard", str(tmp_path / "wrong"), "--out", str(tmp_path / "b"), "--compare-paper"])
        == 0
    )
    assert "Table 3" in (tmp_path / "b" / "leaderboard.md").read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def xnli_dirs(tmp_path_factory) -> tuple[Path, Path]:
    langs = ("en", "de", "sw", "zh")
    xnli = write_hub_folder(tmp_path_factory.mktemp("xnli6"), {lang: xnli_config(lang, 9) for lang in langs})
    premises = [f"p {i} {'yes' if i % 3 == 0 else 'no'}" for i in range(24)]
    train = nli(
        premises, [f"h {i}" for i in range(24)], [i % 3 for i in range(24)], pairID=list(map(str, range(24)))
    )
    mnli = write_hub_folder(tmp_path_factory.mktemp("mnli6"), {"default": {"train": train}})
    return xnli, mnli


def test_xnli_track_through_the_cli(tmp_path, bert, xnli_dirs):
    from harness.model.tiny import make_tiny_bert

    xnli, mnli = xnli_dirs
    words = [
        f"{lang} premise {i} hyp vp vh p h yes no" for lang in ("en", "de", "sw", "zh") for i in range(9)
    ]
    base = make_tiny_bert(tmp_path / "nli-bert", words, labels=("entailment", "neutral", "contradiction"))
    model = tmp_path / "nli"
    args = [
        "train-base",
        "--task",
        "xnli",
        "--model",
        str(base),
        "--data",
        str(mnli),
        "--validation-data",
        str(xnli),
    ]
    assert (
        harness_cli(
            [*args, "--out", str(model), "--epochs", "1", "--batch-size", "8", "--lr", "1e-3", "--quiet"]
        )
        == 0
    )
    record = json.loads((model / "train_base.json").read_text(encoding="utf-8"))
    assert record["settings"]["max_length"] == 128 and record["n_train"] == 24  # Table 4, XNLI column
    common = ["eval", "--task", "xnli", "--model", str(model), "--dataset", str(xnli)]
    common += ["--editor", "tpatcher", "--editor-opt", "max_steps=10", "--folders", "1", *QUICK]
    assert harness_cli([*common, "--memory-data", str(mnli), "--out", str(tmp_path / "mnli-memory")]) == 0
    assert (
        harness_cli([*common, "--memory-data", "locality", "--out", str(tmp_path / "locality-memory")]) == 0
    )
    data = json.loads((tmp_path / "mnli-memory" / "results.json").read_text(encoding="utf-8"))
    assert data["dataset"]["name"] == "xnli" and data["config"]["max_length"] == 128
    assert data["dataset"]["memory_source"].startswith(f"{mnli}:train (sample of 24")
    assert "mlg" not in data["metrics"] and "locality_validation" in data["metrics"]
    assert data["metrics"]["reliability"]["n"] == 9 and data["metrics"]["clg_sw"]["ci"]
    fallback = json.loads((tmp_path / "locality-memory" / "results.json").read_text(encoding="utf-8"))
    assert fallback["dataset"]["memory_source"].startswith("locality (validation)")
    assert (
        harness_cli(
            ["leaderboard", str(tmp_path / "mnli-memory"), "--out", str(tmp_path / "b"), "--compare-paper"]
        )
        == 0
    )
    head, _, *body = (tmp_path / "b" / "leaderboard.md").read_text(encoding="utf-8").splitlines()
    assert "MLG" not in head and head.count("Locality") == 1 and "| sw ↑ |" in head
    assert any(line.startswith("| *MPN (paper)* |") for line in body)


def test_xnli_alias_and_defaults():
    from harness.config import EvalConfig

    config = EvalConfig(model="m", dataset="xnli")
    assert (config.dataset, config.task, config.max_length) == ("facebook/xnli", "xnli", 128)
    config = EvalConfig(model="m", task="xnli", max_length=64)
    assert (config.dataset, config.max_length, config.subset) == ("facebook/xnli", 64, None)
    assert EvalConfig(model="m", dataset="d", subset="all-wrong").subset == "all-wrong"
