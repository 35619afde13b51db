"""The Hub layout on disk: parquet tables per config and split, and the card's `configs` YAML.

Column names and paths come from xfever/schema.py. Tables carry explicit Arrow schemas and no
timestamps, so the same rows always give the same parquet bytes (the resume guarantee).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from xfever.schema import (
    CLAIM,
    CLAIM_EN,
    ID,
    LABEL,
    QA_COLUMNS,
    REPHRASE_INDEX,
    REPHRASES,
    SOURCE_LANG,
    parquet_path,
)
from xfever.sources import Claim

_QA_TYPES = {"qa_detected_lang": "string", "qa_length_ratio": "float64"}  # the rest are bool


def _qa_fields() -> list[Any]:
    import pyarrow as pa

    kinds = {"string": pa.string(), "float64": pa.float64(), "bool": pa.bool_()}
    return [pa.field(name, kinds[_QA_TYPES.get(name, "bool")]) for name in QA_COLUMNS]


def en_table(claims: Sequence[Claim]) -> Any:
    """`en` config rows: id, label, claim, rephrases."""
    import pyarrow as pa

    schema = pa.schema(
        [
            pa.field(ID, pa.string()),
            pa.field(LABEL, pa.string()),
            pa.field(CLAIM, pa.string()),
            pa.field(REPHRASES, pa.list_(pa.string())),
        ]
    )
    columns = {
        ID: [c.id for c in claims],
        LABEL: [c.label for c in claims],
        CLAIM: [c.claim for c in claims],
        REPHRASES: [list(c.rephrases) for c in claims],
    }
    return pa.Table.from_pydict(columns, schema=schema)


def translated_table(base: Mapping[str, list], qa: Mapping[str, list]) -> Any:
    """Rows of a translated split: id, rephrase_index, label, claim, claim_en, QA columns."""
    import pyarrow as pa

    # Both splits of a config carry `rephrase_index` (null in `edit`): load_dataset casts every split
    # of a config to one schema.
    head = [pa.field(ID, pa.string()), pa.field(REPHRASE_INDEX, pa.int64())]
    head += [pa.field(LABEL, pa.string()), pa.field(CLAIM, pa.string()), pa.field(CLAIM_EN, pa.string())]
    schema = pa.schema(head + _qa_fields())
    rows = len(base[ID])
    columns = {f.name: list(base[f.name]) if f.name in base else [None] * rows for f in head}
    columns.update({name: list(qa[name]) for name in QA_COLUMNS})
    return pa.Table.from_pydict(columns, schema=schema)


def write_split(root: Path, config: str, split: str, table: Any) -> int:
    """Write one split's single parquet shard under `root`; return its row count."""
    import pyarrow.parquet as pq

    path = root / parquet_path(config, split)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="zstd")
    return table.num_rows


def card_configs(counts: Mapping[str, Mapping[str, int]]) -> list[dict[str, Any]]:
    """The card's YAML `configs`: one per language, `en` first and default."""
    configs = []
    for config, splits in counts.items():
        entry: dict[str, Any] = {
            "config_name": config,
            "data_files": [{"split": split, "path": parquet_path(config, split)} for split in splits],
        }
        if config == SOURCE_LANG:
            entry["default"] = True
        configs.append(entry)
    return configs
