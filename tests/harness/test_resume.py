"""Resumable evaluation (issue 7 part 3): kill a run after k edit rows, rerun, get the same outputs."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from harness import EvalConfig, evaluate
from harness.cli import main as harness_main
from harness.protocol import folders as protocol_module
from harness.protocol.checkpoint import CHECKPOINT_DIR, CHECKPOINT_FILE, RunInterrupted

MAX_EDITS = 10
EVERY = 2
# Ctrl-C at this edit row (by folders): an even count is checkpointed, so the row before the
# interrupted one is logged in steps.jsonl after the last checkpoint (and dropped on resume).
KILL_AT = {1: 8, 2: 9}  # folders=2: rows 0-4 in folder 0, then 3 rows of folder 1
TIMING_KEYS = {"seconds"}


def config(tiny_model: Path, tiny_xfever: Path, out: Path, editor: str, folders: int) -> EvalConfig:
    return EvalConfig(
        model=str(tiny_model),
        dataset=str(tiny_xfever),
        editor=editor,
        editor_options={"max_steps": 40},
        folders=folders,
        max_edits=MAX_EDITS,
        progress=False,
        out_dir=str(out),
        checkpoint_every=EVERY,
    )


class Counting:
    """Wraps protocol._edit_one: counts calls, raises KeyboardInterrupt (Ctrl-C) at call `kill_at`."""

    def __init__(self, kill_at: int | None = None) -> None:
        self.real = protocol_module._edit_one
        self.calls = 0
        self.kill_at = kill_at

    def __call__(self, *args, **kwargs):
        self.calls += 1
        if self.calls == self.kill_at:
            raise KeyboardInterrupt
        return self.real(*args, **kwargs)


def comparable_results(run_dir: Path) -> dict:
    """results.json without the fields that measure time."""
    data = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
    for key in ("timings", "provenance"):
        data.pop(key)
    data["config"].pop("out_dir")
    data["per_folder"] = [{k: v for k, v in f.items() if k not in TIMING_KEYS} for f in data["per_folder"]]
    return data


def steps_without_timings(run_dir: Path) -> list[dict]:
    lines = (run_dir / "steps.jsonl").read_text(encoding="utf-8").splitlines()
    return [{k: v for k, v in json.loads(line).items() if k not in TIMING_KEYS} for line in lines]


def rows_frame(run_dir: Path):
    import pandas as pd

    return pd.read_parquet(run_dir / "rows.parquet")


@pytest.mark.parametrize(
    ("editor", "folders"),
    [
        ("tpatcher", 2),
        *(pytest.param(e, f, marks=pytest.mark.slow) for e, f in (("tpatcher", 1), ("mpn", 1), ("mpn", 2))),
    ],
)
def test_killed_run_resumes_to_identical_results(
    tiny_model, tiny_xfever, tmp_path, monkeypatch, editor, folders
):
    whole = tmp_path / "whole"
    evaluate(config(tiny_model, tiny_xfever, whole, editor, folders))

    killed = tmp_path / "killed"
    cfg = config(tiny_model, tiny_xfever, killed, editor, folders)
    kill_at = KILL_AT[folders]
    monkeypatch.setattr(protocol_module, "_edit_one", Counting(kill_at=kill_at))
    with pytest.raises(RunInterrupted, match="rerun the same command to resume"):
        evaluate(cfg)
    assert not (killed / "results.json").exists()
    meta = json.loads((killed / CHECKPOINT_DIR / CHECKPOINT_FILE).read_text(encoding="utf-8"))
    written = len((killed / "steps.jsonl").read_text(encoding="utf-8").splitlines())
    assert written == kill_at - 1
    saved = (meta["folder"] * MAX_EDITS // folders) + meta["rows"]  # folders split evenly here
    assert saved == kill_at - 2, "a checkpoint every 2 rows of a folder: the last row is after it"

    again = Counting()
    monkeypatch.setattr(protocol_module, "_edit_one", again)
    evaluate(cfg)
    assert again.calls == MAX_EDITS - saved, "the rerun continued from the checkpoint"
    assert comparable_results(killed) == comparable_results(whole)
    assert steps_without_timings(killed) == steps_without_timings(whole)
    assert rows_frame(killed).equals(rows_frame(whole))
    assert not (killed / CHECKPOINT_DIR).exists(), "a complete run keeps no checkpoint"
    assert json.loads((killed / "results.json").read_text())["metrics"]["patch_num"]["value"] > 0


@pytest.mark.slow
def test_ft_resumes_with_its_changed_weights(tiny_model, tiny_xfever, tmp_path, monkeypatch):
    """FT changes the FFN weights: those must come back from the checkpoint, exactly."""
    options = {"lr": 1e-2, "max_steps": 20}
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    evaluate(replace(config(tiny_model, tiny_xfever, whole, "ft", 1), editor_options=options))
    cfg = replace(config(tiny_model, tiny_xfever, killed, "ft", 1), editor_options=options)
    monkeypatch.setattr(protocol_module, "_edit_one", Counting(kill_at=KILL_AT[1]))
    with pytest.raises(RunInterrupted):
        evaluate(cfg)
    monkeypatch.setattr(protocol_module, "_edit_one", Counting())
    evaluate(cfg)
    assert comparable_results(killed) == comparable_results(whole)
    assert steps_without_timings(killed) == steps_without_timings(whole)


def cli_args(tiny_model: Path, tiny_xfever: Path, out: Path, *extra: str) -> list[str]:
    return [
        "eval",
        "--model",
        str(tiny_model),
        "--dataset",
        str(tiny_xfever),
        "--editor",
        "tpatcher",
        "--editor-opt",
        "max_steps=40",
        "--folders",
        "1",
        "--max-edits",
        "6",
        "--checkpoint-every",
        "2",
        "--out",
        str(out / "run"),
        "--quiet",
        *extra,
    ]


def run_cli(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as exc:
        harness_main(argv)
    return int(exc.value.code)


@pytest.mark.slow
def test_cli_ctrl_c_resume_noop_and_changed_config(tiny_model, tiny_xfever, tmp_path, monkeypatch, capsys):
    run_dir = tmp_path / "runs" / "run"
    monkeypatch.setattr(protocol_module, "_edit_one", Counting(kill_at=4))
    assert run_cli(cli_args(tiny_model, tiny_xfever, tmp_path / "runs")) == 130
    err = capsys.readouterr().err
    assert "interrupted after 3 of 6 edit rows" in err and "rerun the same command to resume" in err
    assert "Traceback" not in err

    # Another setting in the same run folder is refused, naming the setting.
    code = run_cli(cli_args(tiny_model, tiny_xfever, tmp_path / "runs", "--seed", "1"))
    err = capsys.readouterr().err
    assert code == 2 and "setting 'seed': 1 now, 0 in the run folder" in err and "--overwrite" in err

    counting = Counting()
    monkeypatch.setattr(protocol_module, "_edit_one", counting)
    assert run_cli(cli_args(tiny_model, tiny_xfever, tmp_path / "runs", "--checkpoint-every", "3")) == 0
    captured = capsys.readouterr()
    assert "resuming" in captured.err and counting.calls == 4  # checkpoint at 2 of 6 rows
    results = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
    assert results["status"] == "complete" and results["config"]["checkpoint_every"] == 3

    before = (run_dir / "results.json").stat().st_mtime_ns
    assert run_cli(cli_args(tiny_model, tiny_xfever, tmp_path / "runs")) == 0
    assert "already complete" in capsys.readouterr().out and counting.calls == 4
    assert (run_dir / "results.json").stat().st_mtime_ns == before

    code = run_cli(cli_args(tiny_model, tiny_xfever, tmp_path / "runs", "--max-edits", "5"))
    assert code == 2 and "setting 'max_edits': 5 now, 6 in the run folder" in capsys.readouterr().err
    assert (
        run_cli(cli_args(tiny_model, tiny_xfever, tmp_path / "runs", "--max-edits", "5", "--overwrite")) == 0
    )
    assert json.loads((run_dir / "results.json").read_text())["config"]["max_edits"] == 5


def test_foreign_folder_refused(tiny_model, tiny_xfever, tmp_path, capsys):
    (tmp_path / "runs" / "run").mkdir(parents=True)
    (tmp_path / "runs" / "run" / "notes.txt").write_text("mine", encoding="utf-8")
    assert run_cli(cli_args(tiny_model, tiny_xfever, tmp_path / "runs")) == 2
    assert "holds no resumable run" in capsys.readouterr().err
    assert (tmp_path / "runs" / "run" / "notes.txt").read_text(encoding="utf-8") == "mine"
