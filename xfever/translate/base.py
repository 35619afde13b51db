"""The `Translator` interface shared by the translation engines (transformers MarianMT, CTranslate2)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

from common.device import DEVICE_HELP
from common.settings import setting


@dataclass(frozen=True)
class DecodeSettings:
    """How to decode. `num_beams=None` keeps the checkpoint's own generation config (opus-mt: 4).

    `max_new_tokens` is capped per batch at `ceil(max_len_ratio * longest_source_tokens) + max_len_extra`
    so that a row that starts looping cannot stall its batch up to the model's 512 tokens.
    """

    batch_size: int = setting(64, help="Sentences per batch (length-sorted).")
    num_beams: int | None = setting(None, help="Beam size [default: the model's generation config].")
    max_len_ratio: float = setting(
        3.0, help="Cap on new tokens per batch: ratio x longest source (tokens) + --max-len-extra."
    )
    max_len_extra: int = setting(10, help="Added to the cap on new tokens per batch.")
    device: str = setting("auto", help=DEVICE_HELP)
    precision: str = setting(
        "auto",
        help="auto (transformers: fp16 on GPU, fp32 on CPU; ct2: float16 / int8), fp32, fp16, bf16, "
        "int8, int8_float16 (engine-dependent).",
        choices=("auto", "fp32", "fp16", "bf16", "int8", "int8_float16"),
    )


@dataclass(frozen=True)
class EngineInfo:
    """Provenance of one language's translations, written to build.json and the card."""

    engine: str  # "transformers" | "ct2" | "lexicon" | "module:Class" of a user's engine
    engine_version: str
    model_id: str
    model_revision: str | None
    target_token: str | None
    device: str
    precision: str
    decoding: dict[str, Any] = field(default_factory=dict)
    # What `model_revision` is: "hub" (commit SHA of the Hub snapshot that was loaded, online or from
    # the offline cache), "local" (a folder: no revision, see `model_sha256`) or "unknown".
    model_revision_source: str = "unknown"
    # SHA-256 over the config and weight files of a local model folder (None for Hub ids).
    model_sha256: str | None = None
    # True when the output is not a translation but a synthetic language (the `lexicon` engine).
    synthetic: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@runtime_checkable
class Translator(Protocol):
    """Translates English sentences into one target language, keeping input order.

    An engine is a class taking `(lang, model, *, settings, target_token)` whose instances have
    `info` and `translate`; optional static methods `default_model(lang)` (the model used without
    `--model LANG=...`) and `check_model(lang, model)` (refuse a bad model before anything runs).
    `xfever build --engine module:Class` loads such a class (see the README).
    """

    info: EngineInfo

    def translate(self, texts: list[str]) -> list[str]: ...
