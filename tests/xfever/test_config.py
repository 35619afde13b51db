from __future__ import annotations

from pathlib import Path

import pytest

from common.errors import ToolkitError
from xfever.build import resolve_models
from xfever.config import BuildConfig
from xfever.translate.base import DecodeSettings


def test_round_trip_and_fingerprint() -> None:
    config = BuildConfig(out=Path("a"), langs=("de", "zh"), edit_file="e.jsonl", models=(("de", "m"),))
    again = BuildConfig.from_dict(config.to_dict())
    assert again == config
    assert (
        BuildConfig(
            out=Path("elsewhere"), langs=("de", "zh"), edit_file="e.jsonl", models=(("de", "m"),), quiet=True
        ).fingerprint()
        == config.fingerprint()
    )
    changed = BuildConfig(
        out=Path("a"),
        langs=("de", "zh"),
        edit_file="e.jsonl",
        models=(("de", "m"),),
        decode=DecodeSettings(num_beams=1),
    )
    assert changed.fingerprint() != config.fingerprint()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"langs": ("de", "xx")}, "unknown language code 'xx'"),
        ({"langs": ("de", "dee")}, "did you mean de"),
        ({"langs": ("en",)}, "source language"),
        ({"langs": ()}, "at least one"),
        ({"train": "t.jsonl"}, "not both"),
        ({"edit_file": None, "train_file": "t.jsonl"}, "need --edit-file"),
        ({"edit_file": None}, "no source"),
        ({"models": (("fr", "m"),)}, "not in --langs"),
    ],
)
def test_bad_settings(kwargs: dict, message: str) -> None:
    base = {"out": Path("o"), "langs": ("de",), "edit_file": "e.jsonl"}
    with pytest.raises(ToolkitError, match=message):
        BuildConfig(**{**base, **kwargs}).check()


def test_missing_model_for_a_language_without_default() -> None:
    config = BuildConfig(out=Path("o"), langs=("de", "it"), edit_file="e.jsonl")
    with pytest.raises(ToolkitError, match="missing model for language 'it': pass --model it="):
        resolve_models(config)
    assert resolve_models(BuildConfig(out=Path("o"), langs=("zh",), edit_file="e"))["zh"] == (
        "Helsinki-NLP/opus-mt-en-zh",
        None,
    )
