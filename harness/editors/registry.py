"""Editors by name: a built-in alias, `package.module:object` or `path/to/file.py:object`."""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import inspect
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from common.errors import ToolkitError

# alias -> (import string, preset options). Presets are overridable by --editor-opt.
BUILTINS: dict[str, tuple[str, dict[str, Any]]] = {
    "none": ("harness.editors.noop:NoEdit", {}),
    "ft": ("harness.editors.ft:FineTune", {}),
    "tpatcher": ("harness.editors.tpatcher:TPatcher", {}),
    "mpn": ("harness.editors.tpatcher:TPatcher", {"multilingual": "one"}),
    "mpn-all": ("harness.editors.tpatcher:TPatcher", {"multilingual": "all"}),
    "ft-mpn": ("harness.editors.ft:FineTune", {"multilingual": "one"}),
}
SAMPLER_OPTIONS = ("multilingual", "train_langs")


def import_object(spec: str) -> Any:
    """`pkg.mod:obj` or `path/to/file.py:obj` -> the object."""
    target, _, name = spec.rpartition(":")
    if not target or not name:
        raise ToolkitError(f"--editor {spec!r}: expected an alias or MODULE:OBJECT / FILE.py:OBJECT")
    if target.endswith(".py"):
        path = Path(target)
        if not path.is_file():
            raise ToolkitError(f"--editor {spec!r}: file {path} not found")
        module_name = f"harness_user_editor_{abs(hash(str(path.resolve())))}"
        loader = importlib.util.spec_from_file_location(module_name, path)
        if loader is None or loader.loader is None:
            raise ToolkitError(f"--editor {spec!r}: cannot import {path}")
        module = importlib.util.module_from_spec(loader)
        loader.loader.exec_module(module)
    else:
        try:
            module = importlib.import_module(target)
        except ImportError as exc:
            raise ToolkitError(f"--editor {spec!r}: cannot import module {target!r} ({exc})") from exc
    if not hasattr(module, name):
        raise ToolkitError(f"--editor {spec!r}: {target} has no object {name!r}")
    return getattr(module, name)


def unknown_alias(name: str) -> ToolkitError:
    close = difflib.get_close_matches(name, BUILTINS, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    known = ", ".join(BUILTINS)
    return ToolkitError(
        f"--editor {name!r}: unknown editor.{hint} Known: {known}, or MODULE:OBJECT, FILE.py:OBJECT"
    )


def load_editor(name: str, options: Mapping[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
    """Build the editor `name` with `options`; return it and its resolved settings (for results)."""
    options = dict(options or {})
    if ":" in name:
        target, preset = name, {}
    elif name in BUILTINS:
        target, preset = BUILTINS[name]
    else:
        raise unknown_alias(name)
    merged = {**preset, **options}
    sampler = {k: merged.pop(k) for k in SAMPLER_OPTIONS if k in merged}
    editor = _instantiate(import_object(target), merged, name)
    if sampler.get("multilingual") not in (None, "", "none", False):
        from harness.editors.mpn import MultilingualSampler

        editor = MultilingualSampler(editor, sampler["multilingual"], sampler.get("train_langs"))
    elif sampler.get("train_langs"):
        raise ToolkitError(f"editor {name}: train_langs needs multilingual=one or multilingual=all")
    if not callable(editor):
        raise ToolkitError(f"--editor {name!r}: {type(editor).__name__} is not callable")
    from harness.editors.base import settings_of

    return editor, settings_of(editor) or dict(merged)


def _instantiate(obj: Any, options: dict[str, Any], name: str) -> Any:
    """Classes are instantiated with the options; a function or instance is the editor itself."""
    if inspect.isclass(obj):
        try:
            return obj(**options)
        except TypeError as exc:
            raise ToolkitError(f"editor {name}: cannot build it with options {options}: {exc}") from exc
    if options:
        raise ToolkitError(f"editor {name}: a plain function takes no options, got {sorted(options)}")
    return obj
