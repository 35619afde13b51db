"""Both engines on a CUDA device (opt in: `pytest -m gpu`; skipped where torch sees no GPU)."""

from __future__ import annotations

import pytest
import torch

from xfever.translate import DecodeSettings, load_translator

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]


def _settings(precision: str) -> DecodeSettings:
    return DecodeSettings(
        batch_size=4, num_beams=1, max_len_ratio=1.0, max_len_extra=4, device="cuda", precision=precision
    )


@pytest.mark.parametrize("precision", ["auto", "fp16", "fp32"])
def test_transformers_engine_on_cuda(tiny_multi, mixed_claims, precision):
    zh = load_translator("zh", str(tiny_multi), settings=_settings(precision))
    assert zh.info.device == "cuda"
    assert zh.info.precision == ("fp16" if precision == "auto" else precision)
    out = zh.translate(mixed_claims)
    assert len(out) == len(mixed_claims) and all(isinstance(t, str) for t in out)


@pytest.mark.parametrize("precision", ["auto", "fp16", "int8_float16"])
def test_ct2_engine_on_cuda(tiny_multi, mixed_claims, tmp_path, precision):
    zh = load_translator(
        "zh", str(tiny_multi), engine="ct2", settings=_settings(precision), cache_dir=tmp_path
    )
    assert zh.info.device == "cuda"
    assert zh.info.precision == ("fp16" if precision == "auto" else precision)
    out = zh.translate(mixed_claims)
    assert len(out) == len(mixed_claims) and all(isinstance(t, str) for t in out)
