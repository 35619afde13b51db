"""results.json against its shipped JSON Schema (draft 2020-12), found through its schema_version."""

from __future__ import annotations

import copy
import json

import jsonschema
import pytest

from common.errors import ToolkitError
from common.schemas import load_schema


def validator(kind: str, version: int) -> jsonschema.Draft202012Validator:
    schema = load_schema(kind, version)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


@pytest.fixture(scope="module")
def results(report_runs) -> dict[str, dict]:
    return {name: json.loads((run / "results.json").read_text()) for name, run in report_runs.items()}


def test_results_of_real_runs_match_the_schema_their_version_names(results):
    for data in results.values():
        errors = list(validator("results", data["schema_version"]).iter_errors(data))
        assert not errors, [(list(e.path), e.message) for e in errors]


def test_the_schema_names_exactly_the_fields_results_json_has(results):
    schema = load_schema("results", 2)
    for data in results.values():
        assert set(schema["required"]) == set(schema["properties"]) == set(data)


def _set(path: str, value):
    def change(data: dict) -> None:
        *parents, last = path.split(".")
        for key in parents:
            data = data[key]
        if value is KeyError:
            del data[last]
        else:
            data[last] = value

    return change


@pytest.mark.parametrize(
    "change",
    [
        _set("metrics_info", KeyError),
        _set("metrics.reliability.value", 1.5),  # fractions are in [0, 1]
        _set("metrics.patch_num.value", 2.5),  # a count
        _set("metrics.clg_de.ci", [0.1]),
        _set("stand_in", {"model": None, "dataset": None}),  # "no stand-in" is null
        _set("scored.edit_ids_sha256", "e0c9a2"),
        _set("dropout", "sometimes"),
        _set("surprise", 1),
    ],
)
def test_the_schema_rejects_drift(results, change):
    data = copy.deepcopy(results["tpatcher"])
    change(data)
    assert list(validator("results", 2).iter_errors(data))


def test_an_unknown_version_has_no_schema():
    with pytest.raises(ToolkitError, match="no JSON Schema for results schema_version 9"):
        load_schema("results", 9)
