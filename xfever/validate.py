"""`validate(folder)`: is this folder a complete XFEVER build that `load_dataset` reads as described?

Checks: build.json parses; the card (README.md) parses and its YAML `configs` list exactly the configs,
splits and files of build.json; every parquet file exists; `datasets.load_dataset(folder, config,
split=...)` loads each split with the schema's columns and build.json's row count. All problems are
collected and reported together in one ToolkitError.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common.errors import ToolkitError
from xfever.schema import (
    BUILD_FILE,
    CARD_FILE,
    CLAIM,
    CLAIM_EN,
    ID,
    LABEL,
    QA_COLUMNS,
    REPHRASE_INDEX,
    REPHRASES,
    SOURCE_LANG,
    check_schema_version,
    parquet_path,
)


@dataclass(frozen=True)
class ValidationReport:
    """Row counts loaded per config and split (all equal to build.json's when validation passed)."""

    folder: Path
    rows: dict[str, dict[str, int]]


def expected_columns(config: str, split: str) -> list[str]:
    if config == SOURCE_LANG:
        return [ID, LABEL, CLAIM, REPHRASES]
    return [ID, REPHRASE_INDEX, LABEL, CLAIM, CLAIM_EN, *QA_COLUMNS]


def _read_build(folder: Path) -> dict[str, Any]:
    path = folder / BUILD_FILE
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ToolkitError(f"{path}: cannot read ({err.strerror or err})") from None
    except ValueError as err:
        raise ToolkitError(f"{path}: not valid JSON ({err})") from None
    check_schema_version(record, str(path))
    configs = record.get("configs") if isinstance(record, dict) else None
    if not isinstance(configs, dict) or not configs:
        raise ToolkitError(f"{path}: field 'configs': missing or empty")
    for config, splits in configs.items():
        if not isinstance(splits, dict) or not all(
            isinstance(s, str) and isinstance(n, int) for s, n in splits.items()
        ):
            raise ToolkitError(f"{path}: field 'configs.{config}': expected {{split: row count}}")
    return record


def _card_problems(folder: Path, counts: dict[str, dict[str, int]]) -> list[str]:
    from huggingface_hub import DatasetCard

    path = folder / CARD_FILE
    if not path.is_file():
        return [f"{path}: missing dataset card"]
    try:
        data = DatasetCard.load(path).data.to_dict()
    except Exception as err:  # yaml or card-format errors of any kind
        return [
            f"{path}: card does not parse ({str(err).splitlines()[0] if str(err) else type(err).__name__})"
        ]
    configs = data.get("configs")
    if not isinstance(configs, list):
        return [f"{path}: field 'configs': missing from the card's YAML"]
    in_card = {}
    for entry in configs:
        files = entry.get("data_files") if isinstance(entry, dict) else None
        if not isinstance(files, list):
            return [f"{path}: field 'configs': entry {entry!r} has no data_files list"]
        in_card[entry.get("config_name")] = {
            f.get("split"): f.get("path") for f in files if isinstance(f, dict)
        }
    expected = {c: {s: parquet_path(c, s) for s in splits} for c, splits in counts.items()}
    if in_card != expected:
        return [f"{path}: field 'configs': card lists {in_card}, build.json says {expected}"]
    if data.get("license") != "cc-by-sa-3.0":
        return [f"{path}: field 'license': expected cc-by-sa-3.0, got {data.get('license')!r}"]
    return []


def _load_problems(folder: Path, counts: dict[str, dict[str, int]], rows: dict) -> list[str]:
    import datasets

    from common.dataset_loading import load_split

    problems = []
    bars = datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()
    try:
        for config, splits in counts.items():
            for split, expected in splits.items():
                where = f"{folder}: config '{config}', split '{split}'"
                try:
                    data = load_split(folder, config, split)
                except Exception as err:  # any loader failure is a finding, not a crash
                    problems.append(f"{where}: load_dataset failed ({type(err).__name__}: {err})")
                    continue
                rows.setdefault(config, {})[split] = data.num_rows
                if data.num_rows != expected:
                    problems.append(f"{where}: {data.num_rows} rows, build.json says {expected}")
                if data.column_names != expected_columns(config, split):
                    problems.append(
                        f"{where}: columns {data.column_names}, expected {expected_columns(config, split)}"
                    )
    finally:
        if bars:
            datasets.enable_progress_bars()
    return problems


def validate(folder: str | Path) -> ValidationReport:
    """Check a build folder; raise ToolkitError listing every problem found."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ToolkitError(f"{folder}: no such folder")
    record = _read_build(folder)
    counts = record["configs"]
    problems = _card_problems(folder, counts)
    for config, splits in counts.items():
        for split in splits:
            if not (folder / parquet_path(config, split)).is_file():
                problems.append(f"{folder / parquet_path(config, split)}: missing parquet file")
    rows: dict[str, dict[str, int]] = {}
    if not problems:
        problems = _load_problems(folder, counts, rows)
    if problems:
        listed = "\n".join(f"  - {p}" for p in problems)
        raise ToolkitError(f"{folder} is not a valid XFEVER build:\n{listed}")
    return ValidationReport(folder, rows)
