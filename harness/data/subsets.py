"""Subsets of the edit set, selected from the original model's predictions (`--subset NAME`).

`all-wrong` is the paper's Table 3 set (section 4.3): the edit rows that the original model gets
wrong in English and in every language of the run (722 rows of XFEVER in the paper).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from common.errors import UsageError
from harness.data.suite import EvalSuite

SOURCE_LANG = "en"
CorrectByRow = Mapping[str, Mapping[str, bool]]  # row id -> {"en": bool, "de": bool, ...}


def all_wrong(
    suite: EvalSuite, correct_by_row: CorrectByRow, *, langs: Sequence[str] | None = None
) -> EvalSuite:
    """`suite` with only the edit rows the original model mispredicts in English and every language.

    `correct_by_row[row_id][lang]` says whether the original model predicts that row correctly in
    that language; it must cover every edit row and every language of the run (`langs`, default
    the suite's). The result records the selection in `info["subset"]`.
    """
    run_langs = (SOURCE_LANG, *(suite.langs if langs is None else langs))
    kept = []
    for row in suite.edit:
        correct = correct_by_row.get(row.id)
        if correct is None:
            raise UsageError(f"--subset all-wrong: no original-model predictions for edit row {row.id}")
        missing = [lang for lang in run_langs if lang not in correct]
        if missing:
            raise UsageError(
                f"--subset all-wrong: edit row {row.id}: no original-model prediction in {', '.join(missing)}"
            )
        if not any(correct[lang] for lang in run_langs):
            kept.append(row)
    subset = {"name": "all-wrong", "rows": len(kept), "of": len(suite.edit), "langs": list(run_langs)}
    return replace(suite, edit=tuple(kept), info={**suite.info, "subset": subset})


SUBSETS: dict[str, Callable[..., EvalSuite]] = {"all-wrong": all_wrong}


def select_subset(name: str, suite: EvalSuite, correct_by_row: CorrectByRow) -> EvalSuite:
    """Apply the subset called `name`; an unknown name lists the known ones."""
    if name not in SUBSETS:
        raise UsageError(f"--subset: unknown subset {name!r}; known: {', '.join(SUBSETS)}")
    return SUBSETS[name](suite, correct_by_row)
