"""`BuildConfig`: every setting of one `xfever build`, frozen, JSON round-trippable, fingerprinted."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from common.device import DEFAULT_THREADS, THREADS_HELP
from common.errors import ToolkitError, UsageError
from common.executor import EXECUTORS
from common.settings import csv_tuple, setting
from xfever.schema import DEFAULT_LANGS, SCHEMA_VERSION, SOURCE_LANG
from xfever.translate.base import DecodeSettings

DEFAULT_SPLIT_SEED = 42
DEFAULT_RATIOS: tuple[float, float, float] = (0.8, 0.1, 0.1)
DEFAULT_SHARD_SIZE = 512
HUB_FEVER = "facebook/kilt_tasks"

ENGINE_NAMES = ("transformers", "ct2", "lexicon")  # or a user's engine class as module:Class


def parse_pairs(option: str, values: Any) -> tuple[tuple[str, str], ...]:
    """`("de=PATH", "zh=>>cmn_Hans<<")` or `{"de": PATH}` -> sorted (lang, value) pairs."""
    if isinstance(values, dict):
        return tuple(sorted((str(k), str(v)) for k, v in values.items()))
    pairs = {}
    for value in [values] if isinstance(values, str) else values:
        lang, sep, target = str(value).partition("=")
        if not sep or not lang.strip():
            raise UsageError(f"{option}: expected LANG=VALUE, got {value!r}")
        pairs[lang.strip()] = target.strip()
    return tuple(sorted(pairs.items()))


def _floats(value: Any) -> tuple[float, ...]:
    items = value.split(",") if isinstance(value, str) else list(value)
    return tuple(float(x) for x in items)


# Settings that do not change a single output byte: left out of the fingerprint.
# Where the units ran (executor, cluster, retries) changes no byte either.
EXECUTION = ("executor", "ray_address", "gpus_per_task", "retries")
_NOT_FINGERPRINTED = frozenset({"out", "quiet", "cache_dir", "threads", *EXECUTION})  # threads: same rows
_LANG_RE = re.compile(r"^[a-z]{2,3}$")


@dataclass(frozen=True)
class BuildConfig:
    """One build. Two source modes (paper section 4.1 / appendix A.1):

    * split mode: `train` (and optionally `dev`) are KILT FEVER files or Hub ids; train is shuffled with
      `split_seed` and cut by `ratios` into train / validation / edit; dev becomes `test`;
    * ready-made mode: `edit_file` (required) plus optional `train_file`, `validation_file`, `test_file`.
    """

    out: Path = setting(help="Output folder (Hub layout); appears only when the build is complete.")
    langs: tuple[str, ...] = setting(DEFAULT_LANGS, help="Comma-separated target languages.", parse=csv_tuple)
    train: str | None = setting(
        None, help="Split mode: KILT FEVER train (.jsonl path or Hub id[@REV], e.g. facebook/kilt_tasks)."
    )
    dev: str | None = setting(None, help="Split mode: KILT FEVER dev (.jsonl or Hub id); the test split.")
    edit_file: str | None = setting(None, help="Ready-made mode: the edit split (.jsonl).")
    train_file: str | None = setting(None, help="Ready-made mode: the train split (.jsonl).")
    validation_file: str | None = setting(None, help="Ready-made mode: the validation split (.jsonl).")
    test_file: str | None = setting(None, help="Ready-made mode: the test split (.jsonl).")
    split_seed: int = setting(DEFAULT_SPLIT_SEED, help="Shuffle seed of the split mode.")
    ratios: tuple[float, float, float] = setting(
        DEFAULT_RATIOS, help="Train / validation / edit shares of the split mode.", parse=_floats
    )
    models: tuple[tuple[str, str], ...] = setting(
        (),
        help="MT model of a language, LANG=ID_OR_PATH (repeatable) [default: Helsinki-NLP/opus-mt-en-LANG].",
        flag="--model",
        multiple=True,
        metavar="LANG=ID_OR_PATH",
        parse=lambda v: parse_pairs("--model", v),
    )
    target_tokens: tuple[tuple[str, str], ...] = setting(
        (),
        help="Target token of a multi-target model, LANG=TOKEN (e.g. zh='>>cmn_Hans<<'); LANG= for none.",
        flag="--target-token",
        multiple=True,
        metavar="LANG=TOKEN",
        parse=lambda v: parse_pairs("--target-token", v),
    )
    engine: str = setting(
        "transformers",
        help="Translation engine: transformers, ct2 (extra `fast`), lexicon (synthetic languages, no "
        "download; --model LANG=SEED) or your own engine class as module:Class (see the README).",
    )
    decode: DecodeSettings = setting(
        help="Decoding settings (their own flags).", factory=DecodeSettings, cli=False
    )
    translate_rephrases: bool = setting(False, help="Also translate the edit rows' English rephrases.")
    shard_size: int = setting(DEFAULT_SHARD_SIZE, help="Rows per resume shard.")
    overwrite: bool = setting(False, help="Replace an output folder holding another build.")
    quiet: bool = setting(False, help="No progress bars or info logs.", cli=False)
    cache_dir: str | None = setting(None, help="Cache of Hub datasets and converted models.")
    threads: int = setting(
        DEFAULT_THREADS, help="CPU threads of torch and CTranslate2 (0: one per core). " + THREADS_HELP
    )
    executor: str = setting(
        "local",
        help="Where translation runs: local, or ray ((language x shard) units on Ray workers; extra `dist`).",
        choices=EXECUTORS,
    )
    ray_address: str | None = setting(
        None, help="Ray cluster: auto, HOST:PORT, or none for a private local Ray (--executor ray)."
    )
    gpus_per_task: float = setting(0.0, help="GPUs each Ray translation worker reserves.")
    retries: int = setting(1, help="Times a failed Ray translation unit is retried before it is reported.")

    def __post_init__(self) -> None:
        object.__setattr__(self, "out", Path(self.out))

    @property
    def mode(self) -> str:
        return "ready-made" if self.edit_file is not None else "split"

    def check(self) -> BuildConfig:
        """Raise ToolkitError on settings that cannot work together; return self."""
        ready = [self.train_file, self.validation_file, self.test_file]
        if self.edit_file is None and any(ready):
            raise UsageError("--train-file/--validation-file/--test-file need --edit-file (ready-made mode)")
        if self.edit_file is not None and (self.train or self.dev):
            raise ToolkitError(
                "give either --train/--dev (split mode) or --edit-file (ready-made mode), not both"
            )
        if self.edit_file is None and self.train is None:
            raise ToolkitError("no source: pass --train PATH_OR_HUBID (split mode) or --edit-file PATH")
        if len(self.ratios) != 3 or any(r <= 0 for r in self.ratios) or sum(self.ratios) > 1 + 1e-9:
            raise UsageError(
                f"setting 'ratios': need three positive numbers summing to at most 1, got {self.ratios}"
            )
        if self.executor not in EXECUTORS:
            raise UsageError(f"--executor: expected one of {EXECUTORS}, got {self.executor!r}")
        if self.retries < 0 or self.gpus_per_task < 0:
            raise UsageError("--retries and --gpus-per-task: must be >= 0")
        if self.shard_size < 1:
            raise ToolkitError(f"shard size must be at least 1, got {self.shard_size}")
        check_langs(self.langs)
        from xfever.translate import check_engine_name

        check_engine_name(self.engine)
        # Refused rather than ignored: an unused `--model fr=...` usually means fr was meant to be built.
        for option, pairs in (("--model", self.models), ("--target-token", self.target_tokens)):
            for lang, value in pairs:
                if lang not in self.langs:
                    raise UsageError(
                        f"{option} {lang}={value}: '{lang}' is not in --langs ({','.join(self.langs)}); "
                        f"add it to --langs or drop this {option}"
                    )
        return self

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["out"] = str(self.out)
        data["langs"] = list(self.langs)
        data["ratios"] = list(self.ratios)
        data["models"] = dict(self.models)
        data["target_tokens"] = dict(self.target_tokens)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BuildConfig:
        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in known}
        kwargs["out"] = Path(kwargs["out"])
        kwargs["langs"] = tuple(kwargs.get("langs", DEFAULT_LANGS))
        kwargs["ratios"] = tuple(kwargs.get("ratios", DEFAULT_RATIOS))
        kwargs["models"] = tuple(sorted(dict(kwargs.get("models", {})).items()))
        kwargs["target_tokens"] = tuple(sorted(dict(kwargs.get("target_tokens", {})).items()))
        kwargs["decode"] = DecodeSettings(**kwargs.get("decode", {}))
        return cls(**kwargs)

    def fingerprint(self, models: dict[str, str] | None = None) -> str:
        """SHA-256 of every setting that can change the output (not `out`, `quiet`, `cache_dir`).

        `models` (lang -> identity, see `build.model_identities`) replaces the `--model` overrides as
        given: a local model folder then counts by its content, not by where it lies.
        """
        data = {k: v for k, v in self.to_dict().items() if k not in _NOT_FINGERPRINTED}
        if models is not None:
            data["models"] = dict(models)
        data["schema_version"] = SCHEMA_VERSION
        data.pop("overwrite", None)
        blob = json.dumps(data, sort_keys=True, ensure_ascii=True)
        return hashlib.sha256(blob.encode()).hexdigest()


def _langid_labels() -> list[str]:
    """Codes the QA can check: py3langid's ISO 639-1 labels (its model ships inside the wheel)."""
    from xfever.qa import langid_labels

    return langid_labels()


def check_langs(langs: tuple[str, ...]) -> None:
    """Raise ToolkitError naming the first unusable language code."""
    import difflib

    if not langs:
        raise UsageError("--langs: give at least one target language")
    if len(set(langs)) != len(langs):
        raise UsageError(f"--langs: repeated language in {list(langs)}")
    known = _langid_labels()
    for lang in langs:
        if lang == SOURCE_LANG:
            raise UsageError("--langs: 'en' is the source language, it is always in the output")
        if not _LANG_RE.match(lang) or lang not in known:
            close = difflib.get_close_matches(lang, known, n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise UsageError(f"--langs: unknown language code '{lang}'{hint}")
