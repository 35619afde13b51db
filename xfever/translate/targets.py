"""Default opus-mt models per language and the target-language token that multi-target models need."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from common.errors import ToolkitError

log = logging.getLogger(__name__)

DEFAULT_MODELS: dict[str, str] = {
    lang: f"Helsinki-NLP/opus-mt-en-{lang}" for lang in ("de", "fr", "es", "zh", "ar")
}

# en-zh and en-ar are multi-target models: without the token they drift into Traditional characters,
# dialects or Latin-script Arabic (see docs/builder.md).
DEFAULT_TARGET_TOKENS: dict[str, str] = {"zh": ">>cmn_Hans<<", "ar": ">>ara<<"}

_SHOWN_CODES = 8


def check_model(lang: str, model: str) -> None:
    """Refuse, before anything loads, a model that cannot be a translation model.

    A local path must be a folder whose config.json describes a MarianMT model; anything else must
    have the shape of a Hub id (checked by `huggingface_hub`'s own validator), else it is a path that
    does not exist. Hub ids are checked when they load (`load_tokenizer`).
    """
    import json

    from huggingface_hub.utils import HFValidationError, validate_repo_id

    where = f"language '{lang}': cannot load model '{model}'"
    path = Path(model)  # as from_pretrained sees it (no ~ expansion)
    if not path.exists():
        try:
            validate_repo_id(model)
        except HFValidationError:
            raise ToolkitError(f"{where}: no such folder (and not a Hub model id either)") from None
        return
    if not path.is_dir():
        raise ToolkitError(f"{where}: a file, not a model folder")
    try:
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    except OSError:
        raise ToolkitError(f"{where}: the folder has no config.json (not a model folder)") from None
    except ValueError as err:
        raise ToolkitError(f"{where}: config.json is not valid JSON ({err})") from None
    require_marian(lang, model, config if isinstance(config, dict) else {})


def require_marian(lang: str, model: str, config: dict[str, Any]) -> None:
    """Refuse a model whose config is not MarianMT's (say a BERT classifier given as `--model`)."""
    model_type = config.get("model_type")
    if model_type == "marian":
        return
    architectures = ", ".join(config.get("architectures") or []) or "no architecture named"
    raise ToolkitError(
        f"language '{lang}': cannot load model '{model}': not a translation model (config.json: "
        f"model_type {model_type!r}, {architectures}); xfever translates with MarianMT checkpoints "
        f"such as Helsinki-NLP/opus-mt-en-{lang}"
    )


def load_tokenizer(model: Any, lang: str = "?") -> Any:
    """`MarianTokenizer.from_pretrained(model)`, failing with OSError when the model is unreachable.

    The config is loaded first: offline with an uncached Hub id, MarianTokenizer itself fails with a
    TypeError on a missing vocabulary file, while AutoConfig raises the OSError that
    `load_translator` turns into a clear message. A config of another kind of model is refused here.
    """
    from transformers import AutoConfig, MarianTokenizer

    require_marian(lang, str(model), AutoConfig.from_pretrained(model).to_dict())
    return MarianTokenizer.from_pretrained(model)


def supported_codes(tokenizer: Any) -> list[str]:
    """The `>>xx<<` target tokens a Marian tokenizer accepts (empty for single-target models)."""
    return list(getattr(tokenizer, "supported_language_codes", None) or [])


def resolve_target_token(lang: str, model: str, tokenizer: Any, target_token: str | None) -> str | None:
    """The token to prepend for `lang`, checked against the tokenizer; None when no token is used.

    `target_token=None` means the language's default from `DEFAULT_TARGET_TOKENS` (none for most
    languages); `""` means explicitly no token.
    """
    token = DEFAULT_TARGET_TOKENS.get(lang) if target_token is None else target_token
    codes = supported_codes(tokenizer)
    shown = ", ".join(codes[:_SHOWN_CODES])
    if len(codes) > _SHOWN_CODES:
        shown += f", ... ({len(codes)} in all)"
    if token:
        if token not in codes:
            raise ToolkitError(
                f"language '{lang}': target token '{token}' is not supported by model '{model}' "
                f"(supported: {shown or 'none: a single-target model takes no token'}); "
                f"set the language's target token to one of them, or to '' for none"
            )
        return token
    if codes:
        raise ToolkitError(
            f"language '{lang}': model '{model}' is multi-target and needs a target token "
            f"(supported: {shown}); set the language's target token to one of them"
        )
    return None


def source_limit(tokenizer: Any, max_position_embeddings: int | None) -> int:
    """Longest source the model can encode: the tokenizer's `model_max_length`, or the model's position
    table when that is shorter (a longer source indexes past the table: IndexError / ct2 RuntimeError)."""
    limit = int(tokenizer.model_max_length)
    return min(limit, max_position_embeddings) if max_position_embeddings else limit


def encode_sources(
    tokenizer: Any, texts: list[str], target_token: str | None, max_length: int | None = None
) -> list[list[int]]:
    """Token ids of each source row: the target token (if any), the pieces, `</s>`.

    Rows are cut at `max_length` tokens (default: the tokenizer's `model_max_length`), `</s>` kept.
    """
    if not texts:
        return []  # the tokenizer refuses an empty batch
    prefix = f"{target_token} " if target_token else ""
    limit = max_length or int(tokenizer.model_max_length)
    ids = tokenizer([prefix + text for text in texts], truncation=True, max_length=limit)["input_ids"]
    truncated = sum(len(row) >= limit for row in ids)
    if truncated:
        log.warning(
            "%d source rows reached the limit of %d tokens (the smaller of the tokenizer's model_max_length "
            "and the model's position table): cut",
            truncated,
            limit,
        )
    return ids
