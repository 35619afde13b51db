"""What exactly was loaded: the Hub commit of a model id, or a content hash of a local folder."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

COMMIT_SHA = re.compile(r"^[0-9a-f]{40}$")  # a full git commit id, as the Hub cache names them
# The files that decide a Marian model's output: config, weights, tokenizer.
_HASHED = ("*.json", "*.safetensors", "*.bin", "*.spm")


@dataclass(frozen=True)
class ModelSource:
    """Provenance of a model: `revision` for Hub ids, `sha256` for local folders."""

    model_id: str
    revision: str | None
    revision_source: str  # hub | local | unknown
    sha256: str | None

    def info_fields(self) -> dict[str, str | None]:
        """The `EngineInfo` fields that describe the model."""
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


def folder_sha256(folder: str | Path) -> str:
    """SHA-256 over the names and bytes of the config, weight and tokenizer files of `folder`."""
    root = Path(folder)
    files = sorted({p for pattern in _HASHED for p in root.glob(pattern) if p.is_file()})
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode("utf-8") + b"\0")
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        digest.update(b"\0")
    return digest.hexdigest()


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
