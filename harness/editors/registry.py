"""Editors by name: a built-in alias, `package.module:object` or `path/to/file.py:object`."""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import inspect
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common.errors import ToolkitError, UsageError

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
USER_MODULE_PREFIX = "harness_user_editor_"  # FILE.py editors' modules (shipped by value to Ray workers)


def import_object(spec: str) -> Any:
    """`pkg.mod:obj` or `path/to/file.py:obj` -> the object."""
    target, _, name = spec.rpartition(":")
    if not target or not name:
        raise UsageError(f"--editor {spec!r}: expected an alias or MODULE:OBJECT / FILE.py:OBJECT")
    if target.endswith(".py"):
        path = Path(target)
        if not path.is_file():
            raise UsageError(f"--editor {spec!r}: file {path} not found")
        module_name = f"{USER_MODULE_PREFIX}{abs(hash(str(path.resolve())))}"
        loader = importlib.util.spec_from_file_location(module_name, path)
        if loader is None or loader.loader is None:
            raise UsageError(f"--editor {spec!r}: cannot import {path}")
        module = importlib.util.module_from_spec(loader)
        sys.modules[module_name] = module  # dataclasses and pickling look their module up there
        try:
            loader.loader.exec_module(module)
        except Exception as exc:
            sys.modules.pop(module_name, None)
            raise UsageError(
                f"--editor {spec!r}: importing {path} failed: {type(exc).__name__}: {exc}"
            ) from exc
    else:
        try:
            module = importlib.import_module(target)
        except ImportError as exc:
            raise UsageError(f"--editor {spec!r}: cannot import module {target!r} ({exc})") from exc
    if not hasattr(module, name):
        raise UsageError(f"--editor {spec!r}: {target} has no object {name!r}")
    return getattr(module, name)


def unknown_alias(name: str) -> ToolkitError:
    close = difflib.get_close_matches(name, BUILTINS, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    known = ", ".join(BUILTINS)
    return UsageError(
        f"--editor {name!r}: unknown editor.{hint} Known: {known}, or MODULE:OBJECT, FILE.py:OBJECT"
    )


@dataclass(frozen=True)
class LoadedEditor:
    """An editor ready to run, with what results record of it."""

    editor: Any
    name: str  # the alias or import string (an object's module:qualname)
    settings: dict[str, Any]
    changes: str | None  # "last_ffn" lets the harness use the cached path
    code_sha256: str | None  # the source file of the editor's code: part of a run's identity
    run_settings: dict[str, str] = field(default_factory=dict)  # what its preset needs of the run

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "settings": self.settings,
            "changes": self.changes,
            "code": self.code_sha256,
        }


def load_editor(spec: Any, options: Mapping[str, Any] | None = None) -> LoadedEditor:
    """Build the editor `spec` (alias, import string, or an editor class, object or function) with
    `options`; a class is instantiated with them, MPN's sampler options wrap it."""
    from harness.config import editor_name
    from harness.editors.base import editor_changes, settings_of

    options = dict(options or {})
    name = editor_name(spec)
    if not isinstance(spec, str):
        target, preset = spec, {}
    elif ":" in spec:
        target, preset = import_object(spec), {}
    elif spec in BUILTINS:
        target, preset = import_object(BUILTINS[spec][0]), BUILTINS[spec][1]
    else:
        raise unknown_alias(spec)
    merged = {**preset, **options}
    sampler = {k: merged.pop(k) for k in SAMPLER_OPTIONS if k in merged}
    editor = _instantiate(target, merged, name)
    if sampler.get("multilingual") not in (None, "", "none", False):
        from harness.editors.mpn import MultilingualSampler

        editor = MultilingualSampler(editor, sampler["multilingual"], sampler.get("train_langs"))
    elif sampler.get("train_langs"):
        raise UsageError(f"editor {name}: train_langs needs multilingual=one or multilingual=all")
    if not callable(editor):
        raise UsageError(f"--editor {name!r}: {type(editor).__name__} is not callable")
    settings = settings_of(editor) or dict(merged)
    declared = getattr(editor, "run_settings", None)
    run_settings = dict(declared()) if callable(declared) else {}
    return LoadedEditor(editor, name, settings, editor_changes(editor), code_sha256(target), run_settings)


def code_sha256(target: Any) -> str | None:
    """SHA-256 of the source file that defines `target` (None for objects without one)."""
    import hashlib

    obj = target if inspect.isclass(target) or inspect.isroutine(target) else type(target)
    try:
        path = inspect.getsourcefile(obj)
    except TypeError:
        return None
    if not path or not Path(path).is_file():
        return None
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _instantiate(obj: Any, options: dict[str, Any], name: str) -> Any:
    """Classes are instantiated with the options; a function or instance is the editor itself."""
    if inspect.isclass(obj):
        try:
            return obj(**options)
        except TypeError as exc:
            raise UsageError(f"editor {name}: cannot build it with options {options}: {exc}") from exc
    if options:
        raise UsageError(f"editor {name}: a plain function takes no options, got {sorted(options)}")
    return obj
