"""Fixtures for the extras tests: tiny Hub-shaped dataset folders and a tiny trained base model."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from harness.data.suite import Example


def write_hub_folder(root: Path, configs: Mapping[str, Mapping[str, Any]]) -> Path:
    """Write `{config: {split: datasets.Dataset}}` as parquet shards + a README with YAML `configs`."""
    lines = ["---", "configs:"]
    for config, splits in configs.items():
        lines += [f"- config_name: {config}", "  data_files:"]
        for split, ds in splits.items():
            rel = f"{config}/{split}-00000-of-00001.parquet"
            (root / config).mkdir(parents=True, exist_ok=True)
            ds.to_parquet(str(root / rel))
            lines += [f"  - split: {split}", f"    path: {rel}"]
    lines += ["---", "", "A tiny test folder.", ""]
    (root / "README.md").write_text("\n".join(lines), encoding="utf-8")
    return root


@pytest.fixture(scope="session")
def fever_examples(fever_sample: Path) -> list[Example]:
    rows = [json.loads(line) for line in fever_sample.read_text(encoding="utf-8").splitlines()]
    return [Example(r["id"], (r["input"],), r["output"][0]["answer"]) for r in rows]


@pytest.fixture(scope="session")
def fever_split(fever_examples: list[Example]) -> tuple[list[Example], list[Example]]:
    """Deterministic held-out cut of the bundled claims: every 4th row validates (60 rows)."""
    validation = fever_examples[::4]
    train = [ex for i, ex in enumerate(fever_examples) if i % 4]
    return train, validation
