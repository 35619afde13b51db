"""The CTranslate2 engine: the same Marian checkpoint converted once (cached), HF tokenizer tokens."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from common.device import resolve_device
from common.errors import UsageError
from common.identity import ModelSource, describe_model
from xfever.translate.base import DecodeSettings, EngineInfo
from xfever.translate.batching import decoding_record, map_sorted, max_new_tokens
from xfever.translate.targets import encode_sources, load_tokenizer, resolve_target_token, source_limit

log = logging.getLogger(__name__)

DEFAULT_SETTINGS = DecodeSettings()
# Our precision names -> CTranslate2 quantization / compute types.
COMPUTE_TYPES = {
    "fp32": "float32",
    "fp16": "float16",
    "bf16": "bfloat16",
    "int8": "int8",
    "int8_float16": "int8_float16",
}
CONVERSION_RECORD = "xfever_conversion.json"


def import_ctranslate2() -> Any:
    """The `ctranslate2` module, or a clear error naming the extra that installs it."""
    try:
        import ctranslate2
    except ImportError as exc:
        raise UsageError(
            "setting 'engine': the ct2 engine needs CTranslate2; install it with `pip install 'xfever[fast]'`"
        ) from exc
    return ctranslate2


def default_cache_dir() -> Path:
    """`$XFEVER_CACHE/ct2`, else `~/.cache/xfever/ct2`."""
    root = os.environ.get("XFEVER_CACHE") or Path.home() / ".cache" / "xfever"
    return Path(root) / "ct2"


def resolve_precision(requested: str, device: str, ctranslate2: Any) -> str:
    """`auto` -> int8 on cpu, fp16 on cuda; anything the device cannot run is a user error."""
    if requested == "auto":
        return "fp16" if device.startswith("cuda") else "int8"
    if requested not in COMPUTE_TYPES:
        raise UsageError(
            f"setting 'precision': the ct2 engine takes auto, {', '.join(COMPUTE_TYPES)}; got '{requested}'"
        )
    supported = ctranslate2.get_supported_compute_types(device.partition(":")[0])
    if COMPUTE_TYPES[requested] not in supported:
        raise UsageError(
            f"setting 'precision': {requested} does not run on {device} here "
            f"(CTranslate2 supports: {', '.join(sorted(supported))})"
        )
    return requested


def conversion_dir(cache_dir: Path, source: ModelSource, quantization: str) -> Path:
    """Cache folder of one conversion, keyed by model id, revision (or content hash) and quantization."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "--", Path(source.model_id).name if source.sha256 else source.model_id)
    return cache_dir / f"{name.strip('-')}--{source.cache_key}--{quantization}"


def convert(model: str | Path, source: ModelSource, quantization: str, cache_dir: Path) -> tuple[Path, bool]:
    """Convert the checkpoint with TransformersConverter unless cached; return (folder, converted now).

    The conversion is written to a temporary folder and renamed into place, so an interrupted
    conversion never looks like a cached one.
    """
    import_ctranslate2()
    from ctranslate2.converters import TransformersConverter

    target = conversion_dir(cache_dir, source, quantization)
    if (target / CONVERSION_RECORD).is_file():
        return target, False
    if source.revision_source == "unknown":
        log.warning("revision of %s unknown: its ct2 conversion is cached under 'unknown'", source.model_id)
    cache_dir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".converting-", dir=cache_dir))
    try:
        revision = source.revision if source.revision_source == "hub" else None
        TransformersConverter(str(model), revision=revision).convert(
            str(scratch / "model"), quantization=quantization, force=True
        )
        _write_record(scratch / "model", source, quantization)
        try:
            os.replace(scratch / "model", target)
        except OSError:  # another process finished the same conversion first
            if not (target / CONVERSION_RECORD).is_file():
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    log.info("converted %s to CTranslate2 (%s) in %s", source.model_id, quantization, target)
    return target, True


def _write_record(folder: Path, source: ModelSource, quantization: str) -> None:
    import ctranslate2
    import transformers

    record = {
        "model_id": source.model_id,
        "model_revision": source.revision,
        "model_revision_source": source.revision_source,
        "model_sha256": source.sha256,
        "quantization": quantization,
        "ctranslate2_version": ctranslate2.__version__,
        "transformers_version": transformers.__version__,
    }
    (folder / CONVERSION_RECORD).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


def _cpu_threads() -> int:
    """As many threads as torch uses (the build's --threads sets it), else one per usable core."""
    try:
        import torch

        return max(1, torch.get_num_threads())
    except ImportError:
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class CT2Translator:
    """Translates English into one language with a CTranslate2 conversion of a Marian checkpoint.

    Same source tokens (target token, pieces, `</s>`), same length-sorted batches and the same
    per-batch output cap as the transformers engine; `decode_overrides` adds keyword arguments to
    `translate_batch` (the benchmark fixes the output length with it) and is recorded in `info`.
    """

    def __init__(
        self,
        lang: str,
        model: str | Path,
        *,
        settings: DecodeSettings = DEFAULT_SETTINGS,
        target_token: str | None = None,
        cache_dir: str | Path | None = None,
        decode_overrides: dict[str, Any] | None = None,
    ) -> None:
        ctranslate2 = import_ctranslate2()
        from transformers import GenerationConfig, MarianConfig

        self.settings = settings
        self.device = resolve_device(settings.device, ctranslate2.get_cuda_device_count)
        self.precision = resolve_precision(settings.precision, self.device, ctranslate2)
        self.tokenizer = load_tokenizer(model, lang)
        self.target_token = resolve_target_token(lang, str(model), self.tokenizer, target_token)
        config = MarianConfig.from_pretrained(model)
        generation = GenerationConfig.from_pretrained(model)
        self.num_beams = settings.num_beams or generation.num_beams or 1
        self.model_limit = min(config.max_position_embeddings, generation.max_length or 10**9)
        self.source_limit = source_limit(self.tokenizer, config.max_position_embeddings)
        source = describe_model(model)  # after the config download, so the Hub snapshot is known
        quantization = COMPUTE_TYPES[self.precision]
        self.model_dir, self.converted_now = convert(
            model, source, quantization, Path(cache_dir) if cache_dir else default_cache_dir()
        )
        kind, _, index = self.device.partition(":")  # ct2 names the GPU by device_index
        where = {"intra_threads": _cpu_threads()} if kind == "cpu" else {"device_index": int(index or 0)}
        self.translator = ctranslate2.Translator(
            str(self.model_dir), device=kind, compute_type=quantization, **where
        )
        self.decode_overrides = dict(decode_overrides or {})
        self.info = self._info(ctranslate2.__version__, source, generation)

    def _info(self, version: str, source: ModelSource, generation: Any) -> EngineInfo:
        decoding = decoding_record(
            self.settings,
            num_beams=self.num_beams,
            model_limit=self.model_limit,
            source_limit=self.source_limit,
            batching="length-sorted, input order restored; ct2 batch_type=tokens",
            overrides=("decode_overrides", self.decode_overrides),
        )
        return EngineInfo(
            engine="ct2",
            engine_version=version,
            target_token=self.target_token,
            device=self.device,
            precision=self.precision,
            decoding=decoding,
            **source.info_fields(),
        )

    def source_ids(self, texts: list[str]) -> list[list[int]]:
        """Token ids of each source row: target token (if any), pieces, `</s>`."""
        return encode_sources(self.tokenizer, texts, self.target_token, self.source_limit)

    def translate_tokens(self, texts: list[str]) -> list[list[str]]:
        """Output tokens (SentencePiece pieces, no `</s>`) per row, in input order."""
        tokens = [self.tokenizer.convert_ids_to_tokens(row) for row in self.source_ids(texts)]
        return map_sorted(tokens, self.settings.batch_size, self._translate_batch)

    def translate_ids(self, texts: list[str]) -> list[list[int]]:
        """Output token ids per row, in input order (comparable with the transformers engine)."""
        return [self.tokenizer.convert_tokens_to_ids(row) for row in self.translate_tokens(texts)]

    def translate(self, texts: list[str]) -> list[str]:
        """Translations of `texts`, in input order."""
        return [self.tokenizer.decode(row, skip_special_tokens=True) for row in self.translate_ids(texts)]

    def _translate_batch(self, batch: list[list[str]]) -> list[list[str]]:
        longest = max(len(row) for row in batch)
        options = {
            # One of our length-sorted batches is one ct2 batch: a token budget that holds it exactly.
            "max_batch_size": longest * len(batch),
            "batch_type": "tokens",
            "beam_size": self.num_beams,
            "max_decoding_length": max_new_tokens(self.settings, longest, self.model_limit),
            # ct2 forbids `</s>` as the first token by default; transformers allows it (an empty
            # output, which the QA then flags). Same rule as transformers, so both agree.
            "min_decoding_length": 0,
            **self.decode_overrides,
        }
        results = self.translator.translate_batch(batch, **options)
        return [result.hypotheses[0] for result in results]
