"""Settings dataclasses: defaults and help text declared once on the fields, merged from a YAML file
and the flags given.

`setting(...)` declares a field (default, help, how to parse a flag's or file's value, the flag's
name); `resolve(Cls, params, file)` merges, in this order, the dataclass default, the `--config`
file and the flags given; `build(Cls, kwargs)` constructs it with a missing setting named. The CLIs
(`common.cli`) turn the same fields into click options, so `--help`, the Python API and the results
file never disagree about a default.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from common.errors import ToolkitError, UsageError

MISSING = dataclasses.MISSING


def setting(default: Any = MISSING, help: str = "", **meta: Any) -> Any:  # noqa: A002
    """A dataclass field with its help text and CLI hints in `metadata`.

    Hints: `flag` (option name, default `--field-name`), `choices`, `parse` (str or tuple of str ->
    value), `multiple` (repeatable option), `metavar`, `cli=False` (no option), `factory` (a default
    factory instead of a default), `show` (how --help shows the default), `aliases` (other keys a
    --config file may use).
    """
    factory = meta.pop("factory", None)
    metadata = {"help": help, **meta}
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def default_of(field: dataclasses.Field) -> Any:
    if field.default is not MISSING:
        return field.default
    if field.default_factory is not MISSING:  # type: ignore[misc]
        return field.default_factory()  # type: ignore[misc]
    return MISSING


def read_config_file(path: str | Path | None) -> dict[str, Any]:
    """The settings mapping of a YAML file; a missing, unreadable or malformed file is a UsageError."""
    if path is None:
        return {}
    import yaml

    path = Path(path)
    if not path.is_file():
        raise UsageError(f"--config {path}: no such file")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise UsageError(f"--config {path}{line}: not valid YAML ({exc})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--config {path}: cannot read it ({exc})") from None
    if not isinstance(data, dict):
        raise UsageError(f"--config {path}: expected a mapping of settings, got {type(data).__name__}")
    return {str(k).replace("-", "_"): v for k, v in data.items()}


def parse_field(field: dataclasses.Field, value: Any, where: str) -> Any:
    """A flag's or file's value as the field wants it (through the field's `parse` when it has one)."""
    parse = field.metadata.get("parse")
    if parse is None:
        return value
    try:
        return parse(value)
    except ToolkitError:
        raise
    except (TypeError, ValueError) as exc:
        raise UsageError(f"{where}: {exc}") from None


def resolve(
    cls: type,
    params: Mapping[str, Any],
    file_settings: Mapping[str, Any] | None = None,
    *,
    file_name: str | Path | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Keyword arguments for `cls`: the file's settings, overlaid by the flags given, plus `extra`.

    Keys of the file that are no field of `cls` are a UsageError naming the file and the key (pass
    the leftovers of one file through several classes with `split_settings`)."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    aliases = {a: f.name for f in fields.values() for a in f.metadata.get("aliases", ())}
    settings: dict[str, Any] = {}
    for key, value in (file_settings or {}).items():
        key = aliases.get(key, key)
        if key not in fields:
            known = ", ".join(sorted(n for n, f in fields.items() if f.metadata.get("cli", True)))
            raise UsageError(f"--config {file_name}: unknown setting {key!r} (known: {known})")
        settings[key] = parse_field(fields[key], value, f"--config {file_name}: setting {key!r}")
    for name, field in fields.items():
        if name not in params:
            continue
        value = params[name]
        if value is None or (field.metadata.get("multiple") and value == ()):
            continue
        flag = field.metadata.get("flag") or "--" + name.replace("_", "-")
        value = parse_field(field, value, flag)
        if isinstance(value, dict) and isinstance(settings.get(name), dict):  # --editor-opt on a file's
            value = {**settings[name], **value}
        settings[name] = value
    settings.update(extra or {})
    return settings


def split_settings(settings: Mapping[str, Any], *classes: type) -> list[dict[str, Any]]:
    """One file's settings cut by class (first class that has the field wins); leftovers last."""
    parts: list[dict[str, Any]] = [{} for _ in range(len(classes) + 1)]
    names = [
        {f.name for f in dataclasses.fields(c)}
        | {a for f in dataclasses.fields(c) for a in f.metadata.get("aliases", ())}
        for c in classes
    ]
    for key, value in settings.items():
        index = next((i for i, n in enumerate(names) if key in n), len(classes))
        parts[index][key] = value
    return parts


def build(cls: type, kwargs: Mapping[str, Any]) -> Any:
    """`cls(**kwargs)`; a missing required setting or a constructor's TypeError is a UsageError."""
    required = [f.name for f in dataclasses.fields(cls) if default_of(f) is MISSING and f.name not in kwargs]
    if required:
        flags = ", ".join("--" + n.replace("_", "-") for n in required)
        raise UsageError(f"{flags}: required (as a flag or in --config)")
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise UsageError(str(exc)) from None


def csv_tuple(value: str | Iterable[str] | None) -> tuple[str, ...] | None:
    """`"de, fr"` or `["de", "fr"]` -> `("de", "fr")`; None stays None."""
    if value is None:
        return None
    items = value.split(",") if isinstance(value, str) else list(value)
    return tuple(str(item).strip() for item in items if str(item).strip())
