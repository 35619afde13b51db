"""Resumable translation: finished shards of translations live in a work folder next to the output.

`<out>.partial/` holds `fingerprint.json` (the fingerprint and settings of the build), per language
`engine.json` (the engine's provenance) and `<split>/shard-NNNNN.json` (translations of rows
`[k * shard_size, (k + 1) * shard_size)`), each written atomically as it finishes. A rerun with the same
settings skips the shards present; shard boundaries depend only on the settings, so the batches (and
the outputs) are the same as in an uninterrupted run. A work folder from different settings is refused.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from common.errors import ToolkitError
from common.io import write_json_atomic
from xfever.translate.base import Translator

log = logging.getLogger(__name__)

ShardHook = Callable[[str, str, int], None]  # (lang, split, shard index) after a shard is saved


def _digest(texts: Sequence[str]) -> str:
    return hashlib.sha256(json.dumps(list(texts), ensure_ascii=False).encode()).hexdigest()


class WorkDir:
    """The `<out>.partial/` folder of one build."""

    MARKER = "fingerprint.json"

    def __init__(self, out: Path) -> None:
        self.path = out.with_name(out.name + ".partial")
        self.staging = self.path / "staging"

    def open(self, fingerprint: str, settings: dict[str, Any]) -> bool:
        """Create or reopen the work folder; return True when resuming. Refuse a different build's folder."""
        marker = self.path / self.MARKER
        if self.path.exists():
            try:
                held = json.loads(marker.read_text(encoding="utf-8"))["fingerprint"]
            except (OSError, ValueError, KeyError):
                held = None
            if held != fingerprint:
                raise ToolkitError(
                    f"{self.path}: output folder holds a different build (work folder of other settings); "
                    "rerun with the same arguments to resume it, or delete it"
                )
            return True
        self.path.mkdir(parents=True)
        write_json_atomic(marker, {"fingerprint": fingerprint, "settings": settings})
        return False

    def shard(self, lang: str, split: str, index: int) -> Path:
        return self.path / lang / split / f"shard-{index:05d}.json"

    def engine_file(self, lang: str) -> Path:
        return self.path / lang / "engine.json"

    def fresh_staging(self) -> Path:
        shutil.rmtree(self.staging, ignore_errors=True)
        self.staging.mkdir(parents=True)
        return self.staging

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)

    def finish(self, out: Path) -> None:
        """Rename the staging folder to `out` (an existing `out` is set aside first, removed after)."""
        old = None
        if out.exists():
            old = out.with_name(f"{out.name}.old-{os.getpid()}")
            os.replace(out, old)
        try:
            os.replace(self.staging, out)
        except BaseException:
            if old is not None:
                os.replace(old, out)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        self.remove()


class LazyTranslator:
    """Loads the language's translator only when a shard is missing; keeps its EngineInfo in the work dir."""

    def __init__(self, work: WorkDir, lang: str, load: Callable[[], Translator]) -> None:
        self.work, self.lang, self._load = work, lang, load
        self._translator: Translator | None = None

    def get(self) -> Translator:
        if self._translator is None:
            translator = self._load()
            info = translator.info.to_dict()
            self._check_resume(info)
            write_json_atomic(self.work.engine_file(self.lang), info)
            self._translator = translator
        return self._translator

    def _check_resume(self, info: dict[str, Any]) -> None:
        """Refuse to add shards from another engine, device or precision to the ones already written.

        `--device auto` and `--precision auto` resolve on each machine: a build begun on a GPU (fp16)
        and resumed on a CPU (int8) would otherwise mix the two in one language's translations.
        """
        path = self.work.engine_file(self.lang)
        if not path.exists() or not any((self.work.path / self.lang).rglob("shard-*.json")):
            return
        held = json.loads(path.read_text(encoding="utf-8"))
        changed = sorted(k for k in held.keys() | info.keys() if held.get(k) != info.get(k))
        if changed:
            diff = ", ".join(f"{k}: {held.get(k)!r} -> {info.get(k)!r}" for k in changed)
            raise ToolkitError(
                f"{path}: the '{self.lang}' shards already written came from another translator "
                f"({diff}); resume with the same engine, model, --device and --precision, or delete "
                f"{self.work.path} to start over"
            )

    def info(self) -> dict[str, Any]:
        if self._translator is not None:
            return self._translator.info.to_dict()
        return json.loads(self.work.engine_file(self.lang).read_text(encoding="utf-8"))


def translate_in_shards(
    texts: Sequence[str],
    *,
    work: WorkDir,
    lang: str,
    split: str,
    shard_size: int,
    translator: LazyTranslator,
    progress: Any = None,
    on_shard: ShardHook | None = None,
) -> list[str]:
    """Translate `texts` shard by shard, reusing shards a previous run finished; keep input order."""
    out: list[str] = []
    for index, start in enumerate(range(0, len(texts), shard_size)):
        chunk = list(texts[start : start + shard_size])
        path = work.shard(lang, split, index)
        done = _load_shard(path, chunk)
        reused = done is not None
        if done is None:
            done = translator.get().translate(chunk)
            if len(done) != len(chunk):
                raise ToolkitError(f"{lang}: translator returned {len(done)} outputs for {len(chunk)} inputs")
            write_json_atomic(path, {"sources_sha256": _digest(chunk), "translations": done})
            if on_shard is not None:
                on_shard(lang, split, index)
        else:
            log.debug("%s/%s shard %d: reused", lang, split, index)
        out.extend(done)
        if progress is not None:
            progress.update(len(chunk), resumed=reused)
    return out


def _load_shard(path: Path, chunk: list[str]) -> list[str] | None:
    if not path.exists():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("sources_sha256") != _digest(chunk) or len(data.get("translations", [])) != len(chunk):
        raise ToolkitError(f"{path}: shard does not match this build's source rows; delete the work folder")
    return list(data["translations"])
