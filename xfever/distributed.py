"""`xfever build --executor ray`: the (language x shard) translation units as jobs of Ray workers.

Each worker is an actor that loads a language's translator the first time it gets one of its
shards and keeps it (one model load per worker and language, not per shard). A unit translates
exactly the rows of one resume shard, so batches, outputs and the shard files are those of the local
build; the driver writes every shard file and `engine.json` (xfever/shards.py), checks a resumed
language's engine as the local build does, and reads the shards back in order. The output folder is
therefore byte-identical to the local build's (build.json's `run` section aside: timings, executor).
Shards already on disk are not redone; a failed unit is retried, then reported with its language,
split and shard, and the finished shards stay for a rerun.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from common.errors import ToolkitError
from common.executor import Job, make_executor
from common.io import write_json_atomic
from xfever.config import BuildConfig
from xfever.shards import LazyTranslator, ShardHook, WorkDir, _digest, _load_shard
from xfever.translation import translator_loaders

log = logging.getLogger(__name__)


class TranslatorWorker:
    """The state of one worker: translators by language, each loaded on first use."""

    def __init__(self, loaders: dict[str, Callable[[], Any]]) -> None:
        self.loaders, self.loaded = loaders, {}

    def translate(self, lang: str, chunk: list[str]) -> tuple[list[str], dict[str, Any]]:
        if lang not in self.loaded:
            self.loaded[lang] = self.loaders[lang]()
        translator = self.loaded[lang]
        return list(translator.translate(chunk)), translator.info.to_dict()


def translate_units(
    config: BuildConfig,
    models: dict[str, tuple[str, str | None]],
    texts: dict[str, list[str]],
    work: WorkDir,
    on_shard: ShardHook | None,
) -> tuple[dict[str, dict[str, list[str]]], dict[str, dict[str, Any]], dict[str, Any]]:
    """lang -> {split: translations}, lang -> engine info (as LazyTranslator.info), executor info."""
    from common.task_progress import TaskProgress

    jobs, resumed, total = [], 0, 0
    for lang in models:
        for split, rows in texts.items():
            for index, start in enumerate(range(0, len(rows), config.shard_size)):
                chunk = list(rows[start : start + config.shard_size])
                total += len(chunk)
                if _load_shard(work.shard(lang, split, index), chunk) is not None:
                    resumed += len(chunk)
                    continue
                meta = {"lang": lang, "split": split, "index": index}
                label = f"language '{lang}' split '{split}' shard {index}"
                jobs.append(Job(label, "translate", (lang, chunk), meta, len(chunk)))
    executor = make_executor(
        config.executor,
        address=config.ray_address,
        gpus_per_task=config.gpus_per_task,
        retries=config.retries,
    )
    bar = TaskProgress(
        len(jobs),
        total,
        resumed=resumed,
        desc="translate",
        unit="sent",
        task="shard",
        enabled=not config.quiet,
    )
    checked: set[str] = set()
    failures: list[str] = []

    def on_done(job: Job, value: tuple[list[str], dict[str, Any]]) -> None:
        lang, split, index = job.meta["lang"], job.meta["split"], job.meta["index"]
        done, info = value
        chunk = job.args[1]
        if len(done) != len(chunk):
            raise ToolkitError(f"{lang}: translator returned {len(done)} outputs for {len(chunk)} inputs")
        if lang not in checked:  # as LazyTranslator.get: no shards of another engine or device
            LazyTranslator(work, lang, lambda: None)._check_resume(info)
            write_json_atomic(work.engine_file(lang), info)
            checked.add(lang)
        write_json_atomic(
            work.shard(lang, split, index), {"sources_sha256": _digest(chunk), "translations": done}
        )
        if on_shard is not None:
            on_shard(lang, split, index)
        bar.done(job)

    def on_failed(job: Job, error: BaseException) -> None:
        message = f"{job.label}: {type(error).__name__}: {error}"
        failures.append(message)
        bar.failed(job, message)

    try:
        info = executor.describe()
        factory = functools.partial(TranslatorWorker, translator_loaders(config, models))
        executor.run_stateful(factory, jobs, on_done, on_failed)
    finally:
        bar.close()
        executor.close()
    if failures:
        raise ToolkitError(
            f"{len(failures)} translation unit(s) failed (finished shards are kept in {work.path}; rerun "
            "the same command to resume):\n  " + "\n  ".join(failures)
        )
    translations = {
        lang: {split: _read_all(work, lang, split, rows, config.shard_size) for split, rows in texts.items()}
        for lang in models
    }
    engines = {lang: LazyTranslator(work, lang, lambda: None).info() for lang in models}
    return translations, engines, info


def _read_all(work: WorkDir, lang: str, split: str, rows: list[str], size: int) -> list[str]:
    out: list[str] = []
    for index, start in enumerate(range(0, len(rows), size)):
        chunk = list(rows[start : start + size])
        done = _load_shard(work.shard(lang, split, index), chunk)
        if done is None:
            raise ToolkitError(f"{work.shard(lang, split, index)}: shard missing after translation")
        out.extend(done)
    return out
