"""The harness on a CUDA device (opt in: `pytest -m gpu`; skipped where torch sees no GPU).

On a GPU the cached and full paths may differ by kernel choice (about 1e-6 in the logits), so these
tests check closeness and that every piece runs on the device, not bitwise equality as on the CPU.
"""

from __future__ import annotations

import pytest
import torch

from harness import EvalConfig, evaluate

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]


@pytest.fixture(scope="module")
def suite(tiny_xfever):
    from harness.data.xfever import load_xfever_suite

    return load_xfever_suite(str(tiny_xfever))


def _views(tiny_model, suite):
    from harness.model.loading import load_classifier
    from harness.model.views import CachedView, FullView

    load = lambda: load_classifier(str(tiny_model), suite.label_names, device="cuda")  # noqa: E731
    return CachedView(load()), FullView(load())


def test_cached_logits_close_to_full_logits_on_cuda(tiny_model, suite):
    from harness.report.scoring import all_texts

    cached, full = _views(tiny_model, suite)
    texts = all_texts(suite, suite.edit)
    with torch.no_grad():
        a = full.forward(full.encode(texts)).logits
        b = cached.forward(cached.encode(texts)).logits
    assert a.device.type == b.device.type == "cuda"
    assert torch.allclose(a, b, atol=1e-4, rtol=0)


def test_tpatcher_edit_on_cuda_with_a_large_memory(tiny_model, suite):
    """A memory past the CPU int8 index's size stays on the GPU and is ranked by the fp32 scan."""
    from harness.editors.memory import INDEX_MIN_ROWS, Memory
    from harness.editors.tpatcher import TPatcher
    from harness.protocol.folders import make_request

    view, _ = _views(tiny_model, suite)
    label_ids = view.loaded.label_ids
    base = view.vectors([e.text for e in suite.locality["train"]])
    memory = Memory(base.repeat(-(-INDEX_MIN_ROWS // len(base)), 1))
    assert not memory.prepare() and memory.vectors.device.type == "cuda"
    row = next(r for r in suite.edit if view.predict([r.text])[0] != label_ids[r.label])
    view.reseed(0)
    record = TPatcher(max_steps=200)(view, make_request(row, label_ids, 0), memory)
    assert record.patches_added == 1 and memory.stats.calls > 0 and memory.stats.indexed == 0
    assert (
        memory.vectors.device.type == "cuda"
        and len(memory) == len(base) * -(-INDEX_MIN_ROWS // len(base)) + 1
    )


@pytest.mark.parametrize("editor", ["tpatcher", "mpn"])
def test_evaluate_on_cuda_agrees_with_the_full_path(tiny_model, tiny_xfever, editor):
    runs = {
        cache: evaluate(
            EvalConfig(
                model=str(tiny_model),
                dataset=str(tiny_xfever),
                editor=editor,
                editor_options={"max_steps": 60},
                folders=1,
                max_edits=4,
                device="cuda",
                cache=cache,
                progress=False,
            )
        )
        for cache in (True, False)
    }
    cached, full = runs[True], runs[False]
    assert (cached.path, full.path) == ("cached", "full")
    # kernels differ by shape on a GPU: allow one borderline row of difference
    differ = sum(a != b for a, b in zip(cached.rows.correct, full.rows.correct, strict=True))
    assert differ <= 1
