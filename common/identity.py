"""What exactly was read: content hashes of local files and folders, commits of Hub repositories.

One implementation of "model identity" and "dataset identity" for the builder and the harness: a
local folder is identified by its content (so a moved folder is the same input and a folder rebuilt
or replaced in place is not), a Hub repository by its commit SHA.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

COMMIT_SHA = re.compile(r"^[0-9a-f]{40}$")  # a full git commit id, as the Hub cache names them
# The files that decide a model's output: config, weights, tokenizer (SentencePiece, WordPiece, BPE).
MODEL_FILES = ("*.json", "*.safetensors", "*.bin", "*.spm", "*.model", "*.txt")
# Files of a dataset folder that are not its content: run records with timings, hidden files.
_NOT_DATA = {"build.json"}


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _digest_files(root: Path, files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(path.relative_to(root).as_posix().encode("utf-8") + b"\0")
        digest.update(bytes.fromhex(sha256_file(path)))
    return digest.hexdigest()


def folder_sha256(folder: str | Path) -> str:
    """SHA-256 over the names and bytes of a model folder's config, weight and tokenizer files."""
    root = Path(folder)
    files = {p for pattern in MODEL_FILES for p in root.glob(pattern) if p.is_file()}
    return _digest_files(root, list(files))


def short(digest: str) -> str:
    """The form results files carry: `sha256:` and the first 16 hex digits."""
    return "sha256:" + digest[:16]


def dataset_folder_sha256(folder: str | Path) -> str:
    """SHA-256 over every data and card file of a dataset folder (not build.json's run record)."""
    root = Path(folder)
    files = [
        p
        for p in root.rglob("*")
        if p.is_file()
        and p.name not in _NOT_DATA
        and not any(part.startswith(".") for part in p.relative_to(root).parts)
    ]
    return _digest_files(root, files)


def dataset_revision(dataset: str | Path, requested: str | None = None) -> str | None:
    """A local folder's content hash, or the Hub commit SHA (what was asked for when offline)."""
    folder = Path(dataset)
    if folder.is_dir():
        return short(dataset_folder_sha256(folder))
    try:
        from huggingface_hub import HfApi

        return HfApi().dataset_info(str(dataset), revision=requested).sha
    except Exception as exc:  # offline or private: keep what was asked for
        log.warning("dataset %s: could not resolve its revision (%s)", dataset, exc)
        return requested


@dataclass(frozen=True)
class ModelSource:
    """Provenance of a model: `revision` for Hub ids, `sha256` for local folders."""

    model_id: str
    revision: str | None
    revision_source: str  # hub | local | unknown
    sha256: str | None

    def info_fields(self) -> dict[str, str | None]:
        """The translation engines' `EngineInfo` fields that describe the model."""
        return {
            "model_id": self.model_id,
            "model_revision": self.revision,
            "model_revision_source": self.revision_source,
            "model_sha256": self.sha256,
        }

    @property
    def cache_key(self) -> str:
        """A stable identifier of the model's content (what a conversion cache is keyed by)."""
        return self.revision or self.sha256 or "unknown"

    @property
    def identity(self) -> str | None:
        """The one string results files record: the Hub commit, or `sha256:<16 hex>` of a folder."""
        return self.revision or (short(self.sha256) if self.sha256 else None)


def hub_snapshot_revision(model_id: str, cache_dir: str | Path | None = None) -> str | None:
    """Commit SHA of the cached snapshot of `model_id` that `from_pretrained` just loaded, or None.

    Works offline: the Hub cache stores each download under `snapshots/<commit>/`.
    """
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(model_id, "config.json", cache_dir=str(cache_dir) if cache_dir else None)
    if not isinstance(found, str):
        return None
    commit = Path(found).parent.name
    return commit if COMMIT_SHA.match(commit) else None


def describe_model(model: str | Path, hub_cache_dir: str | Path | None = None) -> ModelSource:
    """Resolve the revision of a Hub id or the content hash of a local folder (call after loading)."""
    if Path(model).is_dir():
        return ModelSource(str(model), None, "local", folder_sha256(model))
    revision = hub_snapshot_revision(str(model), hub_cache_dir)
    return ModelSource(str(model), revision, "hub" if revision else "unknown", None)
