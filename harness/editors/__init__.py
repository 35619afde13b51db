"""Editors: the interface (`base`), the built-ins (`ft`, `tpatcher`, the MPN sampler) and the registry."""

from __future__ import annotations

from harness.editors.base import Editor, EditorError, EditRecord, EditRequest, Memory
from harness.editors.registry import BUILTINS, load_editor

__all__ = ["BUILTINS", "EditRecord", "EditRequest", "Editor", "EditorError", "Memory", "load_editor"]
