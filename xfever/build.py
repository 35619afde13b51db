"""The build pipeline: sources -> split -> translation (resumable shards) -> QA -> layout + card.

`build(config)` writes everything into `<out>.partial/staging/` and renames it to `<out>` at the
end, so `<out>` is either absent, the previous build, or the complete new one. Translations are kept
in `<out>.partial/` shards until the build finishes (xfever/shards.py), so a killed build resumes.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from common.errors import ToolkitError
from common.io import OutputLock, write_bytes_atomic, write_json_atomic
from common.provenance import Timings, environment, git_sha, package_version, public_location
from xfever import layout, qa, stats
from xfever.config import EXECUTION, BuildConfig
from xfever.schema import (
    BUILD_FILE,
    CARD_FILE,
    EDIT_SPLIT,
    LABELS,
    REPHRASE_SPLIT,
    SCHEMA_VERSION,
    SOURCE_LANG,
)
from xfever.shards import ShardHook, WorkDir
from xfever.sources import Claim, Source, read_source
from xfever.split import seeded_split
from xfever.translation import rephrase_rows, translate_all

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuildResult:
    """What `build` made: row counts per config/split, QA counts, timings (seconds)."""

    out: Path
    fingerprint: str
    counts: dict[str, dict[str, int]]
    qa: dict[str, dict[str, dict[str, int]]]
    timings: dict[str, float] = field(default_factory=dict)
    resumed: bool = False
    up_to_date: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "out": str(self.out)}


@dataclass
class _English:
    splits: dict[str, list[Claim]]
    inputs: list[Source]
    split_info: dict[str, Any]


def build(config: BuildConfig, *, on_shard: ShardHook | None = None) -> BuildResult:
    """Build the XFEVER folder described by `config`. `on_shard` is called after each saved shard.

    One writer at a time: a second build into the same `--out` is refused while this one runs."""
    from common.device import torch_threads

    config.check()
    with OutputLock(config.out, "build output folder"), torch_threads(config.threads):
        return _build(config, on_shard)


def _build(config: BuildConfig, on_shard: ShardHook | None) -> BuildResult:
    models = resolve_models(config)
    fingerprint = config.fingerprint(model_identities(models))
    timings = Timings()
    with timings.time("total"):
        with timings.time("read_sources"):
            english = read_english(config)
        existing = _existing_build(config, fingerprint, [src.describe() for src in english.inputs])
        if existing is not None:
            return existing
        work = WorkDir(config.out)
        resumed = work.open(fingerprint, _settings(config))
        try:
            translations, engines, executor = translate_all(config, models, english, work, timings, on_shard)
            with timings.time("qa_and_write"):
                staging = work.fresh_staging()
                record = _write_staging(config, fingerprint, english, translations, engines, staging)
        except BaseException:
            done = len(list(work.path.rglob("shard-*.json")))
            if done:
                log.warning(
                    "kept %d finished shards in %s: rerun the same command to resume", done, work.path
                )
            else:
                work.remove()  # nothing worth resuming: leave nothing behind
            raise
    devices = [engine.get("device", "") for engine in engines.values()]
    run = {"resumed": resumed, "timings_s": timings.seconds, "environment": environment(devices)}
    run["executor"] = executor
    write_json_atomic(work.staging / BUILD_FILE, {**record, "run": run})
    work.finish(config.out)
    log.info("built %s (%s)", config.out, fingerprint[:12])
    return BuildResult(config.out, fingerprint, record["configs"], record["qa"], timings.seconds, resumed)


def resolve_models(config: BuildConfig) -> dict[str, tuple[str, str | None]]:
    """lang -> (model id or path, target token override or None for the language's default).

    A local model that cannot be a translation model is refused here, before any source is read."""
    from xfever.translate import check_engine_model, default_model

    overrides, tokens = dict(config.models), dict(config.target_tokens)
    models = {}
    for lang in config.langs:
        model = overrides.get(lang) or default_model(config.engine, lang)
        if model is None:
            raise ToolkitError(f"missing model for language '{lang}': pass --model {lang}=ID_OR_PATH")
        check_engine_model(config.engine, lang, model)
        models[lang] = (model, tokens.get(lang))
    return models


def model_identities(models: dict[str, tuple[str, str | None]]) -> dict[str, str]:
    """lang -> what decides its translations: a local folder by the SHA-256 of its config, weight and
    tokenizer files (moving the folder changes nothing, replacing the model does), a local file (say
    a user engine's file of human translations) by its SHA-256, a Hub id or a seed as given."""
    from common.identity import folder_sha256, sha256_file

    def identity(model: str) -> str:
        if Path(model).is_dir():
            return f"sha256:{folder_sha256(model)}"
        return f"sha256:{sha256_file(model)}" if Path(model).is_file() else model

    return {lang: identity(model) for lang, (model, _token) in models.items()}


def read_english(config: BuildConfig) -> _English:
    """The English splits, in either source mode."""
    get = lambda location, role, split="train": read_source(  # noqa: E731
        location, role, hub_split=split, cache_dir=config.cache_dir
    )
    if config.mode == "split":
        train = get(config.train, "train")
        parts, leftover = seeded_split(train.claims, config.split_seed, config.ratios)
        inputs = [train]
        if config.dev is not None:
            dev = get(config.dev, "dev", "validation")
            inputs.append(dev)
            parts["test"] = list(dev.claims)
        info = {
            "mode": "split",
            "seed": config.split_seed,
            "ratios": list(config.ratios),
            "leftover_rows_dropped": leftover,
            "sizes": {k: len(v) for k, v in parts.items()},
        }
        return _English(parts, inputs, info)
    given = {
        "train": config.train_file,
        "validation": config.validation_file,
        "edit": config.edit_file,
        "test": config.test_file,
    }
    sources = {split: get(path, split) for split, path in given.items() if path is not None}
    parts = {split: list(src.claims) for split, src in sources.items()}
    info = {"mode": "ready-made", "seed": None, "sizes": {k: len(v) for k, v in parts.items()}}
    return _English(parts, list(sources.values()), info)


def _translated_tables(config, english, translations) -> tuple[dict, dict]:
    """lang -> {split: arrow table}; lang -> {split: QA counts}."""
    edit = english.splits[EDIT_SPLIT]
    bases = {
        EDIT_SPLIT: {
            "id": [c.id for c in edit],
            "label": [c.label for c in edit],
            "claim_en": [c.claim for c in edit],
        }
    }
    if config.translate_rephrases:
        bases[REPHRASE_SPLIT] = rephrase_rows(edit)
    tables: dict[str, dict[str, Any]] = {}
    counts: dict[str, dict[str, dict[str, int]]] = {}
    for lang, splits in translations.items():
        tables[lang], counts[lang] = {}, {}
        for split, outputs in splits.items():
            base = {**bases[split], "claim": outputs}
            cols = qa.qa_columns(base["claim_en"], outputs, lang, config.langs)
            tables[lang][split] = layout.translated_table(base, cols)
            counts[lang][split] = qa.qa_counts(cols)
    return tables, counts


def _write_staging(config, fingerprint, english, translations, engines, staging: Path) -> dict[str, Any]:
    """Write parquet, histogram and card into the staging folder; return the build record."""
    from xfever.card import render_card

    counts: dict[str, dict[str, int]] = {SOURCE_LANG: {}}
    for split in ("train", "validation", "edit", "test"):
        if split in english.splits:
            counts[SOURCE_LANG][split] = layout.write_split(
                staging, SOURCE_LANG, split, layout.en_table(english.splits[split])
            )
    tables, qa_counts = _translated_tables(config, english, translations)
    for lang, splits in tables.items():
        counts[lang] = {split: layout.write_split(staging, lang, split, t) for split, t in splits.items()}
    texts = {SOURCE_LANG: [c.claim for c in english.splits[EDIT_SPLIT]]}
    texts.update({lang: t[EDIT_SPLIT] for lang, t in translations.items()})
    write_bytes_atomic(staging / stats.HISTOGRAM_FILE, stats.histogram_png(texts))
    record = _record(config, fingerprint, english, engines, counts, qa_counts, texts, tables)
    record["dataset_sizes"] = layout.dataset_sizes(staging, counts)
    (staging / CARD_FILE).write_text(render_card(record), encoding="utf-8")
    return record


def _example(english, tables) -> dict[str, Any]:
    first = english.splits[EDIT_SPLIT][0]
    example: dict[str, Any] = {  # as load_dataset gives the rows: `label` as its ClassLabel id
        SOURCE_LANG: {
            "id": first.id,
            "label": LABELS.index(first.label),
            "claim": first.claim,
            "rephrases": list(first.rephrases),
        }
    }
    for lang, splits in tables.items():
        row = splits[EDIT_SPLIT].slice(0, 1).to_pylist()[0]
        example[lang] = {k: row[k] for k in ("id", "label", "claim", "claim_en", "qa_flagged")}
    return example


_PATH_SETTINGS = ("train", "dev", "edit_file", "train_file", "validation_file", "test_file")


def _settings(config: BuildConfig) -> dict[str, Any]:
    data = config.to_dict()
    for key in ("out", "quiet", "cache_dir", "overwrite", "threads", *EXECUTION):  # the same rows
        data.pop(key, None)
    return data


def _public_settings(config: BuildConfig) -> dict[str, Any]:
    """The settings as build.json publishes them: local paths by their names only."""
    data = _settings(config)
    for key in _PATH_SETTINGS:
        if data[key] is not None:
            data[key] = public_location(data[key])
    data["models"] = {lang: public_location(model) for lang, model in data["models"].items()}
    data["threads"] = config.threads  # recorded (what produced the build), not fingerprinted
    return data


def _record(config, fingerprint, english, engines, counts, qa_counts, texts, tables) -> dict[str, Any]:
    """The build's facts: build.json without its `run` section, and the card's input."""
    return {
        "schema_version": SCHEMA_VERSION,
        "xfever_version": package_version(),
        "git_sha": git_sha(),
        "fingerprint": fingerprint,
        "settings": _public_settings(config),
        "inputs": [src.describe() for src in english.inputs],
        "split": english.split_info,
        "configs": counts,
        "engines": engines,
        "qa": qa_counts,
        "qa_settings": qa.settings(),
        "lengths": {lang: stats.length_stats(t, lang) for lang, t in texts.items()},
        "figures": {"sentence_lengths": stats.HISTOGRAM_FILE},
        "example": _example(english, tables),
        "translate_rephrases": config.translate_rephrases,
    }


def _existing_build(config: BuildConfig, fingerprint: str, inputs: list[dict]) -> BuildResult | None:
    """None when `out` may be (over)written; a result when it already holds this very build."""
    import json

    out = config.out
    if not out.exists():
        return None
    if not out.is_dir():
        raise ToolkitError(f"{out}: output path exists and is not a folder")
    if not any(out.iterdir()) or config.overwrite:
        return None
    try:
        held = json.loads((out / BUILD_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise ToolkitError(
            f"{out}: output folder exists and holds no XFEVER build; pass --overwrite"
        ) from None
    if held.get("fingerprint") != fingerprint or held.get("inputs") != inputs:
        raise ToolkitError(
            f"{out}: output folder holds a different build (other settings or input files); "
            "choose another --out or pass --overwrite"
        )
    log.info("%s already holds this build; nothing to do", out)
    return BuildResult(out, fingerprint, held["configs"], held["qa"], {}, up_to_date=True)
