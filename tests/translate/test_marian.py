"""The transformers engine on tiny MarianMT checkpoints loaded through from_pretrained."""

from __future__ import annotations

import json
import math

import pytest
import transformers

from common.errors import ToolkitError
from common.identity import folder_sha256
from xfever.translate import DecodeSettings, Translator, load_translator

# A cap of about the source length keeps the loops of random weights short (fast tests).
GREEDY = DecodeSettings(batch_size=4, num_beams=1, max_len_ratio=1.0, max_len_extra=4, device="cpu")


@pytest.fixture(scope="module")
def zh(tiny_multi):
    return load_translator("zh", str(tiny_multi), settings=GREEDY)


def test_loads_through_factory_with_complete_info(zh, tiny_multi):
    assert isinstance(zh, Translator)
    info = zh.info
    assert info.engine == "transformers"
    assert info.engine_version == transformers.__version__
    assert info.model_id == str(tiny_multi)
    assert info.model_revision is None and info.model_revision_source == "local"
    assert info.model_sha256 == folder_sha256(tiny_multi)
    assert info.target_token == ">>cmn_Hans<<"  # the zh default
    assert (info.device, info.precision) == ("cpu", "fp32")
    assert info.decoding["num_beams"] == 1 and info.decoding["batch_size"] == 4
    json.dumps(info.to_dict())  # serialisable as is


def test_order_preserved_with_unsorted_mixed_lengths(zh, mixed_claims):
    one_by_one = [zh.translate_ids([text])[0] for text in mixed_claims]
    assert len({tuple(row) for row in one_by_one}) > 3, "outputs must differ per input for this test to bite"
    batched = zh.translate_ids(mixed_claims)
    stopped = 0
    for text, alone, together in zip(mixed_claims, one_by_one, batched, strict=True):
        # Alone, a row gets its own (smaller) cap; in a batch, the cap of the batch's longest row.
        alone_cap = len(zh.source_ids([text])[0]) + 4
        assert together[: len(alone)] == alone
        if len(alone) < min(alone_cap, zh.model_limit):  # it stopped on </s>: same output in a batch
            stopped += 1
            assert together == alone
    assert stopped >= 2
    texts = zh.translate(mixed_claims)
    assert texts[0] == texts[4]  # the duplicate lands at both of its positions
    assert len(texts) == len(mixed_claims) and all(isinstance(t, str) for t in texts)


def test_target_token_is_prepended(zh, tiny_multi, fever_claims):
    ids = zh.source_ids(fever_claims[:3])
    token_id = zh.tokenizer.convert_tokens_to_ids(">>cmn_Hans<<")
    assert all(row[0] == token_id and row[-1] == zh.tokenizer.eos_token_id for row in ids)
    hant = load_translator("zh", str(tiny_multi), settings=GREEDY, target_token=">>cmn_Hant<<")
    assert hant.info.target_token == ">>cmn_Hant<<"
    assert hant.source_ids(fever_claims[:1])[0][0] == zh.tokenizer.convert_tokens_to_ids(">>cmn_Hant<<")


def test_bad_target_token_names_language_model_and_codes(tiny_multi):
    with pytest.raises(ToolkitError, match=r"'zh'.*>>yue<<.*supported: >>cmn_Hans<<, >>cmn_Hant<<") as err:
        load_translator("zh", str(tiny_multi), target_token=">>yue<<")
    assert str(tiny_multi) in str(err.value)


def test_multi_target_model_without_token_is_an_error(tiny_multi):
    with pytest.raises(ToolkitError, match=r"'de'.*multi-target.*>>cmn_Hans<<"):
        load_translator("de", str(tiny_multi))  # de has no default token
    with pytest.raises(ToolkitError, match="multi-target"):
        load_translator("zh", str(tiny_multi), target_token="")


def test_single_target_model_rejects_a_token(tiny_single):
    with pytest.raises(ToolkitError, match="single-target"):
        load_translator("zh", str(tiny_single))  # zh default token, but the model has none


def test_length_cap_holds(tiny_single, mixed_claims):
    settings = DecodeSettings(batch_size=3, num_beams=1, max_len_ratio=0.5, max_len_extra=2, device="cpu")
    de = load_translator("de", str(tiny_single), settings=settings)
    assert de.info.target_token is None
    lengths = [len(row) for row in de.source_ids(mixed_claims)]
    outputs = de.translate_ids(mixed_claims)
    # Each row sits in a length-sorted batch whose cap comes from its longest row.
    sorted_lengths = sorted(lengths, reverse=True)
    for length, row in zip(lengths, outputs, strict=True):
        start = sorted_lengths.index(length) // 3 * 3
        cap = math.ceil(0.5 * sorted_lengths[start]) + 2
        assert len(row) <= cap
    assert any(len(row) == math.ceil(0.5 * length) + 2 for length, row in zip(lengths, outputs, strict=True))


def test_beam_default_comes_from_generation_config(tiny_single):
    settings = DecodeSettings(batch_size=2, max_len_ratio=1.0, max_len_extra=2, device="cpu")
    de = load_translator("de", str(tiny_single), settings=settings)
    assert de.info.decoding["num_beams"] == 2  # make_tiny_marian writes num_beams=2
    assert de.info.decoding["num_beams_from"] == "model generation config"
    assert len(de.translate(["A short claim.", "Another, somewhat longer claim about a film."])) == 2


def test_empty_input_and_bad_settings(zh, tiny_single):
    assert zh.translate([]) == []
    with pytest.raises(ToolkitError, match="engine"):
        load_translator("de", str(tiny_single), engine="marian-cpp")
    with pytest.raises(ToolkitError, match="precision"):
        load_translator("de", str(tiny_single), settings=DecodeSettings(precision="int8"))
    with pytest.raises(ToolkitError, match="fp16 needs a CUDA"):
        load_translator("de", str(tiny_single), settings=DecodeSettings(device="cpu", precision="fp16"))


def test_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(ToolkitError, match=r"language 'de': cannot load model"):
        load_translator("de", str(tmp_path / "no_such_model"))


@pytest.mark.slow
def test_uncached_hub_model_offline_is_a_clear_error(tmp_path, fever_sample):
    """Offline with an uncached Hub id: `error: ...` naming the language and model, no traceback."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    cmd = [sys.executable, "-m", "xfever.cli", "build", "--edit-file", str(fever_sample), "--langs", "de"]
    cmd += ["--model", "de=nobody/opus-mt-en-xx", "--out", str(tmp_path / "out"), "--quiet"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stderr
    assert "error: language 'de': cannot load model 'nobody/opus-mt-en-xx'" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()


def test_classifier_folder_is_refused_as_translation_model(tmp_path):
    """A BERT classifier folder given as an MT model: one clear line naming model type and class."""
    folder = tmp_path / "bert-classifier"
    folder.mkdir()
    config = {"model_type": "bert", "architectures": ["BertForSequenceClassification"]}
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    for engine in ("transformers", "ct2"):
        with pytest.raises(ToolkitError) as caught:
            load_translator("de", str(folder), engine=engine)
        message = str(caught.value)
        assert message.startswith(f"language 'de': cannot load model '{folder}': not a translation model")
        assert "'bert'" in message and "BertForSequenceClassification" in message
        assert "\n" not in message
