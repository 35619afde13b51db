"""Issue 5: `xfever build --engine ct2` and `--engine transformers` give the same dataset structure.

The transformers build is the session's `built_small` (de + zh, 24 edit rows, translated rephrases);
the ct2 build repeats it with `--engine ct2` (int8 on CPU: `--precision auto`). Translations may
differ (int8), everything else must not: configs, splits, columns, Arrow types, ids, row counts,
labels, English sources and the QA columns.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from xfever import schema

pytest.importorskip("ctranslate2")

# Columns that depend on the translation itself; every other column must be equal row for row.
TRANSLATION_DEPENDENT = {schema.CLAIM, *schema.QA_COLUMNS}


@pytest.fixture(scope="session")
def built_ct2(
    tmp_path_factory: pytest.TempPathFactory,
    small_edit_file: Path,
    models_for,
    small_args: list[str],
) -> Path:
    """`built_small` again, with `--engine ct2` (conversion cached under the test's own folder)."""
    from click.testing import CliRunner

    from xfever.cli import main

    root = tmp_path_factory.mktemp("built-ct2")
    out = root / "xfever_data"
    args = ["build", "--langs", "de,zh", "--edit-file", str(small_edit_file), "--out", str(out)]
    args += ["--engine", "ct2", "--cache-dir", str(root / "cache"), *small_args, *models_for("de,zh")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return out


def _tables(folder: Path) -> dict[str, object]:
    import pyarrow.parquet as pq

    return {str(path.relative_to(folder)): pq.read_table(path) for path in sorted(folder.glob("*/*.parquet"))}


def _build(folder: Path) -> dict:
    return json.loads((folder / schema.BUILD_FILE).read_text(encoding="utf-8"))


def test_both_engines_validate(built_small: Path, built_ct2: Path) -> None:
    from click.testing import CliRunner

    from xfever.cli import main

    for folder in (built_small, built_ct2):
        result = CliRunner().invoke(main, ["validate", str(folder)])
        assert result.exit_code == 0, result.output


def test_engines_recorded(built_small: Path, built_ct2: Path) -> None:
    ours, theirs = _build(built_small), _build(built_ct2)
    assert {e["engine"] for e in ours["engines"].values()} == {"transformers"}
    assert {e["engine"] for e in theirs["engines"].values()} == {"ct2"}
    assert ours["settings"]["engine"] == "transformers"
    assert theirs["settings"]["engine"] == "ct2"
    assert ours["configs"] == theirs["configs"]
    assert ours["configs"]["de"] == {"edit": 24, "rephrases": 48}


def test_identical_structure(built_small: Path, built_ct2: Path) -> None:
    ours, theirs = _tables(built_small), _tables(built_ct2)
    assert sorted(ours) == sorted(theirs)
    assert {"de/edit-00000-of-00001.parquet", "zh/rephrases-00000-of-00001.parquet"} <= set(ours)
    for path, table in ours.items():
        other = theirs[path]
        assert table.schema == other.schema, path  # names, order and Arrow types
        assert table.num_rows == other.num_rows > 0, path
        config = path.split("/")[0]
        if config != schema.SOURCE_LANG:
            assert set(schema.QA_COLUMNS) <= set(table.column_names), path
        for column in table.column_names:
            if column not in TRANSLATION_DEPENDENT or config == schema.SOURCE_LANG:
                assert table[column].to_pylist() == other[column].to_pylist(), (path, column)


def test_ct2_translations_are_real(built_ct2: Path) -> None:
    """The ct2 build translated every row (no empty placeholders) and its QA columns are filled."""
    tables = _tables(built_ct2)
    for path, table in tables.items():
        if path.startswith(schema.SOURCE_LANG + "/"):
            continue
        rows = table.to_pylist()
        assert all(r[schema.CLAIM].strip() for r in rows), path
        assert all(r["qa_detected_lang"] for r in rows), path
        assert all(isinstance(r["qa_length_ratio"], float) for r in rows), path


def test_card_configs_match(built_small: Path, built_ct2: Path) -> None:
    from huggingface_hub import DatasetCard

    def configs(folder: Path) -> list:
        return DatasetCard.load(folder / schema.CARD_FILE).data.to_dict()["configs"]

    assert configs(built_small) == configs(built_ct2)
