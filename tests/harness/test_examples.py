"""The example editors of examples/editors run through the real CLI and do what they say."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from harness.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "editors"


def cli(args: list[str]) -> int:
    with pytest.raises(SystemExit) as exc:
        main(args)
    return int(exc.value.code or 0)


@pytest.mark.parametrize(
    ("spec", "options"),
    [("one_step_patch.py:edit", []), ("replay_ft.py:ReplayFineTune", ["--editor-opt", "replay=2"])],
)
def test_example_editor_runs_and_edits(spec, options, tiny_model, tiny_xfever, tmp_path):
    out = tmp_path / "run"
    args = ["eval", "--model", str(tiny_model), "--dataset", str(tiny_xfever), "--out", str(out)]
    args += ["--editor", f"{EXAMPLES / spec}", *options, "--folders", "1", "--max-edits", "8", "--quiet"]
    assert cli(args) == 0
    result = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert result["status"] == "complete" and result["path"] == "cached"  # both declare last_ffn
    needed = [json.loads(line) for line in (out / "steps.jsonl").read_text().splitlines()]
    needed = [s for s in needed if s["needed"]]
    assert needed and result["metrics"]["edit_success"]["value"] > 0.5
    assert result["metrics"]["reliability"]["value"] > result["original"]["reliability"]["value"]
    if spec.startswith("replay"):
        assert result["editor"]["settings"]["replay"] == 2


def test_example_class_editor_state_round_trips(monkeypatch):
    """`state_dict()` / `load_state_dict()` of the class example: what a resumed run restores."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("replay_ft", EXAMPLES / "replay_ft.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "replay_ft", module)
    spec.loader.exec_module(module)
    editor = module.ReplayFineTune(replay=3)
    editor.buffer = [(("a claim",), 1), (("another",), 0)]
    again = module.ReplayFineTune(replay=3)
    again.load_state_dict(json.loads(json.dumps(editor.state_dict())))
    assert again.buffer == editor.buffer
    again.reset()
    assert again.buffer == []
