"""Sources longer than the model's position table are cut, not fatal, in both engines."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from xfever.tiny import make_tiny_marian
from xfever.translate import DecodeSettings, load_translator

POSITIONS = 32
SETTINGS = DecodeSettings(
    batch_size=4, num_beams=1, max_len_ratio=0.2, max_len_extra=1, device="cpu", precision="fp32"
)


@pytest.fixture(scope="module")
def short_positions(tmp_path_factory, fever_claims) -> Path:
    """A model whose position table (32) is shorter than its tokenizer's model_max_length (512)."""
    folder = make_tiny_marian(
        tmp_path_factory.mktemp("short_pos"), fever_claims[:80], fever_claims[:80], vocab_size=120,
        max_length=POSITIONS,
    )  # fmt: skip
    path = folder / "tokenizer_config.json"
    path.write_text(json.dumps(json.loads(path.read_text()) | {"model_max_length": 512}), encoding="utf-8")
    return folder


@pytest.mark.parametrize("engine", ["transformers", "ct2"])
def test_source_over_the_position_table_is_cut_and_warned(
    engine, short_positions, fever_claims, tmp_path, caplog
) -> None:
    """A source longer than max_position_embeddings (below the tokenizer's limit) is cut to the table."""
    if engine == "ct2":
        pytest.importorskip("ctranslate2")
    translator = load_translator(
        "de", str(short_positions), engine=engine, settings=SETTINGS, cache_dir=tmp_path
    )
    long = " ".join(fever_claims[:10])
    assert len(translator.tokenizer(long)["input_ids"]) > POSITIONS  # the test must bite
    caplog.set_level(logging.WARNING)
    ids = translator.source_ids([long, "Paris."])
    assert len(ids[0]) == POSITIONS and ids[0][-1] == translator.tokenizer.eos_token_id
    assert "reached the limit of 32 tokens" in caplog.text
    out = translator.translate([long, "Paris."])
    assert len(out) == 2 and all(isinstance(text, str) for text in out)
    assert translator.info.decoding["max_source_tokens"] == POSITIONS
