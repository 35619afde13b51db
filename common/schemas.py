"""JSON Schemas (draft 2020-12) of the toolkit's JSON outputs, shipped as package data.

A file's `schema_version` names its schema; this table is the mapping (also in the README):

| file                       | schema_version | schema                                   |
|----------------------------|----------------|------------------------------------------|
| run folder `results.json`  | 2              | `harness/report/results-v2.schema.json`  |
| build folder `build.json`  | 2              | `xfever/build-v2.schema.json`            |

Each schema's `$id` is `urn:xfever-toolkit:schema:<kind>:<version>`. Validate with any draft 2020-12
validator, e.g. `jsonschema.validate(data, load_schema("results", data["schema_version"]))`. A new
field or a changed meaning means a new schema_version and a new schema file next to the old one.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from common.errors import ToolkitError

SCHEMAS: dict[tuple[str, int], tuple[str, str]] = {
    ("results", 2): ("harness.report", "results-v2.schema.json"),
    ("build", 1): ("xfever", "build-v1.schema.json"),
    ("build", 2): ("xfever", "build-v2.schema.json"),  # 2: label a ClassLabel, dataset_info sizes
}


def schema_file(kind: str, version: int) -> Any:
    """The shipped schema file (an importlib.resources Traversable) of `kind` at `version`."""
    try:
        package, name = SCHEMAS[(kind, version)]
    except KeyError:
        known = ", ".join(f"{k} v{v}" for k, v in SCHEMAS)
        raise ToolkitError(
            f"no JSON Schema for {kind} schema_version {version!r} (shipped: {known})"
        ) from None
    return resources.files(package).joinpath(name)


def load_schema(kind: str, version: int) -> dict[str, Any]:
    """The schema of `kind` (`results` | `build`) at `version`, as a dict."""
    return json.loads(schema_file(kind, version).read_text(encoding="utf-8"))
