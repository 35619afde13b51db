"""CLI end to end, leaderboard and plot, bad input, golden values."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from common.errors import ToolkitError
from harness import EvalConfig, evaluate
from tests.support import harness_cli


def test_cli_end_to_end(tmp_path, tiny_model, tiny_xfever, capsys):
    common = ["--model", str(tiny_model), "--dataset", str(tiny_xfever)]
    common += ["--folders", "2", "--max-edits", "6", "--quiet"]
    runs_dir = tmp_path / "runs"
    config = tmp_path / "tp.yaml"
    config.write_text("editor_options:\n  max_steps: 40\n  lr: 0.02\nseed: 3\n", encoding="utf-8")
    tp = ["--editor", "tpatcher", "--config", str(config), "--editor-opt", "max_steps=30"]
    assert harness_cli(["eval", *common, *tp, "--out", str(runs_dir / "tpatcher-f2-s3")]) == 0
    mpn = ["--editor", "mpn-all", "--editor-opt", "max_steps=30"]
    assert harness_cli(["eval", *common, *mpn, "--out", str(runs_dir / "mpn-all-f2-s0")]) == 0
    ft = ["--editor", "ft", "--editor-opt", "lr=0.01", "--editor-opt", "max_steps=5"]
    assert harness_cli(["eval", *common, *ft, "--out", str(runs_dir / "ft-f2-s0")]) == 0
    runs = sorted((tmp_path / "runs").iterdir())
    assert [r.name for r in runs] == ["ft-f2-s0", "mpn-all-f2-s0", "tpatcher-f2-s3"]
    data = json.loads((tmp_path / "runs" / "tpatcher-f2-s3" / "results.json").read_text())
    assert (
        data["editor"]["settings"]["max_steps"] == 30 and data["editor"]["settings"]["lr"] == 0.02
    )  # flag wins
    assert data["seed"] == 3 and data["path"] == "cached" and data["status"] == "complete"
    for key in ("schema_version", "provenance", "model", "dataset", "timings", "dropout", "folders"):
        assert key in data
    assert data["model"]["revision"] and data["dataset"]["revision"]
    assert all("n" in m and "value" in m for m in data["metrics"].values())
    steps = (runs[2] / "steps.jsonl").read_text().splitlines()
    assert len(steps) == 6 and json.loads(steps[0])["folder"] == 0
    rows = pd.read_parquet(runs[2] / "rows.parquet")
    assert set(rows.model) == {"original", "edited"} and len(list((runs[2] / "folders").glob("*.json"))) == 2

    assert harness_cli(["leaderboard", *map(str, runs), "--out", str(tmp_path / "board")]) == 0
    md = (tmp_path / "board" / "leaderboard.md").read_text()
    header = "| Models/Methods | Patch Num. | Reliability (en) ↑ | Edit success ↑ | MLG ↑ | de ↑"
    assert md.splitlines()[0].startswith(header)
    assert "| Original model |" in md and "**" in md
    frame = pd.read_csv(tmp_path / "board" / "leaderboard.csv")
    assert list(frame.model) == ["Original model", "ft", "mpn-all", "tpatcher"]
    assert "clg_avg" in frame.columns and "locality_test" in frame.columns
    assert (tmp_path / "board" / "clg_by_language.png").read_bytes()[:4] == b"\x89PNG"


def test_cli_user_errors_exit_cleanly(tmp_path, tiny_model, tiny_xfever, capsys):
    base = [
        "eval",
        "--model",
        str(tiny_model),
        "--dataset",
        str(tiny_xfever),
        "--out",
        str(tmp_path / "run"),
        "--quiet",
    ]
    assert harness_cli([*base, "--editor", "tpatcherr"]) == 2
    err = capsys.readouterr().err
    assert "unknown editor" in err and "Did you mean 'tpatcher'" in err and "Traceback" not in err
    assert harness_cli([*base, "--label-map", "SUPPORTS=1,REFUTES=5"]) == 2
    assert "head has 2 logits" in capsys.readouterr().err
    assert harness_cli([*base, "--editor-opt", "nonsense=1"]) == 2
    assert "unknown option" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())  # a failed eval leaves no run folder behind


def test_label_mismatch_is_caught_before_any_edit(tmp_path, tiny_model, tiny_xfever):
    renamed = tmp_path / "model"
    shutil.copytree(tiny_model, renamed)
    cfg = json.loads((renamed / "config.json").read_text())
    cfg["label2id"] = {"LABEL_0": 0, "LABEL_1": 1}
    cfg["id2label"] = {"0": "LABEL_0", "1": "LABEL_1"}
    (renamed / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ToolkitError, match="label 'SUPPORTS' of the dataset is not in the model's label2id"):
        evaluate(EvalConfig(model=str(renamed), dataset=str(tiny_xfever), max_edits=2, progress=False))
    result = evaluate(
        EvalConfig(
            model=str(renamed),
            dataset=str(tiny_xfever),
            editor="none",
            max_edits=4,
            folders=1,
            label_map={"SUPPORTS": 0, "REFUTES": 1},
            progress=False,
        )
    )
    assert result.model["label_ids"] == {"SUPPORTS": 0, "REFUTES": 1}


def test_missing_config_or_split_named(tmp_path, tiny_xfever, tiny_model):
    broken = tmp_path / "broken"
    shutil.copytree(tiny_xfever, broken)
    card = (broken / "README.md").read_text()
    (broken / "README.md").write_text(
        card.replace("  - split: test\n    path: en/test-00000-of-00001.parquet\n", "")
    )
    # A dataset without en/test (built from an --edit-file alone) is evaluated without Locality Test
    result = evaluate(
        EvalConfig(model=str(tiny_model), dataset=str(broken), editor="none", max_edits=2, progress=False)
    )
    assert "locality_test" not in result.metrics and result.dataset["absent"] == ["locality_test"]
    with pytest.raises(ToolkitError, match=r"no config\(s\) \['zh'\]"):
        evaluate(EvalConfig(model=str(tiny_model), dataset=str(tiny_xfever), langs=("zh",), progress=False))


RAISER = """
from harness.editors.base import EditRecord
SEEN = []
class Flaky:
    changes = "last_ffn"
    def __call__(self, view, request, memory):
        SEEN.append(request.id)
        if len(SEEN) > {ok}:
            {fail}
        return EditRecord(edited=True, losses={{"ce": 0.1}})
"""


@pytest.mark.parametrize(
    "fail, message",
    [
        ("raise RuntimeError('boom')", "the editor raised RuntimeError: boom"),
        ("return EditRecord(losses={'ce': float('nan')})", "non-finite"),
    ],
)
def test_failing_editor_stops_with_context_and_keeps_finished_folders(
    tmp_path, tiny_model, tiny_xfever, fail, message
):
    from harness.protocol.run import evaluate as run_eval
    from harness.report.results import load_result

    config = EvalConfig(
        model=str(tiny_model),
        dataset=str(tiny_xfever),
        editor="tpatcher",
        max_edits=12,
        folders=3,
        progress=False,
    )
    first = run_eval(EvalConfig(**{**config.to_dict(), "editor": "none", "langs": None}))
    needed_first_folder = sum(s["needed"] for s in first.steps if s["folder"] == 0)
    path = tmp_path / "flaky.py"
    path.write_text(RAISER.format(ok=needed_first_folder, fail=fail), encoding="utf-8")
    out = tmp_path / "run"
    bad = EvalConfig(**{**config.to_dict(), "editor": f"{path}:Flaky", "out_dir": str(out), "langs": None})
    with pytest.raises(ToolkitError) as info:
        run_eval(bad)
    text = str(info.value)
    assert (
        message in text
        and "config 'en' split 'edit'" in text
        and "edit id '" in text
        and "flaky.py:Flaky" in text
    )
    data = load_result(out)
    assert data["status"] == "failed" and data["error"] == text
    assert [f["index"] for f in data["per_folder"]] == [0]
    folder = json.loads((out / "folders" / "folder_000.json").read_text())
    assert folder["rows"] == 4 and "reliability" in folder["metrics"]


def test_tiny_case_invariants(tiny_model, tiny_xfever):
    """A fixed tiny case (T-Patcher, one lifelong folder, 10 edits, no dropout), checked by what holds
    on any CPU and thread count: row counts, one patch per needed edit, edits that stick.

    It used to pin every accuracy after 300 optimiser steps; one flipped prediction (clg_de 0.4 on an
    AMD EPYC against 0.2 on Intel) failed it. Invariants and bounds do not flip."""
    result = evaluate(
        EvalConfig(
            model=str(tiny_model),
            dataset=str(tiny_xfever),
            editor="tpatcher",
            editor_options={"max_steps": 300},
            folders=1,
            max_edits=10,
            dropout="none",
            progress=False,
        )
    )
    edited, original = result.metrics, result.original
    counts = {"reliability": 10, "mlg": 12, "clg_de": 10, "clg_fr": 10, "clg_es": 10, "clg_avg": 30}
    counts |= {"clg_rephrase_de": 12, "locality_test": 49}
    for key, n in counts.items():
        assert edited[key]["n"] == original[key]["n"] == n, key
    assert edited["locality_train"]["n"] == len(result.rows.where(lambda k, _: k == "locality_train")) // 2
    needed = [s for s in result.steps if s["needed"]]
    assert edited["patch_num"]["value"] == len(needed) == edited["edit_success"]["n"] > 0
    assert all(s["patches_added"] == 1 for s in needed)
    assert edited["edit_success"]["value"] >= 0.8  # 300 steps fix (nearly) every edit of this case
    assert edited["reliability"]["value"] >= original["reliability"]["value"] + 0.3
    assert edited["locality_test"]["value"] >= original["locality_test"]["value"] - 0.1
    for entry in (*edited.values(), *original.values()):
        if "ci" in entry:
            assert entry["ci"][0] <= entry["value"] <= entry["ci"][1]


def test_label_map_contradicting_the_head_is_refused_unless_forced(tiny_model, tiny_xfever):
    """A --label-map that swaps the head's own named labels would score every row against the wrong
    logit (on a trained model Locality falls from ~100 % to ~0 %): refused, unless forced."""
    config = EvalConfig(
        model=str(tiny_model),
        dataset=str(tiny_xfever),
        editor="none",
        max_edits=2,
        folders=1,
        label_map={"SUPPORTS": 1, "REFUTES": 0},
        progress=False,
    )
    with pytest.raises(ToolkitError, match="but the model's label2id says SUPPORTS=0"):
        evaluate(config)
    forced = evaluate(config.replace(force_label_map=True))
    assert forced.model["label_ids"] == {"SUPPORTS": 1, "REFUTES": 0}
    assert forced.config["force_label_map"] is True


def test_edit_file_only_dataset_is_evaluated_without_locality(tmp_path, tiny_xfever, tiny_model, caplog):
    """A dataset built from an --edit-file alone has no en/train or en/test: the run gives every
    metric it can (reliability, MLG, CLG), marks both locality metrics absent, and says why the memory
    is empty and which build options would add the splits."""
    only_edit = tmp_path / "edit-only"
    shutil.copytree(tiny_xfever, only_edit)
    card = (only_edit / "README.md").read_text()
    for split in ("train", "validation", "test"):
        card = card.replace(f"  - split: {split}\n    path: en/{split}-00000-of-00001.parquet\n", "")
    (only_edit / "README.md").write_text(card)
    result = evaluate(
        EvalConfig(model=str(tiny_model), dataset=str(only_edit), max_edits=4, folders=1, progress=False)
    )
    assert result.status == "complete" and result.dataset["absent"] == ["locality_train", "locality_test"]
    assert not any(key.startswith("locality") for key in result.metrics)
    assert {"reliability", "mlg", "clg_avg"} <= set(result.metrics) and result.dataset["memory_rows"] == 0
    assert "--train-file/--test-file" in caplog.text and "memory is empty" in caplog.text
