"""Translation engines behind one `Translator` interface, and `load_translator`, the factory.

Engines: `transformers` (MarianMT, `marian.py`) and `ct2` (CTranslate2, `ct2.py`, optional extra
`fast`). Heavy libraries are imported only when an engine is loaded.
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

from common.errors import ToolkitError, UsageError
from xfever.translate.base import DecodeSettings, EngineInfo, Translator
from xfever.translate.targets import DEFAULT_MODELS, DEFAULT_TARGET_TOKENS, check_model

DEFAULT_SETTINGS = DecodeSettings()

# Engine name -> "module:class"; each class takes (lang, model, *, settings, target_token[, cache_dir]).
ENGINES: dict[str, str] = {
    "transformers": "xfever.translate.marian:MarianTranslator",
    "ct2": "xfever.translate.ct2:CT2Translator",
}


def load_translator(
    lang: str,
    model: str,
    *,
    engine: str = "transformers",
    settings: DecodeSettings = DEFAULT_SETTINGS,
    target_token: str | None = None,
    cache_dir: str | Path | None = None,
) -> Translator:
    """Load a translator from English into `lang` with `model` (a Hub id or a local folder).

    `target_token=None` uses the language's default (`DEFAULT_TARGET_TOKENS`), `""` none; the token is
    checked against the tokenizer's supported codes. `cache_dir` holds ct2 conversions (default
    `~/.cache/xfever/ct2`); the transformers engine does not use it.
    """
    if engine not in ENGINES:
        raise UsageError(f"setting 'engine': unknown engine '{engine}' (choose from {', '.join(ENGINES)})")
    check_model(lang, str(model))
    module_name, class_name = ENGINES[engine].split(":")
    engine_class = getattr(import_module(module_name), class_name)
    kwargs = {"settings": settings, "target_token": target_token}
    if engine == "ct2":
        kwargs["cache_dir"] = cache_dir
    try:
        return engine_class(lang, model, **kwargs)
    except OSError as exc:  # from_pretrained: unknown Hub id, no network and no cache, missing files
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ToolkitError(f"language '{lang}': cannot load model '{model}': {first}") from None


__all__ = [
    "DEFAULT_MODELS",
    "DEFAULT_TARGET_TOKENS",
    "ENGINES",
    "DecodeSettings",
    "EngineInfo",
    "Translator",
    "load_translator",
]
