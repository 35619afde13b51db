"""`publish(folder, repo_id)`: check, create the Hub dataset repo, upload in one commit, tag.

Before anything reaches the Hub: the repo id passes `huggingface_hub`'s own validator (and names an
organisation or user: the card's loading snippet needs the full id), the folder validates, and a
build translated with untrained stand-in models (the offline demo's and the tests', recorded as
`engines.<lang>.stand_in` in build.json) is refused unless `allow_stand_in`.

The upload replaces the previous revision's build: files a build writes (parquet, card, build.json,
histogram) that the new build no longer has are deleted in the same commit (`upload_folder`'s
`delete_patterns`), so republishing with fewer languages leaves no stale config behind. Files a build
never writes (a LICENSE added by hand, `.gitattributes`) are kept. The uploaded card's loading
snippet names `repo_id` (the local folder is left as built).

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

from common.errors import ToolkitError, UsageError
from xfever.card import DEFAULT_REPO_ID
from xfever.schema import BUILD_FILE, CARD_FILE
from xfever.stats import HISTOGRAM_FILE
from xfever.validate import validate

log = logging.getLogger(__name__)

# Remote files a build owns (fnmatch patterns, `*` crossing folders): deleted unless uploaded again.
BUILD_FILE_PATTERNS = ["*.parquet", CARD_FILE, BUILD_FILE, HISTOGRAM_FILE]


def stand_in_languages(record: dict[str, Any]) -> list[str]:
    """Languages of a build record that were translated with untrained stand-in models."""
    engines = record.get("engines") or {}
    return [lang for lang, engine in engines.items() if isinstance(engine, dict) and engine.get("stand_in")]


def synthetic_languages(record: dict[str, Any]) -> list[str]:
    """Languages of a build record that are synthetic (the lexicon engine), not translations."""
    engines = record.get("engines") or {}
    return [lang for lang, engine in engines.items() if isinstance(engine, dict) and engine.get("synthetic")]


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
    folder: str | Path,
    repo_id: str,
    *,
    private: bool = False,
    tag: str | None = None,
    allow_stand_in: bool = False,
    api: Any = None,
) -> PublishResult:
    """Check `repo_id` and `folder`, then create `repo_id` (dataset), upload the folder in one commit
    (deleting the previous build's files it no longer has), tag it."""
    from common.hub import check_repo_id, hub_api

    check_repo_id(repo_id)
    folder = Path(folder)
    validate(folder)
    record = json.loads((folder / BUILD_FILE).read_text(encoding="utf-8"))
    synthetic = synthetic_languages(record)
    if synthetic and not allow_stand_in:
        raise UsageError(
            f"{folder / BUILD_FILE}: language(s) {', '.join(synthetic)} are synthetic (field "
            "'engines.<lang>.synthetic', the lexicon engine): refusing to publish them as data; pass "
            "--allow-stand-in to publish anyway (say to a test repo)"
        )
    stand_ins = stand_in_languages(record)
    if stand_ins and not allow_stand_in:
        raise UsageError(
            f"{folder / BUILD_FILE}: language(s) {', '.join(stand_ins)} were translated with untrained "
            "stand-in models (field 'engines.<lang>.stand_in'; the card says 'not a translation'): "
            "refusing to publish them as data; pass --allow-stand-in to publish anyway (say to a test repo)"
        )
    api = hub_api(api)
    fingerprint = record.get("fingerprint", "")
    try:
        url = api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="xfever-publish-") as tmp:
            commit = api.upload_folder(
                repo_id=repo_id,
                folder_path=str(_upload_copy(folder, repo_id, Path(tmp))),
                repo_type="dataset",
                commit_message=f"XFEVER build {str(fingerprint)[:12]}",
                delete_patterns=list(BUILD_FILE_PATTERNS),
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
