"""The translation phase of a build: every language's edit (and rephrase) rows, in resumable shards.

Local (the default): language after language in this process, the translator loaded once per
language and only when a shard is missing (xfever/shards.py). `--executor ray`: the (language x
shard) units on Ray workers (xfever/distributed.py). Both write the same shard files and return the
same translations and engine records.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common.provenance import public_location
from xfever.schema import EDIT_SPLIT, REPHRASE_SPLIT
from xfever.shards import LazyTranslator, translate_in_shards
from xfever.sources import Claim


def rephrase_rows(edit: list[Claim]) -> dict[str, list]:
    rows: dict[str, list] = {"id": [], "rephrase_index": [], "label": [], "claim_en": []}
    for claim in edit:
        for index, text in enumerate(claim.rephrases):
            rows["id"].append(claim.id)
            rows["rephrase_index"].append(index)
            rows["label"].append(claim.label)
            rows["claim_en"].append(text)
    return rows


def translator_loaders(
    config: Any, models: dict[str, tuple[str, str | None]]
) -> dict[str, Callable[[], Any]]:
    """lang -> a picklable zero-argument loader of its translator (model, engine, decoding, cache as
    `config` says); the local build and the Ray workers (xfever.distributed) load through these."""
    from xfever.translate import load_translator

    return {
        lang: functools.partial(
            load_translator,
            lang,
            model,
            engine=config.engine,
            settings=config.decode,
            target_token=token,
            cache_dir=config.cache_dir,
        )
        for lang, (model, token) in models.items()
    }


def translate_all(config, models, english, work, timings, on_shard) -> tuple[dict, dict, dict]:
    """lang -> {split: translations}; lang -> engine provenance; what ran the units."""
    from common.progress import progress

    edit = english.splits[EDIT_SPLIT]
    texts = {EDIT_SPLIT: [c.claim for c in edit]}
    if config.translate_rephrases:
        texts[REPHRASE_SPLIT] = rephrase_rows(edit)["claim_en"]
    if config.executor != "local":  # (language x shard) units on Ray workers
        return _translate_distributed(config, models, texts, work, timings, on_shard)
    translations: dict[str, dict[str, list[str]]] = {}
    engines: dict[str, dict[str, Any]] = {}
    loaders = translator_loaders(config, models)
    for lang, (model, _token) in models.items():
        lazy = LazyTranslator(work, lang, loaders[lang])
        total = sum(len(t) for t in texts.values())
        with (
            timings.time(f"translate_{lang}"),
            progress(total=total, desc=f"translate {lang}", unit="sent", enabled=not config.quiet) as bar,
        ):
            translations[lang] = {
                split: translate_in_shards(
                    rows,
                    work=work,
                    lang=lang,
                    split=split,
                    shard_size=config.shard_size,
                    translator=lazy,
                    progress=bar,
                    on_shard=on_shard,
                )
                for split, rows in texts.items()
            }
        engines[lang] = _engine_record(lazy.info(), model)
    return translations, engines, {"name": "local", "workers": 1}


def _translate_distributed(config, models, texts, work, timings, on_shard) -> tuple[dict, dict]:
    from xfever.distributed import translate_units

    with timings.time("translate"):
        translations, infos, executor = translate_units(config, models, texts, work, on_shard)
    engines = {lang: _engine_record(info, models[lang][0]) for lang, info in infos.items()}
    return translations, engines, executor


def _engine_record(info: dict[str, Any], model: str) -> dict[str, Any]:
    if info.get("model_sha256"):  # a local folder: its name and content hash, not a machine path
        info["model_id"] = public_location(str(info["model_id"]))
    info["synthetic"] = bool(info.get("synthetic"))
    return {**info, "stand_in": (Path(model) / "STAND_IN.txt").is_file()}
