"""The lexicon engine (synthetic languages) and `--engine module:Class` (users' own engines)."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner

from xfever.cli import main
from xfever.translate import load_translator
from xfever.translate.lexicon import FUNCTION_WORDS, synthesize

CLAIM = "Damon Albarn 's debut album was released in 2011 by the band ."


def _scripts(text: str) -> set[str]:
    return {unicodedata.name(ch).split()[0] for ch in text if unicodedata.category(ch).startswith("L")}


def test_close_languages_keep_names_and_map_function_words() -> None:
    for lang in ("de", "fr", "es"):
        out = synthesize(CLAIM, lang, "0")
        words = out.split()
        assert "Damon" in words and "Albarn" in words and "2011" in words, out
        assert not {"was", "the", "by", "in"} & set(words), out  # function words replaced
        assert "releas" in out and "released" not in words, out  # stem kept, suffix replaced


def test_far_languages_map_every_word_into_their_script() -> None:
    zh, ar = synthesize(CLAIM, "zh", "0"), synthesize(CLAIM, "ar", "0")
    assert _scripts(zh) == {"CJK"} and " " not in zh and "2011" in zh
    assert _scripts(ar) == {"ARABIC"} and "2011" in ar
    assert not re.search("[A-Za-z]", zh + ar)


def test_mapping_is_a_function_of_seed_language_and_word() -> None:
    assert synthesize(CLAIM, "de", "0") == synthesize(CLAIM, "de", "0")
    assert synthesize(CLAIM, "de", "0") != synthesize(CLAIM, "de", "1")
    assert synthesize(CLAIM, "de", "0") != synthesize(CLAIM, "fr", "0")
    # the same English word gets the same replacement in every sentence
    a, b = synthesize("Albarn was here", "zh", "3"), synthesize("Blur was there", "zh", "3")
    was = synthesize("was", "zh", "3")
    assert was in a and was in b
    assert len({synthesize(w, "zh", "0") for w in FUNCTION_WORDS}) == len(FUNCTION_WORDS)


def test_translator_records_that_it_is_synthetic() -> None:
    translator = load_translator("ar", "5", engine="lexicon")
    assert translator.translate([CLAIM]) == [synthesize(CLAIM, "ar", "5")]
    info = translator.info.to_dict()
    assert info["synthetic"] is True and info["engine"] == "lexicon" and info["decoding"]["seed"] == 5
    assert info["decoding"]["kind"] == "far"


def test_lexicon_refuses_a_model_that_is_not_a_seed() -> None:
    from common.errors import ToolkitError

    with pytest.raises(ToolkitError, match="language 'de'.*seed"):
        load_translator("de", "Helsinki-NLP/opus-mt-en-de", engine="lexicon")


def test_build_with_lexicon_engine_end_to_end(tmp_path: Path, fever_sample: Path) -> None:
    """`xfever build --engine lexicon`: no download, validated, build.json and card say synthetic."""
    import jsonschema

    out = tmp_path / "x"
    args = ["build", "--engine", "lexicon", "--train", str(fever_sample), "--out", str(out)]
    result = CliRunner().invoke(main, [*args, "--model", "zh=7"])
    assert result.exit_code == 0, result.output
    record = json.loads((out / "build.json").read_text(encoding="utf-8"))
    schema = json.loads((Path(__file__).parents[2] / "xfever" / "build-v2.schema.json").read_text())
    jsonschema.validate(record, schema)
    assert {lang: e["synthetic"] for lang, e in record["engines"].items()} == dict.fromkeys(
        ("de", "fr", "es", "zh", "ar"), True
    )
    assert record["engines"]["zh"]["decoding"]["seed"] == 7 and record["settings"]["engine"] == "lexicon"
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "Synthetic languages, not translations" in card
    assert CliRunner().invoke(main, ["validate", str(out)]).exit_code == 0
    refused = CliRunner().invoke(main, ["publish", str(out), "--repo-id", "org/xfever-test"])
    assert refused.exit_code == 2 and "synthetic" in refused.output  # refused before any Hub call


class FileEngine:
    """A user's engine: translations read from a JSON file {english: translation} (the README's example)."""

    def __init__(self, lang, model, *, settings=None, target_token=None):
        from xfever.translate.base import EngineInfo

        self.table = json.loads(Path(model).read_text(encoding="utf-8"))
        self.info = EngineInfo(
            "tests.translate.test_lexicon:FileEngine", "1", Path(model).name, None, None, "cpu", "n/a"
        )

    def translate(self, texts):
        return [self.table.get(text, text.upper()) for text in texts]


def test_engine_module_class_plugs_in_a_users_engine(tmp_path: Path, fever_sample: Path) -> None:
    first = json.loads(fever_sample.read_text(encoding="utf-8").splitlines()[0])
    table = tmp_path / "human-de.json"
    table.write_text(json.dumps({first["input"]: "Von Hand übersetzt ."}), encoding="utf-8")
    edit = tmp_path / "edit.jsonl"
    edit.write_text(json.dumps(first) + "\n", encoding="utf-8")
    out = tmp_path / "x"
    args = ["build", "--engine", "tests.translate.test_lexicon:FileEngine", "--langs", "de"]
    result = CliRunner().invoke(
        main, [*args, "--edit-file", str(edit), "--model", f"de={table}", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    import pyarrow.parquet as pq

    rows = pq.read_table(next((out / "de").glob("edit-*.parquet"))).to_pylist()
    assert rows[0]["claim"] == "Von Hand übersetzt ."
    record = json.loads((out / "build.json").read_text(encoding="utf-8"))
    assert record["engines"]["de"]["engine"] == "tests.translate.test_lexicon:FileEngine"
    assert record["engines"]["de"]["synthetic"] is False
    # the file's content is part of the build's identity: another table, another fingerprint
    table.write_text(json.dumps({first["input"]: "Anders ."}), encoding="utf-8")
    again = CliRunner().invoke(
        main, [*args, "--edit-file", str(edit), "--model", f"de={table}", "--out", str(out)]
    )
    assert again.exit_code == 1 and "different build" in again.output


@pytest.mark.parametrize(
    ("engine", "message"),
    [
        ("nmt", "unknown engine 'nmt'"),
        ("no_such_module_x:Engine", "cannot import module 'no_such_module_x'"),
        ("xfever.translate.lexicon:Nope", "has no 'Nope'"),
    ],
)
def test_bad_engine_is_one_clear_error(tmp_path: Path, fever_sample: Path, engine: str, message: str) -> None:
    args = [
        "build",
        "--engine",
        engine,
        "--langs",
        "de",
        "--train",
        str(fever_sample),
        "--out",
        str(tmp_path / "x"),
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2 and message in result.output, result.output
