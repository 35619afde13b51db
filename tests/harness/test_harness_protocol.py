"""The sequential-edit protocol end to end on the tiny trained model (issue 4, "Tests (offline)")."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import EvalConfig, evaluate

pytestmark = pytest.mark.slow  # end to end over every editor; CI runs -m slow

MAX_EDITS = 16


def run(tiny_model: Path, tiny_xfever: Path, editor: str, **overrides):
    settings = dict(
        model=str(tiny_model),
        dataset=str(tiny_xfever),
        editor=editor,
        folders=2,
        max_edits=MAX_EDITS,
        seed=0,
        progress=False,
    )
    settings.update(overrides)
    return evaluate(EvalConfig(**settings))


@pytest.fixture(scope="session")
def results(tiny_model, tiny_xfever):
    out = {}
    out["none"] = run(tiny_model, tiny_xfever, "none")
    for editor in ("tpatcher", "mpn", "mpn-all"):  # a step cap below the default keeps the suite fast
        out[editor] = run(tiny_model, tiny_xfever, editor, editor_options={"max_steps": 500})
    # The reference lr (1e-5) barely moves a tiny model; a larger one shows FT's forgetting.
    out["ft"] = run(tiny_model, tiny_xfever, "ft", editor_options={"lr": 1e-2, "max_steps": 50})
    return out


def plain_accuracy(model_dir: Path, texts: list[str], labels: list[str]) -> float:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    model = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
    tok = AutoTokenizer.from_pretrained(model_dir)
    with torch.no_grad():
        enc = tok(texts, truncation=True, max_length=32, padding=True, return_tensors="pt")
        pred = model(**enc).logits.argmax(-1).tolist()
    return sum(model.config.id2label[p] == y for p, y in zip(pred, labels, strict=True)) / len(texts)


def test_original_row_is_plain_accuracy(results, tiny_model, tiny_xfever):
    from harness.data.xfever import load_xfever_suite

    suite = load_xfever_suite(str(tiny_xfever))
    rows = suite.edit[:MAX_EDITS]
    original = results["tpatcher"].original
    expected = plain_accuracy(tiny_model, [r.text[0] for r in rows], [r.label for r in rows])
    assert original["reliability"]["value"] == pytest.approx(expected)
    assert original["reliability"]["n"] == MAX_EDITS
    low, high = original["reliability"]["ci"]
    assert low <= original["reliability"]["value"] <= high
    test = suite.locality["test"]
    expected_test = plain_accuracy(tiny_model, [e.text[0] for e in test], [e.label for e in test])
    assert original["locality_test"]["value"] == pytest.approx(expected_test)
    de = plain_accuracy(tiny_model, [r.parallel["de"][0] for r in rows], [r.label for r in rows])
    assert original["clg_de"]["value"] == pytest.approx(de)
    assert 0.2 < expected < 0.8, "the fixture model must get some edit rows right and some wrong"


def test_none_editor_changes_nothing(results):
    none = results["none"]
    for key, entry in none.original.items():
        if key != "patch_num":
            assert none.metrics[key]["value"] == pytest.approx(entry["value"]), key
    assert none.metrics["patch_num"]["value"] == 0


@pytest.mark.parametrize("editor", ["tpatcher", "mpn", "mpn-all"])
def test_patchers_lift_reliability(results, editor):
    result = results[editor]
    assert result.original["reliability"]["value"] < 0.8
    assert result.metrics["reliability"]["value"] >= 0.9
    assert result.path == "cached" and result.dropout == "patch"


def test_ft_costs_more_locality_than_tpatcher(results):
    ft, tp = results["ft"].metrics, results["tpatcher"].metrics
    assert ft["locality_train"]["value"] < tp["locality_train"]["value"]
    assert tp["locality_train"]["value"] >= results["tpatcher"].original["locality_train"]["value"] - 0.05


def test_mpn_all_clg_at_least_tpatcher(results):
    for lang in ("de", "fr", "es"):
        key = f"clg_{lang}"
        assert results["mpn-all"].metrics[key]["value"] >= results["tpatcher"].metrics[key]["value"], key
    assert results["mpn-all"].metrics["clg_avg"]["value"] > results["tpatcher"].original["clg_avg"]["value"]


@pytest.mark.parametrize("editor", ["tpatcher", "mpn", "mpn-all"])
def test_patch_number_equals_edits_made(results, editor):
    result = results[editor]
    needed = [s for s in result.steps if s["needed"]]
    assert (
        result.metrics["patch_num"]["value"] == len(needed) == sum(s["patches_added"] for s in result.steps)
    )
    assert sum(f["patches"] for f in result.per_folder) == len(needed)
    assert len(result.steps) == MAX_EDITS


def test_mpn_decides_on_every_language(results):
    all_steps = results["mpn-all"].steps
    assert all(s["langs"] == ["en", "de", "fr", "es"] for s in all_steps)
    one_steps = results["mpn"].steps
    assert all(len(s["langs"]) == 2 and s["langs"][0] == "en" for s in one_steps)
    # a row is edited when any of its examples is mispredicted, and only then
    for step in all_steps + one_steps:
        assert step["needed"] == bool(step["wrong_langs"])
    assert any(s["needed"] and "en" not in s["wrong_langs"] for s in all_steps)


def test_per_row_correctness_kept(results):
    result = results["tpatcher"]
    frame = result.rows.to_frame()
    edited = frame[(frame.model == "edited") & (frame.metric == "reliability")]
    assert len(edited) == MAX_EDITS
    assert edited.correct.mean() == pytest.approx(result.metrics["reliability"]["value"])
    loc = frame[(frame.model == "edited") & (frame.metric == "locality_train")]
    # every folder scores every locality-train row: the 22 of 110 train rows the disjoint draw of
    # 10,000 locality and 40,000 memory rows gives them (harness.data.sampling.part_sizes)
    assert len(loc) == result.metrics["locality_train"]["n"] == 2 * 22


def test_train_langs_restricts_sampling(tiny_model, tiny_xfever):
    result = run(
        tiny_model, tiny_xfever, "mpn", max_edits=8, editor_options={"train_langs": "de", "max_steps": 50}
    )
    assert {tuple(s["langs"]) for s in result.steps} == {("en", "de")}
    assert result.editor["settings"]["train_langs"] == ["de"]
    assert result.editor["settings"]["max_steps"] == 50


def test_user_editor_from_file(tmp_path, tiny_model, tiny_xfever):
    code = (
        "from harness.editors.base import EditRecord\n"
        "CALLS = []\n"
        "def nudge(view, request, memory):\n"
        "    CALLS.append(request.id)\n"
        "    return EditRecord(edited=True, steps=1, losses={'x': 0.5})\n"
    )
    (tmp_path / "my_editor.py").write_text(code, encoding="utf-8")
    result = run(tiny_model, tiny_xfever, f"{tmp_path / 'my_editor.py'}:nudge", max_edits=6)
    assert result.path == "full"  # an editor that declares nothing takes the full path
    assert result.status == "complete"
    assert sum(s["needed"] for s in result.steps) == sum(s.get("edited", False) for s in result.steps)
    assert result.metrics["reliability"]["value"] == pytest.approx(result.original["reliability"]["value"])
