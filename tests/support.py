"""Helpers shared by the tests (not fixtures): Hub-shaped folder writers and a quick run config.

Fixtures live in the `conftest.py` of each folder; anything a test imports lives here, so no test
imports another test file or a conftest.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any


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


NAMES = ["entailment", "neutral", "contradiction"]
XNLI_LANGS = ("de", "sw", "zh")


def nli(premises, hypotheses, labels, **extra):
    from datasets import ClassLabel, Dataset, Features, Value

    features = {"premise": Value("string"), "hypothesis": Value("string"), "label": ClassLabel(names=NAMES)}
    features |= {name: Value("string") for name in extra}
    columns = {"premise": premises, "hypothesis": hypotheses, "label": labels, **extra}
    return Dataset.from_dict(columns, features=Features(features))


def xnli_config(lang: str, n_test: int = 4) -> dict:
    test = nli([f"{lang} premise {i}" for i in range(n_test)], [f"{lang} hyp {i}" for i in range(n_test)],
               [i % 3 for i in range(n_test)])  # fmt: skip
    validation = nli([f"{lang} vp {i}" for i in range(3)], [f"{lang} vh {i}" for i in range(3)], [2, 1, 0])
    return {"test": test, "validation": validation}


def quick_config(model: Path, dataset: Path, out: Path, editor: str, **changes):
    """A few-second run of the protocol: 6 edit rows in 2 folders, small editor budgets."""
    from harness import EvalConfig

    settings = dict(
        model=str(model),
        dataset=str(dataset),
        editor=editor,
        editor_options={"max_steps": 20} if editor != "none" else {},
        folders=2,
        max_edits=6,
        progress=False,
        bootstrap_resamples=200,
        out_dir=str(out),
    )
    return EvalConfig(**(settings | changes))


def harness_cli(args: list) -> int:
    """`harness ARGS` in this process; its exit status (0 when it returned)."""
    from harness.cli import main

    try:
        main([str(a) for a in args])
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0
