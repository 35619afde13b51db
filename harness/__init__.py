"""harness: the cross-lingual model-editing evaluation harness (MPN paper protocol)."""

from __future__ import annotations

__version__ = "0.1.0"
