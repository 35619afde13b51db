"""`harness publish-results`: run folders and leaderboards to a Hub dataset repo, HfApi mocked."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.support import harness_cli

SECRET = "hf_do_not_print_me_0123456789"


class FakeHub:
    """Records HfApi calls and the files of the folder that would go up (read while it exists)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from huggingface_hub import HfApi

        self.calls: list[tuple[str, dict]] = []
        self.files: list[str] = []

        def create_repo(api, repo_id, **kwargs):
            assert api.token in (None, SECRET)
            self.calls.append(("create_repo", {"repo_id": repo_id, **kwargs}))
            return f"https://huggingface.co/datasets/{repo_id}"

        def upload_folder(api, **kwargs):
            self.calls.append(("upload_folder", kwargs))
            root = Path(kwargs["folder_path"])
            self.files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
            return type("Commit", (), {"oid": "c0ffee" * 6 + "abcd"})()

        monkeypatch.setattr(HfApi, "create_repo", create_repo)
        monkeypatch.setattr(HfApi, "upload_folder", upload_folder)


@pytest.fixture
def hub(monkeypatch) -> FakeHub:
    monkeypatch.setenv("HF_TOKEN", SECRET)
    return FakeHub(monkeypatch)


def test_publishes_runs_and_a_leaderboard_in_one_commit(
    report_runs, report_board, hub, tmp_path, capsys, caplog
):
    run = tmp_path / "tpatcher"
    shutil.copytree(report_runs["tpatcher"], run)
    (run / "checkpoint").mkdir()  # an unfinished run's edit states never go up
    (run / "checkpoint" / "state-000-000002.pt").write_bytes(b"x")
    board = report_board["md"].parent
    args = ["publish-results", run, report_runs["mpn"], board, "--repo-id", "me/results", "--private"]
    assert harness_cli(args) == 2  # stand-in runs are refused unless asked for
    out = capsys.readouterr()
    assert "stand-in" in out.err and "--allow-stand-in" in out.err and hub.calls == []
    assert harness_cli([*args, "--allow-stand-in", "--path-in-repo", "tables/t1"]) == 0
    out = capsys.readouterr()
    assert [name for name, _ in hub.calls] == ["create_repo", "upload_folder"]
    repo, upload = hub.calls[0][1], hub.calls[1][1]
    assert repo == {"repo_id": "me/results", "repo_type": "dataset", "private": True, "exist_ok": True}
    assert upload["repo_type"] == "dataset" and upload["path_in_repo"] == "tables/t1"
    assert upload["commit_message"] == "harness results: 2 run(s), 1 leaderboard(s)"
    for name in ("results.json", "steps.jsonl", "rows.parquet", "folders/folder_000.json"):
        assert f"runs/tpatcher/{name}" in hub.files and f"runs/mpn/{name}" in hub.files
    for name in ("leaderboard.md", "leaderboard.csv", "leaderboard.json", "clg_by_language.pdf", "gains.csv"):
        assert f"leaderboards/board/{name}" in hub.files
    assert not [f for f in hub.files if "checkpoint" in f]
    assert "published 2 run(s) and 1 leaderboard(s)" in out.out and "me/results" in out.out
    assert SECRET not in out.out + out.err + caplog.text


def test_refuses_without_token_bad_repo_ids_and_unknown_folders(report_runs, monkeypatch, tmp_path, capsys):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path))  # no stored login either
    hub = FakeHub(monkeypatch)
    run = report_runs["none"]
    assert (
        harness_cli(["publish-results", run, "--repo-id", "me/results", "--allow-stand-in"]) == 1
    )  # runtime: no token
    assert "no Hugging Face token" in capsys.readouterr().err
    for bad in ("just-a-name", "me/bad name", "me/x..y"):
        assert harness_cli(["publish-results", run, "--repo-id", bad]) == 2
        assert "expected ORG/NAME" in capsys.readouterr().err
    assert (
        harness_cli(["publish-results", tmp_path, "--repo-id", "me/results"]) == 1
    )  # runtime: not a run folder
    assert "neither a run folder" in capsys.readouterr().err
    assert hub.calls == []
