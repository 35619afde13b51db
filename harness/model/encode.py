"""The one-time encoding of the cached path: every scored text to its [CLS] vector, optionally on disk.

The disk cache is keyed by model revision, dataset revision, split (text group) and max_length: a
file per key under `cache_dir`, written atomically. Without revisions (None) nothing is cached on disk.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from common.io import torch_save_atomic
from harness.data.suite import Text

if TYPE_CHECKING:
    from harness.editors.memory import Memory

log = logging.getLogger(__name__)


def cache_file(cache_dir: str | Path, key: Mapping[str, Any]) -> Path:
    digest = hashlib.sha256(json.dumps(dict(key), sort_keys=True).encode()).hexdigest()[:24]
    return Path(cache_dir) / f"cls-{digest}.pt"


def warm(
    view: Any,
    groups: Mapping[str, Sequence[Text]],
    *,
    cache_dir: str | Path | None = None,
    key: Mapping[str, Any] | None = None,
    progress: bool = True,
) -> dict[str, int]:
    """Encode every group's texts into the view's cache; return {group: texts encoded now}."""
    import torch

    from common.progress import progress as tracked

    use_disk = cache_dir is not None and key is not None and all(v is not None for v in key.values())
    encoded: dict[str, int] = {}
    # The bar counts distinct texts: encoded now (batch by batch) or found cached (at once).
    total = len(dict.fromkeys(t for texts in groups.values() for t in texts))
    bar = tracked(total=total, desc="encoding", unit="text", enabled=progress)
    shown: set[Text] = set()
    files = getattr(view, "cache_files", None)
    try:
        for name, texts in groups.items():
            path = cache_file(cache_dir, {**key, "split": name}) if use_disk else None
            if path is not None and files is not None:
                files.append(path.name)
            if path is not None and path.is_file():
                stored = torch.load(path, map_location=view.device)
                view.cache_items().update(zip(map(tuple, stored["texts"]), stored["vectors"], strict=True))
            encoded[name] = view.warm(texts, on_batch=bar.update)
            fresh = set(texts) - shown
            bar.update(len(fresh) - encoded[name], resumed=True)  # the group's texts cached already
            shown |= fresh
            if path is not None and encoded[name]:
                unique = list(dict.fromkeys(texts))
                vectors = torch.stack([view.cache_items()[t] for t in unique]).cpu()
                record = {"key": {**key, "split": name}, "texts": [list(t) for t in unique]}
                torch_save_atomic(path, record | {"vectors": vectors})
    finally:
        bar.close()
    return encoded


def encode_run(
    view: Any,
    suite: Any,
    rows: Sequence[Any],
    *,
    cache_dir: str | Path | None = None,
    key: Mapping[str, Any] | None = None,
    progress: bool = True,
) -> Memory:
    """The one-time encoding of a run: every scored text on the cached path, and T-Patcher's memory
    (the suite's memory rows as [CLS] vectors, on both paths). A suite without memory rows gets an
    empty memory (the memory loss is then zero), with a warning."""
    from harness.editors.memory import Memory
    from harness.report.scoring import all_texts

    memory_texts = [e.text for e in suite.memory]
    if not memory_texts:
        log.warning(
            "T-Patcher's memory is empty (%s): the memory loss constrains nothing", suite.memory_source
        )
    info: dict[str, Any] = {"dtype": getattr(view, "encode_dtype", "float32")}
    info["stop"] = "the [CLS] input to the last FFN (last FFN, pooler and classifier not run)"
    if view.path == "cached":
        groups = {"scored": all_texts(suite, rows), "memory": memory_texts}
        view.cache_files = []
        encoded = warm(view, groups, cache_dir=cache_dir, key=key, progress=progress)
        info |= {"texts": len(view.cache_items()), "encoded_now": sum(encoded.values())}
        info["cache_files"] = list(view.cache_files)
    view.encoding = info
    memory = Memory(view.vectors(memory_texts))  # (0, hidden) on the view's device when empty
    memory.prepare()  # the int8 search index of a large memory: part of the one-time encoding cost
    info["memory_search"] = dict(memory.search)  # int8 index or fp32 scan, and why (timed on this CPU)
    return memory
