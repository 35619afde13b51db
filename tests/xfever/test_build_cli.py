"""End-to-end `xfever build` through click's CliRunner on tiny MarianMT stand-ins and real FEVER claims."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from xfever.cli import main
from xfever.schema import QA_COLUMNS

FAST = ["--num-beams", "1", "--max-len-ratio", "0.5", "--max-len-extra", "2", "--device", "cpu", "--quiet"]


def run(args: list[str]):
    return CliRunner().invoke(main, [str(a) for a in args])


def _load(out: Path, config: str, split: str, cache: Path):
    import datasets

    return datasets.load_dataset(str(out), config, split=split, cache_dir=str(cache))


def test_help_is_instant_and_imports_nothing_heavy() -> None:
    code = (
        "import sys, xfever.cli; print(any(m in sys.modules for m in ('torch', 'transformers', 'datasets')))"
    )
    assert (
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"
    )
    assert "build" in run(["--help"]).output


def test_small_build_layout_and_qa(built_small: Path, small_edit_file: Path, tmp_path: Path) -> None:
    record = json.loads((built_small / "build.json").read_text(encoding="utf-8"))
    assert record["configs"] == {
        "en": {"edit": 24},
        "de": {"edit": 24, "rephrases": 48},
        "zh": {"edit": 24, "rephrases": 48},
    }
    from common.identity import sha256_file

    assert record["inputs"][0]["sha256"] == sha256_file(small_edit_file)
    assert record["engines"]["zh"]["target_token"] == ">>cmn_Hans<<"
    assert record["engines"]["de"]["target_token"] is None
    # The tiny models' outputs are garbage: the QA must say so.
    for lang in ("de", "zh"):
        assert record["qa"][lang]["edit"]["flagged"] > 12
    rephrases = _load(built_small, "zh", "rephrases", tmp_path)
    assert rephrases.column_names[:5] == ["id", "rephrase_index", "label", "claim", "claim_en"]
    assert set(_load(built_small, "zh", "edit", tmp_path)["rephrase_index"]) == {None}
    assert rephrases[1]["claim_en"].startswith("Reportedly, ") and rephrases[1]["rephrase_index"] == 1
    en = _load(built_small, "en", "edit", tmp_path)
    assert len(en[0]["rephrases"]) == 2
    assert (built_small / "sentence_lengths.png").read_bytes().startswith(b"\x89PNG")
    card = (built_small / "README.md").read_text(encoding="utf-8")
    assert "![Sentence-length histograms per language](sentence_lengths.png)" in card
    assert "ROCLING 2023" in card and "Thorne" in card and "Petroni" in card
    assert str(built_small.parent) not in card  # no machine paths in the card
    assert not built_small.with_name(built_small.name + ".partial").exists()


def _strings(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, str):
        yield value


def test_build_json_names_no_machine_paths_and_is_readable(built_small: Path, small_edit_file: Path) -> None:
    """build.json is published with the card: local model folders and input files by name only."""
    record = json.loads((built_small / "build.json").read_text(encoding="utf-8"))
    assert [s for s in _strings(record) if Path(s).is_absolute()] == []
    assert record["settings"]["edit_file"] == small_edit_file.name
    env = record["run"]["environment"]
    assert env["python"].count(".") == 2 and env["packages"]["torch"] and env["packages"]["transformers"]
    assert "gpu" not in env  # the engines ran on the CPU: no GPU named, whatever the machine has
    assert record["settings"]["models"]["de"] == record["engines"]["de"]["model_id"] == "opus-mt-en-de"
    assert record["engines"]["de"]["model_sha256"]  # the content hash identifies the local model
    card = (built_small / "README.md").read_text(encoding="utf-8")
    assert "`opus-mt-en-de (local folder)`" in card
    # atomic writes must not leave mkstemp's owner-only mode on published files
    modes = {p.name: p.stat().st_mode & 0o777 for p in built_small.iterdir() if p.is_file()}
    assert modes["build.json"] == modes["sentence_lengths.png"] == modes["README.md"], modes


def test_ready_made_full_sample_zh(
    fever_sample: Path, fever_claims: list[str], models_for, tmp_path: Path
) -> None:
    out = tmp_path / "xfever_data"
    result = run(
        ["build", "--langs", "zh", "--edit-file", fever_sample, "--out", out, *models_for("zh"), *FAST]
    )
    assert result.exit_code == 0, result.output
    zh = _load(out, "zh", "edit", tmp_path / "cache")
    assert zh.num_rows == 239
    assert zh["claim_en"] == fever_claims
    ids = [json.loads(line)["id"] for line in fever_sample.read_text(encoding="utf-8").splitlines()]
    assert zh["id"] == ids
    assert list(zh.column_names[-len(QA_COLUMNS) :]) == list(QA_COLUMNS)
    assert sum(zh["qa_flagged"]) > 0
    assert run(["validate", out]).exit_code == 0


def test_split_mode(fever_sample: Path, models_for, tmp_path: Path) -> None:
    out = tmp_path / "split"
    args = ["build", "--langs", "ar", "--train", fever_sample, "--dev", fever_sample, "--split-seed", "3"]
    result = run([*args, "--out", out, *models_for("ar"), *FAST])
    assert result.exit_code == 0, result.output
    record = json.loads((out / "build.json").read_text(encoding="utf-8"))
    assert record["configs"]["en"] == {"train": 191, "validation": 23, "edit": 23, "test": 239}
    assert record["split"]["seed"] == 3 and record["split"]["leftover_rows_dropped"] == 2
    en_edit = _load(out, "en", "edit", tmp_path / "cache")
    ar_edit = _load(out, "ar", "edit", tmp_path / "cache")
    assert ar_edit["id"] == en_edit["id"] and ar_edit["claim_en"] == en_edit["claim"]
    assert record["engines"]["ar"]["target_token"] == ">>ara<<"
    # a second run with the same arguments finds the build already there
    again = run([*args, "--out", out, *models_for("ar"), *FAST])
    assert again.exit_code == 0 and "already holds this build" in again.output
    replaced = run([*args[:-1], "4", "--out", out, "--overwrite", *models_for("ar"), *FAST])
    assert replaced.exit_code == 0, replaced.output
    assert json.loads((out / "build.json").read_text(encoding="utf-8"))["split"]["seed"] == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "split"]  # nothing set aside is left


def test_local_model_counts_by_content_not_by_path(
    small_edit_file: Path, tiny_models: dict[str, Path], tmp_path: Path
) -> None:
    """A moved model folder is the same build; a model replaced in place is not (no stale 'up to date')."""
    import shutil

    model = tmp_path / "models" / "opus-mt-en-de"
    shutil.copytree(tiny_models["de"], model)
    out = tmp_path / "out"
    args = ["build", "--langs", "de", "--edit-file", small_edit_file, "--out", out, *FAST]
    assert run([*args, "--model", f"de={model}"]).exit_code == 0
    moved = tmp_path / "elsewhere" / "opus-mt-en-de"
    shutil.move(model, moved)
    again = run([*args, "--model", f"de={moved}"])
    assert again.exit_code == 0 and "already holds this build" in again.output
    config = json.loads((moved / "config.json").read_text(encoding="utf-8"))
    (moved / "config.json").write_text(json.dumps(config | {"note": "retrained"}), encoding="utf-8")
    replaced = run([*args, "--model", f"de={moved}"])
    assert replaced.exit_code == 1 and "holds a different build" in replaced.output


def _rows(tmp_path: Path, rows: list) -> Path:
    path = tmp_path / "in.jsonl"
    text = "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows)
    path.write_bytes(text.encode("utf-8", errors="surrogateescape"))  # "\udcff": a raw 0xFF byte
    return path


GOOD = {"id": "1", "input": "A claim .", "output": [{"answer": "SUPPORTS"}]}


@pytest.mark.parametrize(
    ("rows", "extra", "expected"),
    [
        ([GOOD, "{oops"], [], ["in.jsonl:2", "malformed JSON"]),
        ([{"id": "1", "output": [{"answer": "SUPPORTS"}]}], [], ["in.jsonl:1", "field 'input'"]),
        ([{"id": "1", "input": "x"}], [], ["in.jsonl:1", "field 'output'"]),
        ([{**GOOD, "input": ""}], [], ["in.jsonl:1", "empty claim"]),
        ([{**GOOD, "output": [{"answer": "TRUE"}]}], [], ["in.jsonl:1", "output[0].answer", "'TRUE'"]),
        ([GOOD, GOOD], [], ["in.jsonl:2", "duplicate id"]),
        ([GOOD], ["--langs", "de,xx"], ["unknown language code 'xx'"]),
        ([GOOD], ["--langs", "it"], ["missing model for language 'it'"]),
        ([GOOD], ["--model", "de=MISSING"], ["language 'de'", "cannot load model", "no such folder"]),
        ([GOOD], ["--edit-file", "NOFILE"], ["NOFILE", "cannot read"]),
        ([GOOD], ["--edit-file", "FOLDER"], ["not a file"]),
        (["\udcff"], [], ["in.jsonl", "not UTF-8"]),
        ([{**GOOD, "output": [{"answer": "NOT ENOUGH INFO"}]}], [], ["in.jsonl", "no SUPPORTS/REFUTES rows"]),
        ([{**GOOD, "rephrases": "one"}], [], ["in.jsonl:1", "field 'rephrases'"]),
    ],
    ids=[
        "json",
        "input",
        "output",
        "empty",
        "label",
        "dup",
        "lang",
        "nomodel",
        "badmodel",
        "path",
        "folder",
        "utf8",
        "only_nei",
        "rephrases",
    ],
)
def test_bad_input_clean_error_nothing_left(tmp_path: Path, rows: list, extra: list, expected: list) -> None:
    edit = _rows(tmp_path, rows)
    out = tmp_path / "out"
    extra = [
        e.replace("MISSING", str(tmp_path / "nope"))
        .replace("NOFILE", str(tmp_path / "no.jsonl"))
        .replace("FOLDER", str(tmp_path))
        for e in extra
    ]
    args = ["build", "--langs", "de", "--edit-file", edit, "--out", out, *FAST]
    result = run([*args, *extra])
    assert result.exit_code == (2 if "de,xx" in extra else 1), result.output  # usage: 2
    assert result.output.startswith("error: ") and "Traceback" not in result.output
    for part in expected:
        assert part.replace("NOFILE", "no.jsonl") in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]  # no output, no work folder


def test_usage_error_exit_2(tmp_path: Path) -> None:
    result = run(["build", "--edit-file", "x.jsonl", "--out", tmp_path / "o", "--model", "de"])
    assert result.exit_code == 2 and "LANG=VALUE" in result.output


def test_output_holding_a_different_build_is_refused(
    built_small: Path, small_edit_file: Path, models_for
) -> None:
    before = (built_small / "build.json").read_bytes()
    args = ["build", "--langs", "de", "--edit-file", small_edit_file, "--out", built_small]
    result = run([*args, *models_for("de"), *FAST])
    assert result.exit_code == 1
    assert "output folder holds a different build" in result.output and str(built_small) in result.output
    assert (built_small / "build.json").read_bytes() == before


def test_changed_input_file_is_a_different_build(fever_sample: Path, models_for, tmp_path: Path) -> None:
    edit = tmp_path / "edit.jsonl"
    lines = fever_sample.read_text(encoding="utf-8").splitlines()
    edit.write_text("\n".join(lines[:5]) + "\n", encoding="utf-8")
    args = ["build", "--langs", "ar", "--edit-file", edit, "--out", tmp_path / "o", *models_for("ar"), *FAST]
    assert run(args).exit_code == 0
    edit.write_text("\n".join(lines[:6]) + "\n", encoding="utf-8")  # same path and settings, new content
    again = run(args)
    assert again.exit_code == 1 and "holds a different build" in again.output


def test_environment_names_a_gpu_only_when_a_translator_used_one() -> None:
    from common.provenance import environment

    assert "gpu" not in environment(["cpu", "cpu"])
    gpu = environment(["cpu", "cuda"])["gpu"]  # the device's name, or why torch cannot tell it
    assert isinstance(gpu, str) and gpu


def test_label_is_a_class_label_in_card_files_and_loaded_rows(
    fever_sample: Path, models_for, tmp_path: Path
) -> None:
    """A fresh build's `label` is a ClassLabel (SUPPORTS, REFUTES) in the card's dataset_info, in every
    parquet file's Arrow schema and in the loaded rows: stratified splits and label alignment work, and
    the card's dataset_info lists each split's rows and sizes as push_to_hub would."""
    import datasets
    import pyarrow.parquet as pq
    from huggingface_hub import DatasetCard

    lines = fever_sample.read_text(encoding="utf-8").splitlines()
    train = tmp_path / "train.jsonl"
    train.write_text("\n".join(lines[:20] + lines[-20:]) + "\n", encoding="utf-8")  # both labels
    out = tmp_path / "out"
    args = ["build", "--langs", "de", "--train", train, "--dev", train, "--out", out, *models_for("de")]
    assert run([*args, *FAST]).exit_code == 0
    counts = json.loads((out / "build.json").read_text(encoding="utf-8"))["configs"]
    cache = str(tmp_path / "cache")
    for config, splits in counts.items():
        info = datasets.load_dataset_builder(str(out), config, cache_dir=cache).info
        assert info.features["label"].names == ["SUPPORTS", "REFUTES"]
        assert {s: info.splits[s].num_examples for s in splits} == splits
        for split in splits:
            arrow = pq.read_schema(out / config / f"{split}-00000-of-00001.parquet")
            assert datasets.Features.from_arrow_schema(arrow)["label"].names == ["SUPPORTS", "REFUTES"]
    en_train = datasets.load_dataset(str(out), "en", split="train", cache_dir=cache)
    parts = en_train.train_test_split(test_size=0.25, stratify_by_column="label", seed=0)
    assert set(parts["train"]["label"]) == set(parts["test"]["label"]) == {0, 1}
    aligned = en_train.align_labels_with_mapping({"refutes": 0, "supports": 1}, "label")
    assert aligned.features["label"].names == ["refutes", "supports"]
    assert aligned["label"] == [1 - v for v in en_train["label"]]
    card = DatasetCard.load(out / "README.md").data.to_dict()
    de = next(entry for entry in card["dataset_info"] if entry["config_name"] == "de")
    edit = {"name": "edit", "num_bytes": de["dataset_size"], "num_examples": counts["de"]["edit"]}
    assert de["splits"] == [edit] and de["dataset_size"] > 0
    assert de["download_size"] == (out / "de" / "edit-00000-of-00001.parquet").stat().st_size
