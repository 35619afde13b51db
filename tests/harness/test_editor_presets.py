"""Editor presets (issue 18, parts 1-2): the reference T-Patcher's behaviours, each option, the
failure diagnosis, the leaderboard's edit-success column and the run summary line."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from harness import EvalConfig, evaluate


@pytest.fixture(scope="module")
def suite(tiny_xfever):
    from harness.data.xfever import load_xfever_suite

    return load_xfever_suite(str(tiny_xfever))


def cached_view(tiny_model, suite, dropout="none"):
    from harness.model.loading import load_classifier
    from harness.model.views import CachedView

    return CachedView(load_classifier(str(tiny_model), suite.label_names), dropout=dropout)


def request_for(suite, view, seed=7):
    """An edit request for the first edit row, with the label flipped (so the edit is needed)."""
    from harness.data.suite import EditRow
    from harness.editors.base import EditRequest

    row = suite.edit[0]
    pred = int(view.predict([row.text])[0])
    label = 1 - pred
    edit_row = EditRow(row.id, row.text, row.label, row.rephrases)
    return EditRequest(row.id, row.text, label, "flipped", edit_row, (("en", row.text),), seed)


def memory_rows(q, n=300, seed=0):
    """Memory vectors around the edit's own direction, so the patch fires on some of them."""
    gen = torch.Generator().manual_seed(seed)
    scale = torch.rand(n, 1, generator=gen) * 1.6 - 1.0  # activations from -1 to 0.6 at init
    noise = torch.randn(n, q.numel(), generator=gen) * 0.02 * q.norm() / math.sqrt(q.numel())
    return scale * q[None, :] + noise


# -- the reference's loss, written out by hand ---------------------------------------------------


def hand_logits(model, q, k, b, value):
    """Last FFN + patch -> residual LayerNorm -> pooler -> classifier, from the model's weights."""
    from transformers.activations import ACT2FN

    layer = model.bert.encoder.layer[-1]
    act = ACT2FN[model.config.hidden_act]
    inter, dense, ln = layer.intermediate.base.dense, layer.output.dense.base, layer.output.LayerNorm
    ffn = act(q @ inter.weight.T + inter.bias) @ dense.weight.T + dense.bias
    pre = q @ k + b
    h = F.layer_norm(ffn + act(pre)[..., None] * value + q, ln.normalized_shape, ln.weight, ln.bias, ln.eps)
    pooled = torch.tanh(h @ model.bert.pooler.dense.weight.T + model.bert.pooler.dense.bias)
    return pooled @ model.classifier.weight.T + model.classifier.bias, pre


def hand_terms(model, q, mem, label, k, b, u, a, copies=8):
    """The reference (src/models/patch.py, class_modules.py) with its defaults: BCE - 0.1 entropy
    (here its 2-way softmax form), top5_exp activation loss, top1000_exp+top1000_exp memory loss over
    (memory row x copy) pairs with margins 3 / -3, weights 1 and 5."""
    logits, pre = hand_logits(model, q[None, :].expand(copies, -1), k, b, u * a)
    logp = logits.log_softmax(-1)
    ce = -logp[:, label].mean()
    entropy = -(logp.exp() * logp).sum(-1).mean()
    edit = ce - 0.1 * entropy
    act = torch.exp(0.0 - pre).topk(min(5, copies)).values.mean()
    his = (mem @ k + b)[:, None].expand(-1, copies)  # (memory, copy)
    l1 = torch.exp(his - pre[None, :] + 3.0).reshape(-1).topk(1000).values.mean()
    l2 = torch.exp(his - (-3.0)).reshape(-1).topk(1000).values.mean()
    return {"ce": edit, "act": act, "mem": l1 + l2, "total": edit + 1.0 * act + 5.0 * (l1 + l2)}


def run_editor(view, request, mem, **options):
    from harness.editors.memory import Memory
    from harness.editors.tpatcher import TPatcher

    view.bank.clear()
    memory = Memory(mem.clone(), index=False)
    view.reseed(request.seed)
    record = TPatcher(**options)(view, request, memory)
    return record, memory


def test_reference_loss_terms_at_init_and_after_steps(tiny_model, suite):
    view = cached_view(tiny_model, suite)
    request = request_for(suite, view)
    q = view.vectors(request.texts)[0]
    mem = memory_rows(q)
    model = view.model
    # the patch at initialisation, by hand: key q/|q|^2, bias 0, u ~ N(0,1) from the edit's seed, a = 10
    k = (q / q.pow(2).sum()).clone().requires_grad_(True)
    b = torch.zeros((), requires_grad=True)
    u = torch.randn(q.numel(), generator=torch.Generator().manual_seed(request.seed)).requires_grad_(True)
    a = torch.full((q.numel(),), 10.0, requires_grad=True)
    with torch.no_grad():
        init = {n: float(v) for n, v in hand_terms(model, q, mem, request.label, k, b, u, a).items()}
    assert init["act"] == pytest.approx(math.exp(-1.0), rel=1e-5)  # the key makes the edit's activation 1
    record, _ = run_editor(view, request, mem, preset="reference", max_steps=1)
    for name, value in init.items():
        assert record.losses[name] == pytest.approx(value, rel=1e-4, abs=1e-6), name
    # two Adam updates (lr 1e-2, weight decay 0.01, clip 5) by hand, then the third step's terms
    opt = torch.optim.Adam([k, b, u, a], lr=1e-2, weight_decay=0.01)
    for _ in range(2):
        total = hand_terms(model, q, mem, request.label, k, b, u, a)["total"]
        opt.zero_grad()
        total.backward()
        torch.nn.utils.clip_grad_norm_([k, b, u, a], 5.0)
        opt.step()
    with torch.no_grad():
        after = {n: float(v) for n, v in hand_terms(model, q, mem, request.label, k, b, u, a).items()}
    record, _ = run_editor(view, request, mem, preset="reference", max_steps=3)
    assert record.steps == 3
    for name, value in after.items():
        assert record.losses[name] == pytest.approx(value, rel=1e-4, abs=1e-6), name
    assert after["total"] < init["total"]


# -- each option ---------------------------------------------------------------------------------


def test_pairs_topk_is_top_125_rows_counted_8_times():
    from harness.editors.losses import pairs_topk_mean

    values = torch.randn(3000, dtype=torch.float64)
    brute = values[:, None].expand(-1, 8).reshape(-1).topk(1000).values.mean()
    assert float(pairs_topk_mean(values, 8, 1000)) == pytest.approx(float(brute), rel=1e-12)
    assert float(pairs_topk_mean(values, 8, 1000)) == pytest.approx(float(values.topk(125).values.mean()))
    assert float(pairs_topk_mean(values, 3, 1000)) == pytest.approx(
        float(values[:, None].expand(-1, 3).reshape(-1).topk(1000).values.mean()), rel=1e-12
    )
    small = torch.randn(50, dtype=torch.float64)  # fewer pairs than k: every pair
    assert float(pairs_topk_mean(small, 8, 1000)) == pytest.approx(float(small.mean()), rel=1e-12)


def test_vector_amplifier_shape():
    from harness.model.patch import PatchBank

    bank = PatchBank(16)
    assert bank.start(torch.ones(16), torch.ones(16), 10.0, vector_amp=True)["amp"].shape == (16,)
    bank.discard()
    assert bank.start(torch.ones(16), torch.ones(16), 10.0)["amp"].shape == ()


def test_early_stop_rule_and_schedule(tiny_model, suite):
    from harness.editors.losses import no_new_best

    assert not no_new_best([1.0], 1e-3)
    assert not no_new_best([1.0, 0.5], 1e-3)
    assert no_new_best([1.0, 0.9995], 1e-3)  # improved by less than the tolerance: no new best
    assert no_new_best([1.0, 0.5, 0.6], 1e-3)
    view = cached_view(tiny_model, suite)
    request = request_for(suite, view)
    mem = memory_rows(view.vectors(request.texts)[0])
    record, _ = run_editor(view, request, mem, preset="reference", max_steps=400)
    checks = record.info["checks"]
    assert [c["step"] for c in checks] == list(range(25, record.steps + 1, 25))
    if record.steps < 400:  # stopped early: at a check, from step 125 on, after two right checks
        assert record.steps % 25 == 0 and record.steps >= 150
        assert sum(c["right"] for c in checks if c["step"] >= 125) >= 2


def test_plateau_halves_lr(tiny_model, suite):
    view = cached_view(tiny_model, suite)
    request = request_for(suite, view)
    mem = memory_rows(view.vectors(request.texts)[0])
    # a learning rate too small to move the loss by 5 %: the second check without improvement
    # halves it (ReduceLROnPlateau's own rule; it skips changes below its eps 1e-8, so lr 1e-6)
    opts = dict(preset="reference", lr=1e-6, check_every=1, stop_start=10_000, max_steps=6)
    record, _ = run_editor(view, request, mem, **opts)
    lrs = [c["lr"] for c in record.info["checks"]]
    assert lrs[:3] == [1e-6] * 3
    assert lrs[3] == pytest.approx(0.5e-6)
    fast, _ = run_editor(view, request, mem, **(opts | {"preset": "fast", "lr_plateau": False}))
    assert "checks" not in fast.info  # fast: no checks, no schedule


def test_memory_copies_add_rows(tiny_model, suite):
    view = cached_view(tiny_model, suite)
    request = request_for(suite, view)
    mem = memory_rows(view.vectors(request.texts)[0])
    _, memory = run_editor(view, request, mem, preset="reference", max_steps=2)
    assert len(memory) == len(mem) + 8
    assert torch.equal(memory.added, memory.added[:1].expand(8, -1))
    _, memory = run_editor(view, request, mem, max_steps=2)
    assert len(memory) == len(mem) + 1


def test_preset_sets_options_and_explicit_ones_win():
    from common.errors import ToolkitError
    from harness.editors.ft import FineTune
    from harness.editors.tpatcher import TPatcher

    ref = TPatcher(preset="reference").settings()
    assert ref["preset"] == "reference" and ref["amp_shape"] == "vector" and ref["memory_copies"] == 8
    assert ref["mem_pairs"] and ref["lr_plateau"] and ref["early_stop"] == "reference"
    assert ref["edit_loss"] == "ce_entropy"
    assert TPatcher(preset="reference", memory_copies=1).settings()["memory_copies"] == 1
    assert TPatcher().settings()["preset"] == "fast" and TPatcher().settings()["amp_shape"] == "scalar"
    assert TPatcher(preset="reference").run_settings()["dropout"] == "model"
    assert TPatcher().run_settings()["dropout"] == "patch"
    with pytest.raises(ToolkitError):
        TPatcher(preset="paper")
    ft = FineTune(preset="reference")
    assert ft.settings()["params"] == "layer" and ft.settings()["copies"] == 8
    assert ft.settings()["max_steps"] == 2000 and ft.changes is None  # attention too: the full path
    assert FineTune().changes == "last_ffn"
    from harness.editors.registry import load_editor

    mpn = load_editor("mpn", {"preset": "reference"})  # MPN wraps T-Patcher: the preset reaches it
    assert mpn.settings["preset"] == "reference" and mpn.settings["multilingual"] == "one"
    assert mpn.run_settings["dropout"] == "model" and load_editor("mpn").run_settings["dropout"] == "patch"
    assert load_editor("ft", {"preset": "reference"}).changes is None


def test_ft_layer_params_are_the_last_layers_weight_matrices(tiny_model, suite):
    from harness.editors.ft import layer_weight_matrices
    from harness.model.loading import load_classifier
    from harness.model.views import FullView

    view = FullView(load_classifier(str(tiny_model), suite.label_names))
    params = layer_weight_matrices(view)
    assert len(params) == 6  # query, key, value, attention output, intermediate, output
    assert all(p.dim() == 2 for p in params)


def test_run_settings_resolve_from_editor():
    config = EvalConfig(model="m", dataset="d")
    resolved, record = config.resolve_run_settings({"dropout": "model", "head_dropout": "off"}, "tpatcher")
    assert resolved.dropout == "model" and resolved.head_dropout == "off"
    assert resolved.edit_rows == "all" and record["edit_rows"]["from"] == "default (fast)"
    assert record["dropout"] == {"value": "model", "from": "editor tpatcher"}
    explicit, record = config.replace(dropout="none").resolve_run_settings({"dropout": "model"}, "x")
    assert explicit.dropout == "none" and record["dropout"]["from"] == "explicit"


def test_head_dropout_off_keeps_classifier_dropout_in_eval(tiny_model, suite):
    from harness.model.loading import load_classifier
    from harness.model.views import FullView, head_dropouts

    view = FullView(load_classifier(str(tiny_model), suite.label_names), dropout="model", head_dropout=False)
    seen = []
    hook = view.model.classifier.register_forward_pre_hook(
        lambda m, a: seen.append((view.model.training, [d.training for d in head_dropouts(view.model)]))
    )
    view.forward(view.encode([("a claim",)]), train=True)
    hook.remove()
    assert seen == [(True, [False])]


def test_train_base_reference_loss_is_ce_minus_entropy():
    from harness.train.base import TrainSettings
    from harness.train.loop import training_loss

    logits = torch.tensor([[0.3, -1.2], [2.0, 0.5]])
    labels = torch.tensor([1, 0])
    p = logits.softmax(-1)
    ce = -(p[torch.arange(2), labels]).log().mean()
    entropy = -(p * p.log()).sum(-1).mean()
    loss = training_loss(TrainSettings(recipe="reference"))(logits, labels)
    assert float(loss) == pytest.approx(float(ce - 0.1 * entropy), rel=1e-6)
    # the binary reference: BCE with the logit difference minus 0.1 x Bernoulli entropy
    z = logits[:, 1] - logits[:, 0]
    bce = F.binary_cross_entropy_with_logits(z, labels.float())
    bern = torch.distributions.Bernoulli(logits=z).entropy().mean()
    assert float(loss) == pytest.approx(float(bce - 0.1 * bern), rel=1e-5)


# -- a run: diagnosis, summary line, leaderboard column, results --------------------------------


def test_failed_edits_are_diagnosed_and_shown(tmp_path, tiny_model, tiny_xfever):
    from harness.cli.evaluate import edit_summary
    from harness.report.leaderboard import leaderboard

    out = tmp_path / "run"
    config = EvalConfig(
        model=str(tiny_model),
        dataset=str(tiny_xfever),
        editor="tpatcher",
        editor_options={"max_steps": 1, "lr": 1e-9},  # no budget: edits fail
        folders=1,
        max_edits=8,
        progress=False,
        bootstrap_resamples=50,
        out_dir=str(out),
    )
    result = evaluate(config)
    needed = [s for s in result.steps if s["needed"]]
    failed = [s for s in needed if not s["success"]]
    assert failed, "no edit failed with one step"
    for step in failed:
        f = step["failure"]
        assert f["blocking"] in ("ce", "activation", "memory")
        assert set(f["terms"]) == {"ce", "activation", "memory"}
        assert f["act_edit"] == pytest.approx(1.0, abs=1e-3)  # the key's activation, unchanged
        assert f["act_memory_max"] is not None and -1.0 <= f["nearest_memory_cosine"] <= 1.0 + 1e-6
    assert all("failure" not in s for s in needed if s["success"])
    on_disk = [json.loads(line) for line in (out / "steps.jsonl").read_text().splitlines()]
    assert sum("failure" in s for s in on_disk) == len(failed)
    line = edit_summary(result.steps)
    assert line.startswith(f"edits: {len(needed)} attempted, {len(needed) - len(failed)} succeeded, ")
    assert f"{len(failed)} failed" in line
    assert result.run_settings["dropout"] == {"value": "patch", "from": "editor tpatcher"}
    board = leaderboard([out], tmp_path / "board")
    md = Path(board["md"]).read_text()
    header = md.splitlines()[0]
    assert "Reliability (en) ↑ | Edit success ↑" in header
    assert f"{len(needed) - len(failed)}/{len(needed)} (" in md


def test_reference_preset_run_records_its_settings(tmp_path, tiny_model, tiny_xfever):
    import jsonschema

    from common.schemas import load_schema

    config = EvalConfig(
        model=str(tiny_model),
        dataset=str(tiny_xfever),
        editor="tpatcher",
        editor_options={"preset": "reference", "max_steps": 30},
        folders=2,
        max_edits=6,
        progress=False,
        bootstrap_resamples=50,
        out_dir=str(tmp_path / "ref"),
    )
    result = evaluate(config)
    assert result.path == "full" and result.dropout == "model"
    rs = result.run_settings
    assert rs["dropout"]["value"] == "model" and rs["dropout"]["from"] == "editor tpatcher"
    assert rs["head_dropout"]["value"] == "off" and rs["folder_order"]["value"] == "random"
    assert rs["edit_rows"] == {"value": "rephrased", "from": "editor tpatcher", "dropped": 10}
    assert result.editor["settings"]["preset"] == "reference"
    assert result.editor["report"]["stop_memory"]["rows"] == 30  # the validation split
    assert result.dataset["validation_rows"] == 30
    data = json.loads((tmp_path / "ref" / "results.json").read_text())
    jsonschema.Draft202012Validator(load_schema("results", data["schema_version"])).validate(data)


def test_edit_rows_and_folder_order(suite):
    from harness.protocol.phases import edit_rows, folder_rows

    kept, dropped = edit_rows(suite, "rephrased")
    assert dropped == sum(not r.rephrases for r in suite.edit) > 0 and all(r.rephrases for r in kept)
    assert edit_rows(suite, "all") == (tuple(suite.edit), 0)
    rows = tuple(suite.edit)
    config = EvalConfig(model="m", dataset="d", folder_order="random", seed=3)
    shuffled = folder_rows(rows, config)
    assert sorted(r.id for r in shuffled) == sorted(r.id for r in rows) and shuffled != rows
    assert folder_rows(rows, config) == shuffled  # seeded
    assert folder_rows(rows, config.replace(seed=4)) != shuffled
    assert folder_rows(rows, config.replace(folder_order="contiguous")) == rows
