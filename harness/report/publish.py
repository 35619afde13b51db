"""`publish_results(paths, repo_id)`: run folders and leaderboards to a Hub dataset repo, in one commit.

Like lm-eval's Hub logging: the files go up as written (results.json, steps.jsonl, rows.parquet,
folders/ of a run; leaderboard.md / .csv / .json, gains.csv and the charts of a leaderboard), under

    runs/<run folder name>/...            leaderboards/<leaderboard folder name>/...

(below `path_in_repo` when given). A run's checkpoint/ (edit states, only in unfinished runs) and
temporary files stay behind. Refused: anything not a finished run or a leaderboard, runs that did
not complete, two folders of one name, and, unless `allow_stand_in`, runs or leaderboards made with
stand-in models (results.json `stand_in`), whose numbers would be cited as real.

Token handling is `xfever publish`'s (common/hub.py): HF_TOKEN or `hf auth login`, never printed.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common.errors import ToolkitError, UsageError
from common.hub import check_repo_id, hub_api
from harness.report.results import RESULTS_FILE, load_result

log = logging.getLogger(__name__)

RUNS_DIR, BOARDS_DIR = "runs", "leaderboards"
BOARD_FILES = ("leaderboard.md", "leaderboard.csv")
LEFT_BEHIND = ("checkpoint",)  # folders of a run that never go up


@dataclass(frozen=True)
class PublishedResults:
    repo_id: str
    repo_url: str
    commit: str | None
    runs: list[str] = field(default_factory=list)
    leaderboards: list[str] = field(default_factory=list)
    files: int = 0


def classify(path: Path, allow_stand_in: bool) -> str:
    """`runs` or `leaderboards` for a publishable folder; a ToolkitError naming the folder otherwise."""
    if not path.is_dir():
        raise ToolkitError(f"{path}: not a folder")
    if (path / RESULTS_FILE).is_file():
        data = load_result(path)
        if data.get("status") != "complete":
            raise ToolkitError(
                f"{path}: the run is {data.get('status')!r}, not complete; publish finished runs"
            )
        _check_stand_in(path, data.get("stand_in"), allow_stand_in)
        return RUNS_DIR
    if all((path / name).is_file() for name in BOARD_FILES):
        record = path / "leaderboard.json"
        stand_in = (
            json.loads(record.read_text(encoding="utf-8")).get("stand_in") if record.is_file() else None
        )
        _check_stand_in(path, stand_in, allow_stand_in)
        return BOARDS_DIR
    raise ToolkitError(
        f"{path}: neither a run folder ({RESULTS_FILE}) nor a leaderboard folder ({', '.join(BOARD_FILES)})"
    )


def _check_stand_in(path: Path, stand_in: Any, allow: bool) -> None:
    if stand_in and not allow:
        raise UsageError(
            f"{path}: made with stand-in models ({stand_in}); its numbers measure nothing real. "
            "Pass --allow-stand-in to publish it anyway (its files say so)."
        )


def stage(paths: Sequence[str | Path], target: Path, allow_stand_in: bool) -> dict[str, list[str]]:
    """Copy the folders into `target` in the repo layout; return {runs|leaderboards: [names]}."""
    placed: dict[str, list[str]] = {RUNS_DIR: [], BOARDS_DIR: []}
    seen: dict[str, Path] = {}
    for given in paths:
        path = Path(given)
        kind = classify(path, allow_stand_in)
        where = f"{kind}/{path.resolve().name}"
        if where in seen:
            raise ToolkitError(f"{path} and {seen[where]} would both go to {where}: rename one")
        seen[where] = path
        ignore = shutil.ignore_patterns(*LEFT_BEHIND, "*.tmp", "*.tmp.*")
        shutil.copytree(path, target / where, ignore=ignore)
        placed[kind].append(path.resolve().name)
    return placed


def publish_results(
    paths: Sequence[str | Path],
    repo_id: str,
    *,
    private: bool = False,
    path_in_repo: str | None = None,
    allow_stand_in: bool = False,
    api: Any = None,
) -> PublishedResults:
    """Check every folder, create the dataset repo `repo_id` if needed, upload all in one commit."""
    check_repo_id(repo_id)
    if not paths:
        raise ToolkitError("publish-results: no run or leaderboard folders given")
    for path in paths:  # every folder checked before the token and before any copy
        classify(Path(path), allow_stand_in)
    api = hub_api(api)
    with tempfile.TemporaryDirectory(prefix="harness-publish-") as tmp:
        placed = stage(paths, Path(tmp), allow_stand_in)
        files = sum(1 for p in Path(tmp).rglob("*") if p.is_file())
        message = f"harness results: {len(placed[RUNS_DIR])} run(s), {len(placed[BOARDS_DIR])} leaderboard(s)"
        try:
            url = api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
            commit = api.upload_folder(
                repo_id=repo_id,
                folder_path=tmp,
                path_in_repo=path_in_repo or None,
                repo_type="dataset",
                commit_message=message,
            )
        except ToolkitError:
            raise
        except Exception as err:  # HTTP, auth, conflicts: report without a traceback (never the token)
            raise ToolkitError(f"publishing to {repo_id} failed: {type(err).__name__}: {err}") from None
    oid = getattr(commit, "oid", None)
    log.info("published %s to %s at %s", message, repo_id, oid)
    return PublishedResults(repo_id, str(url), oid, placed[RUNS_DIR], placed[BOARDS_DIR], files)
