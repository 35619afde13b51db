"""The Hub layout on disk: parquet tables per config and split, and the card's `configs` and
`dataset_info` YAML.

Column names, features and paths come from xfever/schema.py. Tables are written with the features'
Arrow schema (its metadata carries the `datasets` features, so `label` loads as a ClassLabel from
the files alone) and no timestamps, so the same rows always give the same parquet bytes (the resume
guarantee).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from xfever.schema import (
    CLAIM,
    ID,
    LABEL,
    QA_COLUMNS,
    REPHRASES,
    SOURCE_LANG,
    features,
    label_ids,
    parquet_path,
    translated_features,
)
from xfever.sources import Claim


def en_table(claims: Sequence[Claim]) -> Any:
    """`en` config rows: id, label, claim, rephrases."""
    import pyarrow as pa

    columns = {
        ID: [c.id for c in claims],
        LABEL: label_ids([c.label for c in claims]),
        CLAIM: [c.claim for c in claims],
        REPHRASES: [list(c.rephrases) for c in claims],
    }
    return pa.Table.from_pydict(columns, schema=features(SOURCE_LANG).arrow_schema)


def translated_table(base: Mapping[str, list], qa: Mapping[str, list]) -> Any:
    """Rows of a translated split: id, rephrase_index, label, claim, claim_en, QA columns.

    `base` holds the label names; columns it lacks (`rephrase_index` in `edit`) are null: both splits of
    a config carry them, because load_dataset casts every split of a config to one schema."""
    import pyarrow as pa

    schema = translated_features().arrow_schema
    rows = len(base[ID])
    columns: dict[str, list] = {}
    for name in schema.names:
        if name in QA_COLUMNS:
            columns[name] = list(qa[name])
        elif name == LABEL:
            columns[name] = label_ids(list(base[LABEL]))
        else:
            columns[name] = list(base[name]) if name in base else [None] * rows
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


def dataset_sizes(root: Path, counts: Mapping[str, Mapping[str, int]]) -> dict[str, dict[str, Any]]:
    """Per config, the sizes `push_to_hub` records: per split `num_examples` and `num_bytes` (the Arrow
    table in memory), `download_size` (the parquet files) and `dataset_size` (the splits' num_bytes)."""
    import pyarrow.parquet as pq

    sizes: dict[str, dict[str, Any]] = {}
    for config, splits in counts.items():
        entry: dict[str, Any] = {"splits": {}, "download_size": 0, "dataset_size": 0}
        for split in splits:
            path = root / parquet_path(config, split)
            table = pq.read_table(path)
            entry["splits"][split] = {"num_bytes": table.nbytes, "num_examples": table.num_rows}
            entry["download_size"] += path.stat().st_size
            entry["dataset_size"] += table.nbytes
        sizes[config] = entry
    return sizes


def card_dataset_info(configs: Sequence[str], sizes: Mapping[str, Mapping[str, Any]] | None = None) -> Any:
    """The card's YAML `dataset_info` as `push_to_hub` writes it: per config the features and, when the
    sizes are known (`dataset_sizes`), the splits and sizes."""
    from datasets import DatasetInfo, SplitDict, SplitInfo
    from datasets.info import DatasetInfosDict
    from huggingface_hub import DatasetCardData

    infos = {}
    for config in configs:
        info = DatasetInfo(config_name=config, features=features(config))
        if sizes is not None:
            info.splits = SplitDict()
            for split, size in sizes[config]["splits"].items():
                info.splits.add(SplitInfo(name=split, **size))
            info.download_size = sizes[config]["download_size"]
            info.dataset_size = sizes[config]["dataset_size"]
        infos[config] = info
    data = DatasetCardData()
    DatasetInfosDict(infos).to_dataset_card_data(data)
    entries = data["dataset_info"]
    entries = entries if isinstance(entries, list) else [entries]
    return [{key: value for key, value in entry.items() if value is not None} for entry in entries]
