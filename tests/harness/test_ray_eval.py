"""`--executor ray`: the same run as the local executor; failures reported with folder and edit id;
a driver stopped mid-run resumes. Opt in with `-m ray` (needs the `dist` extra)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.harness.conftest import quick_config

pytestmark = pytest.mark.ray


def _steps(run: Path) -> list[dict]:
    lines = (run / "steps.jsonl").read_text(encoding="utf-8").splitlines()
    return [{k: v for k, v in json.loads(line).items() if k != "seconds"} for line in lines]


def _folder_files(run: Path) -> dict[str, object]:
    out: dict[str, object] = {}
    for path in sorted((run / "folders").iterdir()):
        if path.suffix == ".json":
            body = json.loads(path.read_text(encoding="utf-8"))
            body.pop("seconds")
            body["steps"] = [{k: v for k, v in s.items() if k != "seconds"} for s in body["steps"]]
            out[path.name] = body
        else:
            out[path.name] = path.read_bytes()
    return out


def assert_same_run(a: Path, b: Path) -> None:
    """Metrics, steps, rows and folder files equal (timings and the executor aside)."""
    ra, rb = (json.loads((r / "results.json").read_text(encoding="utf-8")) for r in (a, b))
    for key in ("metrics", "original", "identity", "scored", "folders", "status", "error"):
        assert ra[key] == rb[key], key
    assert [{**f, "seconds": 0} for f in ra["per_folder"]] == [{**f, "seconds": 0} for f in rb["per_folder"]]
    assert _steps(a) == _steps(b)
    assert (a / "rows.parquet").read_bytes() == (b / "rows.parquet").read_bytes()
    assert _folder_files(a) == _folder_files(b)


@pytest.fixture(scope="module")
def local_run(tmp_path_factory, tiny_model, tiny_xfever) -> Path:
    from harness import evaluate

    out = tmp_path_factory.mktemp("local") / "run"
    evaluate(quick_config(tiny_model, tiny_xfever, out, "tpatcher", folders=3, max_edits=9))
    return out


def test_ray_equals_local(ray_local, local_run, tiny_model, tiny_xfever, tmp_path) -> None:
    from harness import evaluate

    out = tmp_path / "ray"
    config = quick_config(tiny_model, tiny_xfever, out, "tpatcher", folders=3, max_edits=9, executor="ray")
    result = evaluate(config)
    assert result.status == "complete" and result.origin == "run"
    assert_same_run(local_run, out)
    executor = json.loads((out / "results.json").read_text(encoding="utf-8"))["provenance"]["executor"]
    assert executor["name"] == "ray" and executor["ray_version"] == ray_local.__version__
    assert executor["address"] == "local" and executor["workers"] == 2
    assert not (out / "checkpoint").exists()
    # a complete run folder is not redone, whatever the executor
    assert evaluate(config).origin == "reused"


FAILING_EDITOR = """
from harness.editors.tpatcher import TPatcher

FAIL = {fail!r}


class Failing(TPatcher):
    def __call__(self, view, request, memory):
        if request.id in FAIL:
            raise RuntimeError(f"deliberate failure on {{request.id}}")
        return super().__call__(view, request, memory)
"""


def test_failed_task_is_reported_and_others_kept(ray_local, tiny_model, tiny_xfever, tmp_path) -> None:
    from harness import evaluate
    from harness.data.load import load_suite
    from harness.protocol.distributed import RunsFailed
    from harness.protocol.folders import plan_folders

    probe = quick_config(tiny_model, tiny_xfever, tmp_path / "probe", "tpatcher", folders=3, max_edits=9)
    plan = plan_folders(load_suite(probe).edit[:9], 3)
    failing = [row.id for row in plan[1]]
    editor_file = tmp_path / "failing_editor.py"
    editor_file.write_text(FAILING_EDITOR.format(fail=failing), encoding="utf-8")
    out = tmp_path / "run"
    config = quick_config(
        tiny_model, tiny_xfever, out, f"{editor_file}:Failing", folders=3, max_edits=9, executor="ray"
    )
    with pytest.raises(RunsFailed) as caught:
        evaluate(config.replace(editor_options={"max_steps": 20}))
    message = str(caught.value)
    assert f"{out} folder 1" in message and "deliberate failure" in message
    assert any(repr(i) in message for i in failing), message  # the edit id, as the local path names it
    assert "folder 0" not in message and "folder 2" not in message
    # the other folders are written, and the run says what failed
    assert sorted(p.name for p in (out / "folders").glob("*.json")) == ["folder_000.json", "folder_002.json"]
    result = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert result["status"] == "failed" and "folder 1" in result["error"]
    assert [f["index"] for f in result["per_folder"]] == [0, 2]
    assert sorted(p.name for p in (out / "checkpoint").glob("folder_*.json")) == [
        "folder_000.json",
        "folder_002.json",
    ]


def test_stopped_driver_resumes(ray_local, local_run, tiny_model, tiny_xfever, tmp_path, monkeypatch) -> None:
    """The driver dies after writing its first finished folder; the same command finishes the run,
    submitting only the folders not written, and the run equals the local one."""
    from common.ray_executor import RayExecutor
    from harness import evaluate
    from harness.report.results import RunWriter

    out = tmp_path / "ray"
    config = quick_config(tiny_model, tiny_xfever, out, "tpatcher", folders=3, max_edits=9, executor="ray")
    real_folder = RunWriter.folder

    def die_after_first(self, folder):
        real_folder(self, folder)
        raise SystemExit("driver killed")

    monkeypatch.setattr(RunWriter, "folder", die_after_first)
    with pytest.raises(SystemExit):
        evaluate(config)
    written = sorted(p.name for p in (out / "checkpoint").glob("folder_*.json"))
    assert len(written) == 1 and not (out / "results.json").exists()

    monkeypatch.setattr(RunWriter, "folder", real_folder)
    submitted: list[int] = []
    real_run = RayExecutor.run

    def count(self, jobs, on_done, on_failed):
        submitted.extend(job.meta["index"] for job in jobs)
        return real_run(self, jobs, on_done, on_failed)

    monkeypatch.setattr(RayExecutor, "run", count)
    result = evaluate(config)
    assert result.origin == "resumed" and result.status == "complete"
    assert len(submitted) == 2 and int(written[0][7:10]) not in submitted
    assert_same_run(local_run, out)


def test_sweep_submits_every_run_at_once(ray_local, tiny_model, tiny_xfever, tmp_path, monkeypatch) -> None:
    """`harness sweep --executor ray`: 2 seeds x 2 option values = 4 runs, their 8 folders in one
    submission; one leaderboard for the one comparable group; rerunning reuses every run."""
    from click.testing import CliRunner

    from common.ray_executor import RayExecutor
    from harness.cli import cli

    submissions: list[int] = []
    real_run = RayExecutor.run

    def count(self, jobs, on_done, on_failed):
        submissions.append(len(jobs))
        return real_run(self, jobs, on_done, on_failed)

    monkeypatch.setattr(RayExecutor, "run", count)
    out = tmp_path / "sweep"
    args = ["sweep", "--out", str(out), "--model", str(tiny_model), "--dataset", str(tiny_xfever)]
    args += ["--editors", "tpatcher", "--seeds", "0,1", "--grid", "max_steps=5,10", "--folders", "2"]
    args += ["--max-edits", "4", "--bootstrap-resamples", "100", "--executor", "ray", "--quiet"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert submissions == [8]
    runs = sorted(p.name for p in (out / "runs").iterdir())
    assert runs == sorted(f"tpatcher-s{s}-max_steps={m}" for s in (0, 1) for m in (5, 10))
    record = json.loads((out / "sweep.json").read_text(encoding="utf-8"))
    assert [g["group"] for g in record["groups"]] == ["A"] and len(record["groups"][0]["runs"]) == 4
    assert (out / "leaderboards" / "A" / "leaderboard.md").is_file()
    for run in runs:
        data = json.loads((out / "runs" / run / "results.json").read_text(encoding="utf-8"))
        assert data["status"] == "complete" and data["config"]["editor_options"]["max_steps"] in (5, 10)
    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 0, again.output
    assert submissions == [8, 0]  # nothing left to run
    record = json.loads((out / "sweep.json").read_text(encoding="utf-8"))
    assert {r["origin"] for r in record["runs"]} == {"reused"}
