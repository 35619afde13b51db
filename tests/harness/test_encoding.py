"""Encode once (issue 15): the encoder stops at the [CLS] input to the last FFN, the cached logits
still equal the full model's exactly, bf16 is an opt-in, and --threads changes no prediction."""

from __future__ import annotations

import json

import pytest
import torch

from harness import EvalConfig, evaluate


@pytest.fixture(scope="module")
def suite(tiny_xfever):
    from harness.data.xfever import load_xfever_suite

    return load_xfever_suite(str(tiny_xfever))


def loaded(tiny_model, suite):
    from harness.model.loading import load_classifier

    return load_classifier(str(tiny_model), suite.label_names)


def texts_of(suite):
    from harness.report.scoring import all_texts

    return all_texts(suite, suite.edit)


def test_encoding_stops_before_the_last_ffn(tiny_model, suite):
    from harness.model.patch import last_layer
    from harness.model.views import CachedView

    view = CachedView(loaded(tiny_model, suite), batch_size=16)
    ran: list[str] = []
    layer = last_layer(view.model)
    modules = {"last_ffn": layer.intermediate.base, "pooler": view.model.bert.pooler}
    modules["classifier"] = view.model.classifier
    hooks = [m.register_forward_hook(lambda *_, n=n: ran.append(n)) for n, m in modules.items()]
    try:
        vectors = view.cls_vectors(texts_of(suite)[:40])
        assert ran == [] and vectors.shape == (40, view.bank.hidden_size)
        view.predict(texts_of(suite)[:2])  # the view still runs them when it scores
        assert set(ran) == {"last_ffn", "pooler", "classifier"}
    finally:
        for hook in hooks:
            hook.remove()


def full_pass_vectors(view, texts):
    """[CLS] inputs to the last FFN taken from a whole forward pass (every layer, head included)."""
    taken = []
    hook = view.layer.intermediate.register_forward_pre_hook(lambda _m, a: taken.append(a[0][:, 0]))
    try:
        with torch.no_grad():
            for t in texts:
                view.model(**view.tokenize([t]))
    finally:
        hook.remove()
    return torch.cat(taken)


@pytest.mark.parametrize("threads", [1, pytest.param(2, marks=pytest.mark.slow)])
def test_stopped_encoding_is_exact(tiny_model, suite, threads):
    """Stopping at the last FFN changes no bit of the vectors, hence none of the cached logits; the
    cached logits match the full model's to float32 rounding, with the same predictions."""
    from common.device import torch_threads
    from harness.model.views import CachedView, FullView

    texts = texts_of(suite)[:32]  # one text per pass: 2 threads stall on a loaded machine
    with torch_threads(threads) as used, torch.no_grad():
        assert used.used == threads
        cached = CachedView(loaded(tiny_model, suite))
        stopped = torch.cat([cached.cls_vectors([t]) for t in texts])
        whole = full_pass_vectors(cached, texts)
        assert torch.equal(stopped, whole)
        from_stopped = cached.forward(stopped).logits
        assert torch.equal(from_stopped, cached.forward(whole).logits)
        full = FullView(loaded(tiny_model, suite))
        reference = torch.cat([full.forward(full.encode([t])).logits for t in texts])
        assert torch.allclose(from_stopped, reference, atol=1e-5, rtol=0)
        many = texts_of(suite)[:160]
        assert torch.equal(full.predict(many), cached.predict(many))


def test_threads_change_no_vector_beyond_rounding(tiny_model, suite):
    from common.device import torch_threads
    from harness.model.views import CachedView

    texts = texts_of(suite)
    out = {}
    for n in (1, 2):
        with torch_threads(n):
            view = CachedView(loaded(tiny_model, suite))
            out[n] = (view.cls_vectors(texts), view.predict(texts))
    assert torch.allclose(out[1][0], out[2][0], atol=1e-5, rtol=1e-5)
    assert torch.equal(out[1][1], out[2][1])


@pytest.mark.slow
def test_bf16_encoding_is_close_and_keyed_apart(tiny_model, suite, tmp_path):
    from harness.model.views import CachedView

    texts = texts_of(suite)
    exact = CachedView(loaded(tiny_model, suite)).cls_vectors(texts)
    bf16 = CachedView(loaded(tiny_model, suite), encode_dtype="bfloat16").cls_vectors(texts)
    assert bf16.dtype == torch.float32
    rel = ((bf16 - exact).norm(dim=1) / exact.norm(dim=1)).max()
    assert 0 < rel < 0.05, rel  # bf16 keeps 8 bits of mantissa: close, not equal
    common = dict(model=str(tiny_model), dataset=str(suite.dataset_id), editor="none", folders=1)
    common |= dict(max_edits=3, progress=False, cache_dir=str(tmp_path / "c"))
    evaluate(EvalConfig(**common))
    result = evaluate(EvalConfig(**common, encode_dtype="bfloat16"))
    assert len(list((tmp_path / "c").glob("cls-*.pt"))) == 4, "bf16 vectors never mix with fp32 ones"
    assert result.provenance["encoding"]["dtype"] == "bfloat16"
    assert result.config["encode_dtype"] == "bfloat16"


@pytest.mark.slow
def test_reproduce_encodes_once(tiny_model, tiny_xfever, tmp_path):
    from harness.protocol.reproduce import reproduce, table_config

    base = table_config(
        1, str(tiny_model), str(tiny_xfever), max_edits=3, progress=False, bootstrap_resamples=10
    )
    options = {"max_steps": 5}
    # the fast preset: the cached path, whose [CLS] vectors the runs share (reference takes the full path)
    paths = reproduce(
        1, base.replace(editor_options=options), tmp_path / "t", editors=("ft", "tpatcher"), preset="fast"
    )
    record = json.loads(paths["record"].read_text(encoding="utf-8"))
    assert record["encoding_cache"] == "cache"
    first, second = record["runs"]
    assert first["encoded_now"] > 0 and second["encoded_now"] == 0, record["runs"]
    results = json.loads((tmp_path / "t" / "runs" / "ft" / "results.json").read_text(encoding="utf-8"))
    assert results["provenance"]["threads"]["torch_threads"] == results["config"]["threads"] == 1
