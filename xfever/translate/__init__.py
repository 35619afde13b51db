"""Translation engines behind one `Translator` interface, and `load_translator`, the factory.

Engines: `transformers` (MarianMT, `marian.py`), `ct2` (CTranslate2, `ct2.py`, optional extra
`fast`), `lexicon` (synthetic languages, `lexicon.py`) and any user class given as `module:Class`
(the `Translator` protocol in `base.py`). Heavy libraries are imported only when an engine is loaded.
"""

from __future__ import annotations

import re
from importlib import import_module
from pathlib import Path
from typing import Any

from common.errors import ToolkitError, UsageError
from xfever.translate.base import DecodeSettings, EngineInfo, Translator
from xfever.translate.targets import DEFAULT_MODELS, DEFAULT_TARGET_TOKENS, check_model

DEFAULT_SETTINGS = DecodeSettings()

# Engine name -> "module:class"; each class takes (lang, model, *, settings, target_token[, cache_dir]).
ENGINES: dict[str, str] = {
    "transformers": "xfever.translate.marian:MarianTranslator",
    "ct2": "xfever.translate.ct2:CT2Translator",
    "lexicon": "xfever.translate.lexicon:LexiconTranslator",
}
MT_ENGINES = ("transformers", "ct2")  # MarianMT checkpoints: opus-mt defaults, target tokens
_IMPORT_STRING = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")


def check_engine_name(engine: str) -> None:
    """Raise UsageError unless `engine` is a known engine or a `module:Class` import string."""
    if engine not in ENGINES and not _IMPORT_STRING.match(str(engine)):
        raise UsageError(
            f"setting 'engine': unknown engine '{engine}' (choose from {', '.join(ENGINES)}, "
            "or give your own engine class as module:Class)"
        )


def engine_class(engine: str) -> Any:
    """The class of `engine`: a built-in name or `module:Class` (imported here, errors named)."""
    check_engine_name(engine)
    module_name, _, class_name = ENGINES.get(engine, engine).partition(":")
    try:
        module = import_module(module_name)
    except ImportError as err:
        raise UsageError(
            f"setting 'engine': cannot import module '{module_name}' of '{engine}': {err}"
        ) from None
    target: Any = module
    for part in class_name.split("."):
        target = getattr(target, part, None)
        if target is None:
            raise UsageError(f"setting 'engine': module '{module_name}' has no '{class_name}' ('{engine}')")
    if not callable(target):
        raise UsageError(f"setting 'engine': '{engine}' is not a class (it must build a Translator)")
    return target


def default_model(engine: str, lang: str) -> str | None:
    """The model of `lang` when no `--model LANG=...` is given: opus-mt, or the engine's own default."""
    if engine in MT_ENGINES:
        return DEFAULT_MODELS.get(lang)
    own = getattr(engine_class(engine), "default_model", None)
    return str(own(lang)) if callable(own) else None


def check_engine_model(engine: str, lang: str, model: str) -> None:
    """Refuse, before anything loads, a model that the engine cannot use."""
    if engine in MT_ENGINES:
        check_model(lang, model)
        return
    own = getattr(engine_class(engine), "check_model", None)
    if callable(own):
        own(lang, model)


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
    cls = engine_class(engine)
    check_engine_model(engine, lang, str(model))
    kwargs = {"settings": settings, "target_token": target_token}
    if engine == "ct2":
        kwargs["cache_dir"] = cache_dir
    try:
        translator = cls(lang, model, **kwargs)
    except OSError as exc:  # from_pretrained: unknown Hub id, no network and no cache, missing files
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ToolkitError(f"language '{lang}': cannot load model '{model}': {first}") from None
    missing = [name for name in ("info", "translate") if not hasattr(translator, name)]
    if missing or not isinstance(getattr(translator, "info", None), EngineInfo):
        raise ToolkitError(
            f"engine '{engine}': its translator for '{lang}' lacks {', '.join(missing) or 'an EngineInfo'} "
            "(an engine needs `info: EngineInfo` and `translate(texts) -> list[str]`)"
        )
    return translator


__all__ = [
    "DEFAULT_MODELS",
    "DEFAULT_TARGET_TOKENS",
    "ENGINES",
    "MT_ENGINES",
    "check_engine_model",
    "check_engine_name",
    "default_model",
    "engine_class",
    "DecodeSettings",
    "EngineInfo",
    "Translator",
    "load_translator",
]
