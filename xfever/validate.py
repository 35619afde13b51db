"""`validate(folder)`: is this folder a complete XFEVER build that `load_dataset` reads as described?

Checks: build.json parses and has this layout version; every parquet file exists; the card (README.md)
parses, and its YAML `configs` resolve, the way `datasets` resolves them (exact paths or the globs
`push_to_hub` writes, such as `de/edit-*`), to exactly the configs, splits and files of build.json; its
`dataset_info` gives each config the schema's features; `datasets.load_dataset(folder, config,
split=...)` loads each split with the schema's features and build.json's row count. All problems are
collected and reported together in one ToolkitError.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common.errors import ToolkitError
from xfever.schema import BUILD_FILE, CARD_FILE, check_schema_version, features, parquet_path


@dataclass(frozen=True)
class ValidationReport:
    """Row counts loaded per config and split (all equal to build.json's when validation passed)."""

    folder: Path
    rows: dict[str, dict[str, int]]


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


def _first_line(err: Exception) -> str:
    text = str(err).strip()
    return f"{type(err).__name__}: {text.splitlines()[0]}" if text else type(err).__name__


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
    if not isinstance(configs, list) or not all(isinstance(c, dict) for c in configs):
        return [f"{path}: field 'configs': missing from the card's YAML"]
    named = [c.get("config_name") for c in configs]
    if sorted(map(str, named)) != sorted(counts):
        return [f"{path}: field 'configs': card lists configs {named}, build.json says {list(counts)}"]
    if data.get("license") != "cc-by-sa-3.0":
        return [f"{path}: field 'license': expected cc-by-sa-3.0, got {data.get('license')!r}"]
    return []


def _resolution_problems(folder: Path, counts: dict[str, dict[str, int]]) -> list[str]:
    """Each config's data files as `datasets` resolves them, and its `dataset_info` features."""
    from common.dataset_loading import load_builder

    path = folder / CARD_FILE
    problems = []
    for config, splits in counts.items():
        try:
            builder = load_builder(folder, config)
        except Exception as err:  # a glob matching nothing, a bad pattern: a finding, not a crash
            problem = f"config '{config}' does not resolve: {_first_line(err)}"
            problems.append(f"{path}: field 'configs': {problem}")
            continue
        resolved = {  # relative to the folder ("../x" for a file outside it)
            str(split): sorted(
                Path(os.path.relpath(Path(f).resolve(), folder.resolve())).as_posix() for f in files
            )
            for split, files in (builder.config.data_files or {}).items()
        }
        expected = {split: [parquet_path(config, split)] for split in splits}
        if resolved != expected:
            problems.append(
                f"{path}: field 'configs': config '{config}' resolves to {resolved}, "
                f"build.json says {expected}"
            )
        info = builder.info
        if info.features is None:
            problems.append(
                f"{path}: field 'dataset_info': no features for config '{config}' (rebuild, or re-render "
                "the card with `xfever card FOLDER`)"
            )
        elif info.features != features(config):
            difference = _feature_difference(info.features, config)
            problems.append(f"{path}: field 'dataset_info': config '{config}': {difference}")
    return problems


def _feature_difference(found: Any, config: str) -> str:
    """How loaded features differ from the schema's, in words."""
    expected = features(config)
    if list(found) != list(expected):
        return f"columns {list(found)}, expected {list(expected)}"
    return "; ".join(
        f"column '{name}' is {found[name]!r}, expected {expected[name]!r}"
        for name in expected
        if found[name] != expected[name]
    )


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
                if data.features != features(config):
                    problems.append(f"{where}: {_feature_difference(data.features, config)}")
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
    problems = [
        f"{folder / parquet_path(config, split)}: missing parquet file"
        for config, splits in counts.items()
        for split in splits
        if not (folder / parquet_path(config, split)).is_file()
    ]
    problems += _card_problems(folder, counts)
    if not problems:
        problems = _resolution_problems(folder, counts)
    rows: dict[str, dict[str, int]] = {}
    if not problems:
        problems = _load_problems(folder, counts, rows)
    if problems:
        listed = "\n".join(f"  - {p}" for p in problems)
        raise ToolkitError(f"{folder} is not a valid XFEVER build:\n{listed}")
    return ValidationReport(folder, rows)
