"""Session fixtures of the builder tests: tiny MarianMT stand-ins (de, fr, es; multi-target zh, ar)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from xfever.tiny import make_tiny_marian

# A few target-side sentences per language: the tiny models' SentencePiece vocabularies come from
# them, so the (random) outputs are at least made of that language's characters.
TARGET_TEXTS = {
    "de": [
        "Das ist ein Satz über einen Film .",
        "Die Stadt liegt in Deutschland .",
        "Er wurde 1950 geboren .",
    ],
    "fr": ["C'est une phrase sur un film .", "La ville est en France .", "Il est né en 1950 ."],
    "es": ["Es una frase sobre una película .", "La ciudad está en España .", "Nació en 1950 ."],
    "zh": ["这是一部关于电影的句子。", "这个城市在中国。", "他出生于一九五零年。", "這是繁體中文的句子。"],
    "ar": ["هذه جملة عن فيلم .", "المدينة في مصر .", "ولد في عام 1950 ."],
}
TARGET_TOKENS = {
    "zh": (">>cmn_Hans<<", ">>cmn_Hant<<", ">>yue_Hant<<"),
    "ar": (">>ara<<", ">>arz<<", ">>apc<<"),
}
LANGS = ("de", "fr", "es", "zh", "ar")

# Nothing here may reach the network (a bad model path must not turn into Hub retries).
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory, fever_claims: list[str]) -> dict[str, Path]:
    """lang -> folder of a tiny random MarianMT checkpoint in the opus-mt file layout."""
    root = tmp_path_factory.mktemp("tiny-marian")
    return {
        lang: make_tiny_marian(
            root / f"opus-mt-en-{lang}",
            fever_claims,
            TARGET_TEXTS[lang] * 20,
            target_tokens=TARGET_TOKENS.get(lang, ()),
            vocab_size=200,
            seed=index,
        )
        for index, lang in enumerate(LANGS)
    }


@pytest.fixture(scope="session")
def models_for(tiny_models: dict[str, Path]):
    """`models_for("de,zh")`: `--model LANG=PATH` for exactly the languages of that `--langs` value
    (an override for a language that is not built is refused)."""

    def args(langs: str) -> list[str]:
        return [arg for lang in langs.split(",") for arg in ("--model", f"{lang}={tiny_models[lang]}")]

    return args


@pytest.fixture(scope="session")
def small_edit_file(tmp_path_factory: pytest.TempPathFactory, fever_sample: Path) -> Path:
    """The first 24 real FEVER claims with two English rephrases each (made up: the claim re-cased)."""
    path = tmp_path_factory.mktemp("data") / "edit.jsonl"
    rows = [json.loads(line) for line in fever_sample.read_text(encoding="utf-8").splitlines()[:24]]
    for row in rows:
        row["rephrases"] = [f"It is said that {row['input']}", f"Reportedly, {row['input']}"]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def built_small(
    tmp_path_factory: pytest.TempPathFactory,
    small_edit_file: Path,
    models_for,
    small_args: list[str],
) -> Path:
    """A de + zh build of 24 edit rows with translated rephrases, through the CLI (read-only for tests)."""
    from click.testing import CliRunner

    from xfever.cli import main

    out = tmp_path_factory.mktemp("built") / "xfever_data"
    args = ["build", "--langs", "de,zh", "--edit-file", str(small_edit_file), "--out", str(out)]
    args += [*small_args, *models_for("de,zh")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return out


# Settings of `built_small`, shared with the resume test so that both are the same build.
# Greedy and a short output cap: the random models never stop on their own, so this bounds test time.
# `--device cpu`: the tests check CPU facts (int8 as ct2's `auto` precision, fp32), also on a GPU machine
FAST_ARGS = [
    "--num-beams",
    "1",
    "--max-len-ratio",
    "0.5",
    "--max-len-extra",
    "2",
    "--device",
    "cpu",
    "--quiet",
]
SMALL_ARGS = ["--translate-rephrases", "--shard-size", "8", *FAST_ARGS]


@pytest.fixture(scope="session")
def small_args() -> list[str]:
    """Build options of `built_small` (the resume test repeats them to make the very same build)."""
    return list(SMALL_ARGS)
