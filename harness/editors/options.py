"""Editor options: `key=value` strings and YAML values -> typed settings dataclasses."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from common.errors import ToolkitError, UsageError


def parse_value(text: str) -> Any:
    """`"1e-3"` -> 0.001, `"true"` -> True, `"de,fr"` -> "de,fr" (YAML scalars)."""
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def parse_options(pairs: Iterable[str]) -> dict[str, Any]:
    """`["lr=1e-3", "train_langs=de,fr"]` -> `{"lr": 0.001, "train_langs": "de,fr"}`."""
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--editor-opt {pair!r}: expected key=value")
        options[key.strip().replace("-", "_")] = parse_value(value.strip())
    return options


def build_settings(cls: type, options: Mapping[str, Any], editor: str) -> Any:
    """`cls(**options)` with the unknown or mistyped option named in the error."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(options) - set(fields))
    if unknown:
        raise UsageError(f"editor {editor}: unknown option(s) {unknown}; known: {sorted(fields)}")
    typed = {}
    for key, value in options.items():
        default = fields[key].default
        if isinstance(default, bool) and not isinstance(value, bool):
            raise UsageError(f"editor {editor}: option {key}: expected true/false, got {value!r}")
        if isinstance(default, (int, float)) and not isinstance(default, bool):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise UsageError(f"editor {editor}: option {key}: expected a number, got {value!r}")
            value = type(default)(value) if isinstance(default, float) or float(value).is_integer() else value
        typed[key] = value
    try:
        return cls(**typed)
    except (TypeError, ValueError) as exc:
        raise ToolkitError(f"editor {editor}: {exc}") from exc
