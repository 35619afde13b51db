"""Cached vs full path (issue 5), patch neurons, save/reload."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from harness import EvalConfig, evaluate

EDITS = 6
FAST = {"tpatcher": {"max_steps": 60}, "mpn": {"max_steps": 60}, "mpn-all": {"max_steps": 60}}
FAST |= {"ft": {"lr": 1e-2, "max_steps": 10}, "ft-mpn": {"lr": 1e-2, "max_steps": 10}, "none": {}}


@pytest.fixture(scope="session")
def loaded_suite(tiny_xfever):
    from harness.data.xfever import load_xfever_suite

    return load_xfever_suite(str(tiny_xfever))


def load(tiny_model, suite):
    from harness.model.loading import load_classifier

    return load_classifier(str(tiny_model), suite.label_names)


def all_texts(suite):
    from harness.report.scoring import all_texts as texts_of

    return texts_of(suite, suite.edit)


def test_cached_logits_equal_full_logits(tiny_model, loaded_suite):
    from harness.model.views import CachedView, FullView

    texts = all_texts(loaded_suite)
    full = FullView(load(tiny_model, loaded_suite))
    cached = CachedView(load(tiny_model, loaded_suite))
    with torch.no_grad():
        a = full.forward(full.encode(texts)).logits
        b = cached.forward(cached.encode(texts)).logits
    assert torch.allclose(a, b, atol=1e-5, rtol=0)
    assert torch.equal(full.predict(texts), cached.predict(texts))


def test_half_precision_checkpoint_loads_in_fp32(tmp_path, tiny_model, loaded_suite):
    """transformers 5 loads a bf16 checkpoint as bf16; the harness (fp32 patches, memory and cached
    vectors) must get fp32 weights, or the cached path fails on mixed dtypes."""
    import shutil

    from transformers import AutoModelForSequenceClassification

    from harness.model.views import CachedView, FullView

    half = tmp_path / "bf16"
    shutil.copytree(tiny_model, half)
    AutoModelForSequenceClassification.from_pretrained(str(tiny_model)).to(torch.bfloat16).save_pretrained(
        half
    )
    assert AutoModelForSequenceClassification.from_pretrained(str(half)).dtype == torch.bfloat16
    loaded = load(half, loaded_suite)
    assert {p.dtype for p in loaded.model.parameters()} == {torch.float32}
    texts = all_texts(loaded_suite)[:12]
    cached, full = CachedView(loaded), FullView(load(half, loaded_suite))
    with torch.no_grad():
        a = full.forward(full.encode(texts)).logits
        b = cached.forward(cached.encode(texts)).logits
    assert b.dtype == torch.float32
    assert torch.allclose(a, b, atol=1e-5, rtol=0)


def test_device_errors_name_the_option(tiny_model, loaded_suite, monkeypatch):
    from common.errors import ToolkitError
    from harness.model.loading import load_classifier

    with pytest.raises(ToolkitError, match="--device"):
        load_classifier(str(tiny_model), loaded_suite.label_names, device="gpu7")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # as on a machine without a GPU
    with pytest.raises(ToolkitError, match="no CUDA device"):
        load_classifier(str(tiny_model), loaded_suite.label_names, device="cuda")
    loaded = load_classifier(str(tiny_model), loaded_suite.label_names, device="auto")
    assert next(loaded.model.parameters()).device.type == "cpu"


def _path_cases() -> list:
    """Every editor x dropout; the default suite keeps two (MPN-all with patch dropout, FT), CI all."""
    kept = {("mpn-all", "patch"), ("ft", "none")}
    return [
        pytest.param(editor, dropout, marks=() if (editor, dropout) in kept else pytest.mark.slow)
        for editor in sorted(FAST)
        for dropout in ("none", "patch")
    ]


@pytest.mark.parametrize(("editor", "dropout"), _path_cases())
def test_cached_and_full_paths_agree(tiny_model, tiny_xfever, editor, dropout):
    runs = {}
    for cache in (True, False):
        runs[cache] = evaluate(
            EvalConfig(
                model=str(tiny_model),
                dataset=str(tiny_xfever),
                editor=editor,
                editor_options=FAST[editor],
                folders=2,
                max_edits=EDITS,
                dropout=dropout,
                cache=cache,
                progress=False,
            )
        )
    cached, full = runs[True], runs[False]
    assert (cached.path, full.path) == ("cached", "full")
    assert cached.rows.correct == full.rows.correct and cached.rows.row_id == full.rows.row_id
    assert cached.metrics == full.metrics
    assert [s.get("steps") for s in cached.steps] == [s.get("steps") for s in full.steps]


def _edit_rows(view, suite, label_ids, n=4, max_steps=60):
    from harness.editors.base import Memory
    from harness.editors.tpatcher import TPatcher
    from harness.protocol.folders import make_request

    editor = TPatcher(max_steps=max_steps)
    memory = Memory(view.vectors([e.text for e in suite.locality["train"]]))
    done = 0
    for row in suite.edit:
        request = make_request(row, label_ids, seed=0)
        if view.predict(request.texts)[0] == request.label:
            continue
        view.reseed(request.seed)
        editor(view, request, memory)
        done += 1
        if done == n:
            break
    return done


@pytest.mark.parametrize("dropout", ["none", "patch"])
def test_patched_logits_agree_across_paths(tiny_model, loaded_suite, dropout):
    """Patches trained on either path give the same predictions; the same patches, the same logits."""
    from harness.model.views import CachedView, FullView

    texts = all_texts(loaded_suite)
    views = {}
    for cls in (CachedView, FullView):
        loaded = load(tiny_model, loaded_suite)
        views[cls.path] = cls(loaded, dropout=dropout)
        assert _edit_rows(views[cls.path], loaded_suite, loaded.label_ids) == 4
        assert len(views[cls.path].bank) == 4
    cached, full = views["cached"], views["full"]
    assert torch.equal(cached.predict(texts), full.predict(texts))
    with torch.no_grad():
        trained_apart = (
            cached.forward(cached.encode(texts)).logits - full.forward(full.encode(texts)).logits
        ).abs()
        assert trained_apart.max() < 1e-3  # 4 x 60 Adam steps apart: float noise only
        for name in ("keys", "biases", "values"):
            setattr(full.bank, name, getattr(cached.bank, name).clone())
        same = (cached.forward(cached.encode(texts)).logits - full.forward(full.encode(texts)).logits).abs()
    assert same.max() <= 1e-5


def test_patch_is_an_extra_neuron(tiny_model, loaded_suite):
    """FFN'(q) = FFN(q) + act(q·k + b)·v at every position, with the model's activation."""
    from harness.model.views import FullView

    view = FullView(load(tiny_model, loaded_suite))
    layer = view.layer
    h = torch.randn(3, 5, view.bank.hidden_size)
    with torch.no_grad():
        before = layer.output.dense(layer.intermediate(h))
        key, value = torch.randn(view.bank.hidden_size), torch.randn(view.bank.hidden_size)
        view.bank.start(key, value, amp=2.0)
        view.bank.commit()
        after = layer.output.dense(layer.intermediate(h))
    act = layer.intermediate.act
    expected = before + act(h @ key)[..., None] * (2.0 * value)
    assert torch.allclose(after, expected, atol=1e-5)
    assert len(view.bank) == 1


def test_edited_model_saves_and_reloads(tmp_path, tiny_model, loaded_suite):
    from transformers import AutoModelForSequenceClassification

    from harness.model.patch import PATCH_FILE, load_edited, save_edited
    from harness.model.views import FullView

    loaded = load(tiny_model, loaded_suite)
    view = FullView(loaded)
    _edit_rows(view, loaded_suite, loaded.label_ids, n=3)
    texts = all_texts(loaded_suite)
    before = view.predict(texts)
    save_edited(view.model, tmp_path / "edited", loaded.tokenizer)
    assert (tmp_path / "edited" / PATCH_FILE).is_file()
    reloaded = load_edited(tmp_path / "edited")
    tok = loaded.tokenizer
    with torch.no_grad():
        enc = tok([t[0] for t in texts], truncation=True, max_length=32, padding=True, return_tensors="pt")
        again = reloaded(**enc).logits.argmax(-1)
        plain = AutoModelForSequenceClassification.from_pretrained(tmp_path / "edited").eval()(**enc).logits
    assert torch.equal(before, again)
    original = view.model  # still patched and usable after saving
    assert len(view.bank) == 3 and original is loaded.model
    assert not torch.equal(plain.argmax(-1), again), "the patches must change some predictions"


def test_memory_grows_with_edits(tiny_model, loaded_suite):
    from harness.editors.base import Memory
    from harness.editors.tpatcher import TPatcher
    from harness.model.views import CachedView
    from harness.protocol.folders import make_request

    loaded = load(tiny_model, loaded_suite)
    view = CachedView(loaded)
    memory = Memory(view.vectors([e.text for e in loaded_suite.locality["train"]]))
    row = next(r for r in loaded_suite.edit if view.predict([r.text])[0] != loaded.label_ids[r.label])
    record = TPatcher(max_steps=30)(view, make_request(row, loaded.label_ids, 0), memory)
    assert record.patches_added == 1 and len(memory) == len(loaded_suite.locality["train"]) + 1
    memory.reset()
    assert len(memory) == len(loaded_suite.locality["train"])


@pytest.mark.parametrize("path", ["cached", "full"])
def test_empty_memory_holds_the_edits(tiny_model, loaded_suite, path):
    """No memory texts (an empty train split): the memory starts as (0, hidden) on the model's device
    and the earlier edits' vectors join it, so the second edit's memory loss sees the first edit."""
    from harness.editors.base import Memory
    from harness.editors.tpatcher import TPatcher
    from harness.model.views import CachedView, FullView
    from harness.protocol.folders import make_request

    loaded = load(tiny_model, loaded_suite)
    view = (CachedView if path == "cached" else FullView)(loaded)
    memory = Memory(view.vectors([]))
    assert memory.vectors.shape == (0, view.bank.hidden_size)
    assert memory.vectors.device == view.device
    wrong = [r for r in loaded_suite.edit if view.predict([r.text])[0] != loaded.label_ids[r.label]]
    for row in wrong[:2]:
        record = TPatcher(max_steps=10)(view, make_request(row, loaded.label_ids, 0), memory)
        assert record.patches_added == 1
    assert len(memory) == 2 and memory.vectors.device == view.device


def test_dropout_model_takes_full_path(tiny_model, tiny_xfever):
    result = evaluate(
        EvalConfig(
            model=str(tiny_model),
            dataset=str(tiny_xfever),
            editor="tpatcher",
            editor_options={"max_steps": 20},
            folders=1,
            max_edits=3,
            dropout="model",
            progress=False,
        )
    )
    assert result.path == "full" and result.dropout == "model" and result.status == "complete"


def test_disk_cache_reused(tmp_path, tiny_model, tiny_xfever):
    common = dict(model=str(tiny_model), dataset=str(tiny_xfever), editor="none", folders=1, max_edits=4)
    first = evaluate(EvalConfig(**common, cache_dir=str(tmp_path / "c"), progress=False))
    files = sorted(Path(tmp_path / "c").glob("cls-*.pt"))
    assert len(files) == 2  # the scored texts, and the memory (drawn disjointly from locality rows)
    second = evaluate(EvalConfig(**common, cache_dir=str(tmp_path / "c"), progress=False))
    assert second.original == first.original


def test_encoding_progress_counts_texts(tiny_model, loaded_suite, capsys):
    """The encoding bar counts distinct texts (encoded batch by batch, or found cached), not groups."""
    from harness.model.encode import warm
    from harness.model.views import CachedView

    view = CachedView(load(tiny_model, loaded_suite), batch_size=8)
    texts = all_texts(loaded_suite)[:50]
    view.warm(texts[:5])  # cached before: counted at once, not encoded again
    encoded = warm(view, {"scored": texts[:30], "memory": texts[20:50]}, progress=True)
    assert encoded == {"scored": 25, "memory": 20}
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("encoding:")]
    assert lines and lines[-1].startswith("encoding: 50/50 text (100%)")
