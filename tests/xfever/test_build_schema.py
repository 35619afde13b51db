"""build.json of a real build against its shipped JSON Schema (draft 2020-12)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema

from common.schemas import load_schema


def test_build_json_matches_the_schema_its_version_names(built_small: Path) -> None:
    record = json.loads((built_small / "build.json").read_text(encoding="utf-8"))
    schema = load_schema("build", record["schema_version"])
    jsonschema.Draft202012Validator.check_schema(schema)
    check = jsonschema.Draft202012Validator(schema)
    errors = list(check.iter_errors(record))
    assert not errors, [(list(e.path), e.message) for e in errors]
    assert set(schema["required"]) == set(schema["properties"]) == set(record)
    bad = copy.deepcopy(record)
    bad["configs"]["de"]["edit"] = -1
    bad["engines"]["zh"].pop("stand_in")
    assert len(list(check.iter_errors(bad))) == 2
