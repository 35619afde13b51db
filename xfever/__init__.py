"""xfever: build, validate and publish the XFEVER cross-lingual model-editing dataset."""

from __future__ import annotations

__version__ = "0.1.0"
