"""Translation engines behind one `Translator` interface."""

from xfever.translate.base import DecodeSettings, EngineInfo, Translator

__all__ = ["DecodeSettings", "EngineInfo", "Translator"]
