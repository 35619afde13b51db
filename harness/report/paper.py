"""The MPN paper's Tables 1-3 as data, for side-by-side comparison with our runs.

The numbers live in `paper_tables.json` (package data) exactly as printed: percentages with two
decimals, `patch_num` a count. Metric keys are the harness's: patch_num, reliability, mlg,
clg_<lang>, clg_avg, locality_train, locality_test (Table 2: locality_validation, its single
Locality column, measured on XNLI validation English). Where the paper's printed average disagrees
with its own per-language values, the table lists it under `inconsistencies` (kept as printed).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

DATA_FILE = "paper_tables.json"
TABLES = (1, 2, 3)


@dataclass(frozen=True)
class PaperRow:
    """One row of a paper table: the printed name, our editor alias, the values, the bold cells."""

    table: int
    name: str
    editor: str  # none | ft | tpatcher | mpn | mpn-all
    values: dict[str, float]
    bold: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """How a leaderboard marks it next to our rows."""
        return f"{self.name} (paper)"


@dataclass(frozen=True)
class PaperTable:
    number: int
    title: str
    dataset: str  # xfever | xnli
    subset: str | None  # None, or "all-wrong" for Table 3
    langs: tuple[str, ...]
    columns: tuple[str, ...]  # metric keys in the paper's column order
    rows: tuple[PaperRow, ...]
    notes: tuple[str, ...] = ()
    inconsistencies: tuple[dict[str, Any], ...] = ()


def paper_table(number: int) -> list[PaperRow]:
    """The rows of Table `number` (1: XFEVER, 2: XNLI, 3: XFEVER all-wrong subset)."""
    return list(paper_table_info(number).rows)


def paper_table_info(number: int) -> PaperTable:
    """Table `number` with its title, dataset, languages, column order and notes."""
    tables = _load()
    if number not in tables:
        raise KeyError(f"the paper has Tables {', '.join(map(str, TABLES))}; no Table {number}")
    return tables[number]


def paper_source() -> dict[str, Any]:
    """Citation of the paper the numbers come from."""
    return dict(_raw()["source"])


def table_for(dataset: str, subset: str | None = None) -> PaperTable | None:
    """The paper table matching a run's suite name and subset, if any (for --compare-paper)."""
    for table in _load().values():
        if table.dataset == dataset and table.subset == subset:
            return table
    return None


@cache
def _text() -> str:
    return files("harness.report").joinpath(DATA_FILE).read_text(encoding="utf-8")


def _raw() -> dict[str, Any]:
    return json.loads(_text())  # parsed afresh: callers may change what they get


def _load() -> dict[int, PaperTable]:
    tables = {}
    for key, spec in _raw()["tables"].items():
        number = int(key)
        rows = tuple(
            PaperRow(number, row["name"], row["editor"], dict(row["values"]), tuple(row["bold"]))
            for row in spec["rows"]
        )
        tables[number] = PaperTable(
            number=number,
            title=spec["title"],
            dataset=spec["dataset"],
            subset=spec["subset"],
            langs=tuple(spec["langs"]),
            columns=tuple(spec["columns"]),
            rows=rows,
            notes=tuple(spec.get("notes", ())),
            inconsistencies=tuple(spec.get("inconsistencies", ())),
        )
    return tables
