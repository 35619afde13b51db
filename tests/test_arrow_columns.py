"""Reading data through Arrow columns (issue 15): the same values as `datasets`' row-by-row reading."""

from __future__ import annotations

import pytest

from common.dataset_loading import columns
from xfever import schema


@pytest.mark.parametrize("mapped", [False, True])
def test_columns_equal_row_by_row_reading(mapped):
    import datasets

    features = datasets.Features(
        {
            "id": datasets.Value("string"),
            "label": datasets.ClassLabel(names=list(schema.LABELS)),
            "rephrases": datasets.Sequence(datasets.Value("string")),
        }
    )
    data = {
        "id": [f"r{i}" for i in range(50)],
        "label": [i % len(schema.LABELS) for i in range(50)],
        "rephrases": [[f"x{i}"] * (i % 3) for i in range(50)],
    }
    ds = datasets.Dataset.from_dict(data, features=features)
    if mapped:  # an indices mapping (select/shuffle) must be applied, not the raw table read
        ds = ds.shuffle(seed=0).select(range(10, 40))
    got = columns(ds, "id", "label", "rephrases")
    assert got == {name: [row[name] for row in ds] for name in ("id", "label", "rephrases")}
    feature = ds.features["label"]
    assert schema.label_names_of(ds) == [feature.int2str(row["label"]) for row in ds]
