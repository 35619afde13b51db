"""`publish(folder, repo_id)`: validate, create the Hub dataset repo, upload in one commit, tag.

The uploaded card's loading snippet names `repo_id` (the local folder is left as built).

The token is whatever `huggingface_hub` finds (HF_TOKEN, or `hf auth login`); it is never passed
around, logged or returned (common/hub.py, shared with `harness publish-results`).
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common.errors import ToolkitError
from xfever.card import DEFAULT_REPO_ID
from xfever.schema import BUILD_FILE, CARD_FILE
from xfever.validate import validate

log = logging.getLogger(__name__)


def _upload_copy(folder: Path, repo_id: str, tmp: Path) -> Path:
    """A copy of `folder` whose card's loading snippet names `repo_id` (the build itself stays as built)."""
    copy = tmp / folder.name
    shutil.copytree(folder, copy)
    card = copy / CARD_FILE
    text = card.read_text(encoding="utf-8")
    card.write_text(text.replace(f'"{DEFAULT_REPO_ID}"', f'"{repo_id}"'), encoding="utf-8")
    return copy


@dataclass(frozen=True)
class PublishResult:
    repo_id: str
    repo_url: str
    commit: str | None
    tag: str | None


def publish(
    folder: str | Path, repo_id: str, *, private: bool = False, tag: str | None = None, api: Any = None
) -> PublishResult:
    """Validate `folder`, then create `repo_id` (dataset), upload the folder in one commit, tag it."""
    from common.hub import check_repo_id, hub_api

    check_repo_id(repo_id)
    folder = Path(folder)
    validate(folder)
    api = hub_api(api)
    fingerprint = json.loads((folder / BUILD_FILE).read_text(encoding="utf-8")).get("fingerprint", "")
    try:
        url = api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="xfever-publish-") as tmp:
            commit = api.upload_folder(
                repo_id=repo_id,
                folder_path=str(_upload_copy(folder, repo_id, Path(tmp))),
                repo_type="dataset",
                commit_message=f"XFEVER build {str(fingerprint)[:12]}",
            )
        oid = getattr(commit, "oid", None)
        if tag:
            api.create_tag(repo_id, tag=tag, repo_type="dataset", revision=oid, tag_message=f"XFEVER {tag}")
    except ToolkitError:
        raise
    except Exception as err:  # HTTP, auth, conflicts: report without a traceback
        raise ToolkitError(f"publishing to {repo_id} failed: {type(err).__name__}: {err}") from None
    log.info("published %s at %s%s", repo_id, oid, f" (tag {tag})" if tag else "")
    return PublishResult(repo_id, str(url), oid, tag)
