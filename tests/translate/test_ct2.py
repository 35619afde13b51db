"""The CTranslate2 engine on the tiny models: conversion cache, same tokens as transformers."""

from __future__ import annotations

import json
import math

import pytest

from common.errors import ToolkitError
from common.identity import folder_sha256
from xfever.translate import DecodeSettings, Translator, load_translator
from xfever.translate.ct2 import CONVERSION_RECORD

ctranslate2 = pytest.importorskip("ctranslate2")

GREEDY_FP32 = DecodeSettings(
    batch_size=4, num_beams=1, max_len_ratio=1.0, max_len_extra=4, precision="fp32", device="cpu"
)


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("ct2_cache")


@pytest.fixture(scope="module")
def zh_ct2(tiny_multi, cache):
    return load_translator("zh", str(tiny_multi), engine="ct2", settings=GREEDY_FP32, cache_dir=cache)


def test_loads_converts_and_fills_info(zh_ct2, tiny_multi):
    assert isinstance(zh_ct2, Translator)
    assert zh_ct2.converted_now
    info = zh_ct2.info
    assert (info.engine, info.engine_version) == ("ct2", ctranslate2.__version__)
    assert (info.model_id, info.model_revision, info.model_revision_source) == (
        str(tiny_multi),
        None,
        "local",
    )
    assert info.model_sha256 == folder_sha256(tiny_multi)
    assert (info.target_token, info.device, info.precision) == (">>cmn_Hans<<", "cpu", "fp32")
    assert info.decoding["num_beams"] == 1
    record = json.loads((zh_ct2.model_dir / CONVERSION_RECORD).read_text())
    assert record["model_sha256"] == info.model_sha256 and record["quantization"] == "float32"


def test_conversion_cache_is_reused(zh_ct2, tiny_multi, cache, monkeypatch):
    import ctranslate2.converters

    def no_conversion(*args, **kwargs):
        raise AssertionError("converted again although the conversion is cached")

    monkeypatch.setattr(ctranslate2.converters, "TransformersConverter", no_conversion)
    again = load_translator("zh", str(tiny_multi), engine="ct2", settings=GREEDY_FP32, cache_dir=cache)
    assert not again.converted_now and again.model_dir == zh_ct2.model_dir
    assert [p.name for p in cache.iterdir()] == [zh_ct2.model_dir.name]  # no scratch folders left


def test_int8_is_the_cpu_default_and_cached_separately(tiny_single, cache, mixed_claims):
    settings = DecodeSettings(batch_size=4, num_beams=1, max_len_ratio=0.5, max_len_extra=2, device="cpu")
    de = load_translator("de", str(tiny_single), engine="ct2", settings=settings, cache_dir=cache)
    assert de.info.precision == "int8" and de.model_dir.name.endswith("--int8")
    assert de.info.target_token is None
    lengths = [len(row) for row in de.source_ids(mixed_claims)]
    outputs = de.translate_tokens(mixed_claims)
    sorted_lengths = sorted(lengths, reverse=True)
    for length, row in zip(lengths, outputs, strict=True):  # the per-batch cap, as in transformers
        assert len(row) <= math.ceil(0.5 * sorted_lengths[sorted_lengths.index(length) // 4 * 4]) + 2
    assert all(isinstance(text, str) for text in de.translate(mixed_claims))


def test_same_tokens_as_transformers_greedy_fp32(zh_ct2, tiny_multi, fever_claims, mixed_claims):
    hf = load_translator("zh", str(tiny_multi), settings=GREEDY_FP32)
    texts = mixed_claims + fever_claims[30:40]
    hf_ids, ct2_ids = hf.translate_ids(texts), zh_ct2.translate_ids(texts)
    assert len({len(row) for row in hf_ids}) > 3  # early stops, empty rows and capped loops alike
    assert ct2_ids == hf_ids
    assert zh_ct2.translate(texts) == hf.translate(texts)


def test_order_and_target_token(zh_ct2, tiny_multi, mixed_claims):
    one_by_one = [zh_ct2.translate_tokens([text])[0] for text in mixed_claims]
    batched = zh_ct2.translate_tokens(mixed_claims)
    for alone, together in zip(one_by_one, batched, strict=True):
        assert together[: len(alone)] == alone
    assert batched[0] == batched[4]
    source = zh_ct2.tokenizer.convert_ids_to_tokens(zh_ct2.source_ids(mixed_claims[:1])[0])
    assert source[0] == ">>cmn_Hans<<" and source[-1] == "</s>"


def test_errors(tiny_multi, tiny_single, cache):
    with pytest.raises(ToolkitError, match=r"'zh'.*>>yue<<.*>>cmn_Hans<<"):
        load_translator("zh", str(tiny_multi), engine="ct2", target_token=">>yue<<", cache_dir=cache)
    with pytest.raises(ToolkitError, match="multi-target"):
        load_translator("de", str(tiny_multi), engine="ct2", cache_dir=cache)
    with pytest.raises(ToolkitError, match="precision"):
        load_translator("de", str(tiny_single), engine="ct2", settings=DecodeSettings(precision="q4"))
    with pytest.raises(ToolkitError, match="precision.*int8_float16"):
        settings = DecodeSettings(device="cpu", precision="int8_float16")
        load_translator("de", str(tiny_single), engine="ct2", settings=settings, cache_dir=cache)


def test_missing_ctranslate2_is_a_clear_error(monkeypatch, tiny_single):
    import builtins

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "ctranslate2":
            raise ImportError("No module named 'ctranslate2'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(ToolkitError, match=r"xfever\[fast\]"):
        load_translator("de", str(tiny_single), engine="ct2")
