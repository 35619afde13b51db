"""The memory and its exact int8 top-row search (issue 5), and the cached path's FFN memo."""

from __future__ import annotations

import pytest
import torch

from harness.editors.memory import INDEX_MIN_ROWS, Memory

K = 50


def _memories() -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    n, h = 3000, 96
    iid = torch.randn(n, h, generator=gen)
    # [CLS]-like: a shared offset, a low-rank part, one outlier dimension, small noise
    basis = torch.randn(h, 8, generator=gen)
    cls = 4.0 + torch.randn(n, 8, generator=gen) @ basis.T * 0.5 + 0.05 * torch.randn(n, h, generator=gen)
    cls[:, 3] *= 40
    tiled = torch.randn(60, h, generator=gen).repeat(50, 1)  # every row 50 times: ties everywhere
    return {"iid": iid, "cls-like": cls, "tiled": tiled}


MEMORIES = _memories()


def _keys(rows: torch.Tensor) -> list[torch.Tensor]:
    gen = torch.Generator().manual_seed(1)
    h = rows.shape[1]
    return [
        torch.randn(h, generator=gen) * 0.03,
        rows[7] / rows[7].pow(2).sum(),  # T-Patcher's initial key: a memory row's own direction
        -rows[11] * 5,
        torch.randn(h, generator=gen) * 1e3,
    ]


def assert_superset(rows: torch.Tensor | None, memory: torch.Tensor, key: torch.Tensor, k: int) -> None:
    """Every row strictly above the k-th largest fp32 activation is returned, and at least k rows."""
    if rows is None:
        return
    values = memory @ key
    kth = values.topk(k).values[-1]
    must = set(torch.nonzero(values > kth).squeeze(1).tolist())
    got = set(rows.tolist())
    assert len(got) == len(rows) >= k
    assert must <= got, f"{len(must - got)} top rows missing"
    # and the top-k values over the returned rows are the top-k values over all rows
    assert torch.allclose(values[rows].topk(k).values, values.topk(k).values, rtol=0, atol=0)


@pytest.mark.parametrize("name", sorted(MEMORIES))
def test_int8_search_returns_a_superset_of_the_top_rows(name):
    rows = MEMORIES[name]
    memory = Memory(rows, index=True)
    for key in _keys(rows):
        found = memory.top_rows(key, K)
        assert_superset(found, rows, key, K)
    stats = memory.stats
    assert stats.indexed == stats.calls == 4
    # it must also be worth it: on these memories the search keeps a few times k rows at most
    assert stats.fallbacks == 0 and stats.mean_candidates() < 4 * K


def test_int8_search_falls_back_when_the_bound_admits_everything():
    # rows that differ by far less than the int8 step: the bound cannot separate them
    gen = torch.Generator().manual_seed(2)
    rows = (
        torch.randn(1, 64, generator=gen).repeat(2000, 1) * 1e3 + torch.randn(2000, 64, generator=gen) * 1e-3
    )
    memory = Memory(rows, index=True)
    key = torch.randn(64, generator=gen)
    found = memory.top_rows(key, K)
    assert memory.stats.fallbacks == 1
    assert torch.equal(torch.sort(found).values, torch.sort((rows @ key).topk(K).indices).values)


def test_zero_key_and_small_memories_rank_exactly():
    rows = MEMORIES["iid"]
    memory = Memory(rows, index=True)
    found = memory.top_rows(torch.zeros(rows.shape[1]), K)
    assert found is not None and len(found) == K  # the fp32 scan (every activation equal)
    assert Memory(rows[:K], index=True).top_rows(torch.ones(rows.shape[1]), K) is None  # every row
    auto = Memory(rows[: INDEX_MIN_ROWS // 2])  # small memories: plain fp32 scan, no index built
    auto.top_rows(torch.ones(rows.shape[1]), K)
    assert auto.stats.indexed == 0
    # the integer kernels are CPU ones: rows on another device (a GPU) never get an index, even forced
    elsewhere = Memory(torch.empty(INDEX_MIN_ROWS, rows.shape[1], device="meta"), index=True)
    assert not elsewhere.prepare()


def test_large_memory_keeps_the_search_that_was_faster_here_and_ranks_the_same(monkeypatch):
    """At INDEX_MIN_ROWS rows or more the int8 index and the fp32 scan are timed on the memory and
    the faster kept (on an AVX2-only CPU the index was 2x slower); either way the rows are the same."""
    import harness.editors.memory as memory_module

    gen = torch.Generator().manual_seed(2)
    rows = torch.randn(INDEX_MIN_ROWS, 64, generator=gen)
    key = torch.randn(64, generator=gen)
    exact = Memory(rows, index=False)
    assert not exact.prepare() and exact.search["method"] == "fp32 scan"
    auto = Memory(rows)
    used = auto.prepare()
    search = auto.search
    assert search["method"] in ("int8 index", "fp32 scan") and search["rows"] == INDEX_MIN_ROWS
    assert used == (search["method"] == "int8 index") == (search["int8_ms"] < search["fp32_ms"])
    assert_superset(auto.top_rows(key, K), rows, key, K)
    # each outcome of the timing, forced: the same top rows
    for faster in ("int8", "fp32"):
        monkeypatch.setattr(memory_module.Memory, "_calibrate", lambda self, index, f=faster: {
            "method": "int8 index" if f == "int8" else "fp32 scan", "reason": "forced"
        })  # fmt: skip
        forced = Memory(rows)
        assert forced.prepare() == (faster == "int8")
        got = forced.top_rows(key, K)
        assert torch.equal((rows @ key)[got].topk(K).values, (rows @ key).topk(K).values)
        assert forced.stats.indexed == (faster == "int8")


def test_add_reset_restore_keep_rows_and_index_in_step():
    rows = MEMORIES["cls-like"]
    base = rows[:2000].clone()
    memory = Memory(base, index=True)
    key = _keys(rows)[0]
    memory.top_rows(key, K)  # builds the index over the base rows
    extra = rows[2000:2010]
    hot = (key / key.norm() * 1e4)[None]  # fires more than any base row
    for chunk in (extra[:3], extra[3:], hot):
        memory.add(chunk)
    expected = torch.cat([base, extra, hot])
    assert torch.equal(memory.vectors, expected) and torch.equal(memory.added, expected[2000:])
    assert torch.equal(base, rows[:2000])  # the caller's tensor is never written
    found = memory.top_rows(key, K)
    assert len(memory) - 1 in found.tolist()
    assert_superset(found, memory.vectors, key, K)
    memory.reset()
    assert torch.equal(memory.vectors, base) and len(memory.added) == 0
    assert_superset(memory.top_rows(key, K), base, key, K)
    memory.restore(expected[2000:])
    assert torch.equal(memory.vectors, expected)
    assert_superset(memory.top_rows(key, K), expected, key, K)


def test_tpatcher_memory_loss_is_the_same_with_the_int8_search():
    from harness.editors.losses import top_memory_activations, topk_mean
    from harness.editors.tpatcher import TPatcher

    rows = MEMORIES["cls-like"]
    editor = TPatcher(mem_top_k=K)
    a_e = torch.randn(8, generator=torch.Generator().manual_seed(3))
    results = []
    for index in (True, False):
        memory = Memory(rows, index=index)
        key = torch.nn.Parameter(_keys(rows)[1].clone())
        patch = {"key": key, "bias": torch.nn.Parameter(torch.tensor(-0.5))}
        a_m = top_memory_activations(memory, patch, editor.s.mem_top_k)
        loss = topk_mean(torch.exp(a_m[:, None] - a_e[None, :] + 3.0), K) + topk_mean(torch.exp(a_m + 3.0), K)
        loss.backward()
        results.append((loss.detach(), key.grad.clone(), patch["bias"].grad.clone()))
    (l1, g1, b1), (l2, g2, b2) = results
    assert torch.allclose(l1, l2, rtol=1e-6, atol=0)
    assert torch.allclose(g1, g2, rtol=1e-5, atol=1e-6) and torch.allclose(b1, b2, rtol=1e-5, atol=0)


def test_editing_with_the_int8_search_matches_the_fp32_scan(tiny_model, tiny_xfever):
    """Sequential T-Patcher edits with a small top-k: the same steps and patches with or without it."""
    from harness.data.xfever import load_xfever_suite
    from harness.editors.tpatcher import TPatcher
    from harness.model.loading import load_classifier
    from harness.model.views import CachedView
    from harness.protocol.folders import make_request

    suite = load_xfever_suite(str(tiny_xfever))
    runs = []
    for index in (True, False):
        loaded = load_classifier(str(tiny_model), suite.label_names)
        view = CachedView(loaded, dropout="patch")
        memory = Memory(view.vectors([e.text for e in suite.locality["train"]]), index=index)
        editor = TPatcher(max_steps=40, mem_top_k=8)
        steps = []
        for row in suite.edit[:12]:
            request = make_request(row, loaded.label_ids, seed=0)
            if view.predict(request.texts)[0] == request.label:
                continue
            view.reseed(request.seed)
            steps.append(editor(view, request, memory).steps)
        runs.append((steps, view.bank.keys.clone(), memory.stats))
    (steps_a, keys_a, stats_a), (steps_b, keys_b, _) = runs
    assert stats_a.indexed > 0 and stats_a.indexed == stats_a.calls
    assert steps_a == steps_b and len(steps_a) >= 3
    assert torch.allclose(keys_a, keys_b, rtol=1e-4, atol=1e-5)


def test_ffn_memo_matches_the_modules_and_never_goes_stale(tiny_model, tiny_xfever):
    from harness.data.xfever import load_xfever_suite
    from harness.model.loading import load_classifier
    from harness.model.views import CachedView

    suite = load_xfever_suite(str(tiny_xfever))
    view = CachedView(load_classifier(str(tiny_model), suite.label_names))
    batch = view.encode([row.text for row in suite.edit[:10]])
    memo = view.forward(batch).logits
    assert len(view._memo.recent) == 1
    view._split_ffn = False  # through the patched modules, as the FT baseline and unknown FFNs go
    plain = view.forward(batch).logits
    view._split_ffn = True
    assert torch.allclose(memo, plain, rtol=0, atol=1e-6)
    weight = view.ffn_parameters()[2]
    with torch.no_grad():
        weight.mul_(0.5)  # an in-place change bumps the version: the memo must not be reused
    changed = view.forward(batch).logits
    view._split_ffn = False
    assert torch.allclose(changed, view.forward(batch).logits, rtol=0, atol=1e-6)
    assert not torch.allclose(changed, memo, atol=1e-3)


def test_integer_products_are_exact_on_packed_and_added_rows():
    """The level-1 products: oneDNN's prepacked int8 matmul (when present) and `torch._int_mm`."""
    from harness.editors.memory_index import _IntProducts

    gen = torch.Generator().manual_seed(4)
    q = torch.randint(-127, 128, (700, 96), generator=gen, dtype=torch.int8)
    levels = torch.randint(-63, 64, (2, 96), generator=gen).double()
    levels[0, :10] = 63
    levels[1, :10] = -63
    exact = (q.long() @ levels.long().t()).double()
    products = _IntProducts(q[:500])  # packs the first 500 rows (the base memory)
    assert products.packed is None or products.rows == 500  # packed only if it passed its own check
    assert torch.equal(products(q[:500], levels), exact[:500])
    assert torch.equal(products(q, levels), exact)  # rows added after packing: _int_mm for the rest
    assert torch.equal(products(q[:320], levels), exact[:320])  # truncated below the packed rows
    assert torch.equal(_IntProducts._int_mm(q, levels), exact)


def test_index_built_after_edits_forgets_them_on_reset():
    """An index built over base + added rows (packed copy included) must not reuse them after a reset."""
    rows = MEMORIES["cls-like"]
    memory = Memory(rows[:2000].clone(), index=True)
    key = _keys(rows)[0]
    hot = (key / key.norm() * 1e4)[None]
    memory.add(hot.repeat(K, 1))  # K rows that fire more than any base row
    assert set(range(2000, 2000 + K)) <= set(memory.top_rows(key, K).tolist())  # index built here
    memory.reset()
    cold = -hot.repeat(K, 1)  # the same slots, now rows that fire least
    memory.add(cold)
    found = memory.top_rows(key, K)
    assert_superset(found, memory.vectors, key, K)
    assert not set(range(2000, 2000 + K)) & set(found.tolist())


def test_kept_texts_pass_the_frozen_ffn_once_per_run(tiny_model, tiny_xfever):
    """Locality rows: their frozen-FFN output is computed once, reused by every later scoring (same
    logits to rounding as the modules), and dropped as soon as the FFN's weights move."""
    from harness.data.xfever import load_xfever_suite
    from harness.model.loading import load_classifier
    from harness.model.views import CachedView

    suite = load_xfever_suite(str(tiny_xfever))
    view = CachedView(load_classifier(str(tiny_model), suite.label_names), batch_size=4)
    kept = [e.text for e in suite.locality["test"]]
    other = [row.text for row in suite.edit[:7]]
    texts = other + kept
    view.keep_frozen(kept)
    computed = []
    base = view.layer.intermediate.base
    hook = base.register_forward_hook(lambda _m, args, _o: computed.append(int(args[0].shape[0])))
    try:
        first = view.logits(texts)
        n_first = sum(computed)
        second = view.logits(texts)
        n_second = sum(computed) - n_first
    finally:
        hook.remove()
    assert len(view._memo.by_text) == len(set(kept))
    assert n_first == len(texts) and n_second == len(other), "kept rows: the FFN ran once"
    assert torch.equal(first, second)
    view._split_ffn = False
    assert torch.allclose(first, view.logits(texts), rtol=0, atol=1e-5)
    view._split_ffn = True
    with torch.no_grad():
        view.ffn_parameters()[0].mul_(0.5)
    moved = view.logits(texts)
    view._split_ffn = False
    assert torch.allclose(moved, view.logits(texts), rtol=0, atol=1e-5)
    assert not torch.allclose(moved, first, atol=1e-3)
