"""The transformers engine: MarianMT (opus-mt) with length-sorted batches and a capped output length."""

from __future__ import annotations

import logging
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
_DTYPES = {"fp32": "float32", "fp16": "float16", "bf16": "bfloat16"}


def resolve_precision(requested: str, device: str) -> str:
    """`auto` -> fp16 on cuda, fp32 on cpu; fp16 needs cuda (bf16 runs on both)."""
    if requested == "auto":
        return "fp16" if device.startswith("cuda") else "fp32"
    if requested not in _DTYPES:
        raise UsageError(
            f"setting 'precision': the transformers engine takes auto, fp32, fp16 or bf16, got "
            f"'{requested}' (int8 variants belong to the ct2 engine)"
        )
    if requested == "fp16" and not device.startswith("cuda"):
        raise UsageError("setting 'precision': fp16 needs a CUDA device; use fp32 or bf16 on cpu")
    return requested


class MarianTranslator:
    """Translates English into one language with a MarianMT checkpoint, keeping input order.

    Rows are tokenized once, decoded in length-sorted batches of `settings.batch_size` and put back
    in input order. `generate_overrides` adds keyword arguments to `generate` (the benchmark fixes
    the output length with it); it is recorded in `info.decoding`.
    """

    def __init__(
        self,
        lang: str,
        model: str | Path,
        *,
        settings: DecodeSettings = DEFAULT_SETTINGS,
        target_token: str | None = None,
        generate_overrides: dict[str, Any] | None = None,
    ) -> None:
        import torch
        import transformers
        from transformers import MarianMTModel

        self.settings = settings
        self.device = resolve_device(settings.device)
        self.precision = resolve_precision(settings.precision, self.device)
        self.tokenizer = load_tokenizer(model, lang)
        self.target_token = resolve_target_token(lang, str(model), self.tokenizer, target_token)
        self.model = MarianMTModel.from_pretrained(model, dtype=getattr(torch, _DTYPES[self.precision]))
        self.model.to(self.device).eval()
        self.generate_overrides = dict(generate_overrides or {})
        self.num_beams = settings.num_beams or self.model.generation_config.num_beams or 1
        generation = self.model.generation_config
        self.model_limit = min(self.model.config.max_position_embeddings, generation.max_length or 10**9)
        self.source_limit = source_limit(self.tokenizer, self.model.config.max_position_embeddings)
        # The cap below always sets max_new_tokens; a second limit only makes generate() warn.
        generation.max_length = None
        self._stop_ids = _stop_ids(self.model.generation_config)
        self.info = self._info(describe_model(model), transformers.__version__)

    def _info(self, source: ModelSource, version: str) -> EngineInfo:
        decoding = decoding_record(
            self.settings,
            num_beams=self.num_beams,
            model_limit=self.model_limit,
            source_limit=self.source_limit,
            batching="length-sorted, input order restored",
            overrides=("generate_overrides", self.generate_overrides),
        )
        return EngineInfo(
            engine="transformers",
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

    def translate_ids(self, texts: list[str]) -> list[list[int]]:
        """Output token ids per row (no decoder start, `</s>` or padding), in input order."""
        return map_sorted(self.source_ids(texts), self.settings.batch_size, self._generate)

    def translate_tokens(self, texts: list[str]) -> list[list[str]]:
        """Output tokens (SentencePiece pieces) per row, in input order."""
        return [self.tokenizer.convert_ids_to_tokens(row) for row in self.translate_ids(texts)]

    def translate(self, texts: list[str]) -> list[str]:
        """Translations of `texts`, in input order."""
        rows = self.translate_ids(texts)
        return [self.tokenizer.decode(row, skip_special_tokens=True) for row in rows]

    def _generate(self, batch_ids: list[list[int]]) -> list[list[int]]:
        import torch

        encoded = self.tokenizer.pad([{"input_ids": row} for row in batch_ids], return_tensors="pt")
        encoded = {key: value.to(self.device) for key, value in encoded.items()}
        cap = max_new_tokens(self.settings, max(len(row) for row in batch_ids), self.model_limit)
        kwargs = {"num_beams": self.num_beams, "max_new_tokens": cap, **self.generate_overrides}
        with torch.inference_mode():
            sequences = self.model.generate(**encoded, **kwargs)
        return [self._strip(row) for row in sequences.tolist()]

    def _strip(self, row: list[int]) -> list[int]:
        """Drop the decoder start token, then keep the tokens before the first `</s>` or pad."""
        out = []
        stops = self._stop_ids
        for token in row[1:]:
            if token in stops:
                break
            out.append(token)
        return out


def _stop_ids(config: Any) -> set[int]:
    """Ids that end an output row: `</s>` (one id or several) and padding."""
    eos = config.eos_token_id
    ids = set(eos) if isinstance(eos, list | tuple) else {eos}
    ids.add(config.pad_token_id)
    return {token for token in ids if token is not None}
