"""A dataset folder rebuilt in place is read as it is now by every reader: train-base, eval, validate.

`datasets` caches a prepared copy of a local folder's config, and its dataset_info, under a key that
does not change when the folder is rebuilt; every reader loads through common.dataset_loading.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.support import harness_cli
from xfever.cli import main as xfever_main

SIZES_A = {"edit": 6, "train": 12, "validation": 6, "test": 6}
SIZES_B = {"edit": 8, "train": 16, "validation": 8, "test": 4}


def _xfever(args: list[str]) -> str:
    result = CliRunner().invoke(xfever_main, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def world(tmp_path_factory, fever_sample: Path, fever_claims: list[str]) -> dict:
    """KILT files of two different builds (other rows, other sizes), a tiny MT model, a tiny BERT."""
    from harness.model.tiny import make_tiny_bert
    from xfever.tiny import make_tiny_marian

    root = tmp_path_factory.mktemp("rebuilt")
    rows = [json.loads(line) for line in fever_sample.read_text(encoding="utf-8").splitlines()]
    mixed = [row for pair in zip(rows[:119], rows[119:], strict=False) for row in pair]  # both labels
    files: dict[str, dict[str, Path]] = {}
    start = 0
    for name, sizes in (("a", SIZES_A), ("b", SIZES_B)):
        files[name] = {}
        for split, size in sizes.items():
            path = root / name / f"{split}.jsonl"
            path.parent.mkdir(exist_ok=True)
            path.write_text("".join(json.dumps(r) + "\n" for r in mixed[start : start + size]), "utf-8")
            files[name][split] = path
            start += size
    marian = make_tiny_marian(root / "mt-de", fever_claims[:80], fever_claims[:80], vocab_size=120)
    bert = make_tiny_bert(root / "bert", fever_claims, seed=0)
    return {"files": files, "marian": marian, "bert": bert}


def _build(world: dict, name: str, out: Path, *extra: str) -> None:
    files = world["files"][name]
    args = ["build", "--langs", "de", "--model", f"de={world['marian']}", "--out", out]
    args += ["--edit-file", files["edit"], "--train-file", files["train"]]
    args += ["--validation-file", files["validation"], "--test-file", files["test"]]
    _xfever([*args, "--num-beams", "1", "--max-len-ratio", "0.5", "--device", "cpu", "--quiet", *extra])


def _train_base(world: dict, data: Path, out: Path) -> dict:
    args = ["train-base", "--task", "fever", "--model", str(world["bert"]), "--data", str(data)]
    args += ["--out", str(out), "--epochs", "1", "--batch-size", "8", "--warmup-steps", "0"]
    assert harness_cli([*args, "--device", "cpu", "--quiet"]) == 0
    return json.loads((out / "train_base.json").read_text(encoding="utf-8"))


def _eval(model: Path, data: Path, runs: Path, name: str) -> dict:
    args = ["eval", "--model", str(model), "--dataset", str(data), "--out", str(runs / name)]
    assert harness_cli([*args, "--editor", "none", "--folders", "1", "--quiet"]) == 0
    return json.loads((runs / name / "results.json").read_text(encoding="utf-8"))


def test_folder_rebuilt_in_place_is_trained_and_evaluated_on_its_new_rows(
    world: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Build, read it (train-base, eval, validate), rebuild it in place with other rows: every reader
    then sees the new rows (no split-size error naming the old sizes, no old rows from a cache)."""
    import datasets

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", str(tmp_path / "hf-datasets"))
    data = tmp_path / "xfever_data"
    _build(world, "a", data)
    first = _train_base(world, data, tmp_path / "model-a")
    assert (first["n_train"], first["n_validation"]) == (SIZES_A["train"], SIZES_A["validation"])
    result = _eval(tmp_path / "model-a", data, tmp_path / "runs", "a")
    assert result["dataset"]["rows"]["edit"] == SIZES_A["edit"]
    assert "en: train 12, validation 6, edit 6, test 6" in _xfever(["validate", data])

    _build(world, "b", data, "--overwrite")
    second = _train_base(world, data, tmp_path / "model-b")
    assert (second["n_train"], second["n_validation"]) == (SIZES_B["train"], SIZES_B["validation"])
    result = _eval(tmp_path / "model-b", data, tmp_path / "runs", "b")
    assert result["dataset"]["rows"] == {k: SIZES_B[k] for k in ("edit", "train", "test")}
    new_ids = {json.loads(line)["id"] for line in world["files"]["b"]["edit"].read_text().splitlines()}
    import pandas as pd

    scored = pd.read_parquet(tmp_path / "runs" / "b" / "rows.parquet")
    assert set(scored.loc[scored["metric"] == "reliability", "row_id"]) == new_ids
    assert "en: train 16, validation 8, edit 8, test 4" in _xfever(["validate", data])
