"""The MPN paper's findings, measured on a testbed through the real `harness eval` path.

`run_editors` evaluates each editor at its default settings (no step caps) into one run folder each;
`findings` reads the run folders back (results.json, rows.parquet) and returns every asserted
finding with its margin (positive = holds), so tests assert on them and the benchmark reports them:

1. T-Patcher, MPN and MPN-all reach reliability >= 95 %;
2. CLG average orders MPN-all > MPN > T-Patcher >= original;
3. MPN-all beats T-Patcher on CLG average with paired-bootstrap p < 0.05 (harness.report.compare);
4. T-Patcher's CLG gain on the far languages (zh, ar) is smaller than on the close ones (de, fr, es);
5. FT's locality (train) is below T-Patcher's, measured with the edits in one sequence
   (`--folders 1`, `SEQUENCE_FOLDERS`): in the paper each of the 20 folders holds 525 edit rows, a
   long sequence of edits on one model; a short test run (30 rows) in 20 folders leaves most folder
   models unedited (about 4 edits over 20 folders), which diluted the FT-T-Patcher gap to 0.3
   points (a handful of rows), against 6 points when the same edits form one sequence.

`run_findings` makes every run the findings read (findings 1-4 in `folders` folders, finding 5 in
one sequence); the test and benchmarks/testbed_findings.py both call it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

EDITORS = ("ft", "tpatcher", "mpn", "mpn-all")
CLG_EDITORS = ("tpatcher", "mpn", "mpn-all")  # findings 1-4, in `folders` folders
SEQUENCE_EDITORS, SEQUENCE_FOLDERS = ("ft", "tpatcher"), 1  # finding 5: the edits in one sequence
SEQUENCE = "-sequence"  # run key suffix of the one-sequence runs: "ft-sequence", "tpatcher-sequence"
RELIABILITY_FLOOR = 0.95
P_VALUE = 0.05


@dataclass(frozen=True)
class Finding:
    """One asserted finding: what it says, the measured values, and its margin (> 0: holds)."""

    name: str
    statement: str
    margin: float
    values: dict[str, float]

    @property
    def holds(self) -> bool:
        return self.margin > 0


def run_editors(
    model: str | Path,
    dataset: str | Path,
    out: str | Path,
    *,
    editors: Sequence[str] = EDITORS,
    seed: int = 0,
    max_edits: int | None = None,
    folders: int = 20,
    progress: bool = False,
    threads: int | None = None,
) -> dict[str, Path]:
    """`harness eval` (library call) of each editor at its default settings; editor -> run folder.
    `threads`: torch threads of the runs (default: the config's). The runs share one on-disk
    encoding cache, `out/cache` (also across calls with the same `out`), as `harness reproduce`'s
    matrix does: the editors after the first encode nothing (the vectors are keyed by model, texts
    and settings)."""
    from harness.config import EvalConfig
    from harness.protocol.reproduce import CACHE_DIR
    from harness.protocol.run import evaluate

    cache = Path(out) / CACHE_DIR
    runs = {}
    for editor in editors:
        run_dir = Path(out) / f"{editor}-f{folders}-s{seed}"
        config = EvalConfig(
            model=str(model),
            dataset=str(dataset),
            editor=editor,
            folders=folders,
            max_edits=max_edits,
            seed=seed,
            out_dir=str(run_dir),
            cache_dir=str(cache),
            progress=progress,
            **({} if threads is None else {"threads": threads}),
        )
        evaluate(config)
        runs[editor] = run_dir
    return runs


def run_findings(
    model: str | Path,
    dataset: str | Path,
    out: str | Path,
    *,
    seed: int = 0,
    max_edits: int | None = None,
    folders: int = 20,
    progress: bool = False,
    threads: int | None = None,
) -> dict[str, Path]:
    """Every run `findings` reads, sharing one encoding cache: T-Patcher, MPN and MPN-all in
    `folders` folders, then FT and T-Patcher with the edits in one sequence (keys `ft-sequence`,
    `tpatcher-sequence`). Run key -> run folder."""
    common = {"seed": seed, "max_edits": max_edits, "progress": progress, "threads": threads}
    runs = run_editors(model, dataset, out, editors=CLG_EDITORS, folders=folders, **common)
    sequence = run_editors(model, dataset, out, editors=SEQUENCE_EDITORS, folders=SEQUENCE_FOLDERS, **common)
    return runs | {f"{editor}{SEQUENCE}": path for editor, path in sequence.items()}


def _avg(metrics: dict[str, Any], langs: Sequence[str]) -> float:
    return sum(metrics[f"clg_{lang}"]["value"] for lang in langs) / len(langs)


def findings(runs: dict[str, Path], close: Sequence[str], far: Sequence[str]) -> list[Finding]:
    """The findings on the run folders of `run_findings`."""
    from harness.report.compare import compare_runs
    from harness.report.results import load_result

    data = {editor: load_result(path) for editor, path in runs.items()}
    metric = {editor: d["metrics"] for editor, d in data.items()}
    original = data["tpatcher"]["original"]
    out = []
    for editor in ("tpatcher", "mpn", "mpn-all"):
        value = metric[editor]["reliability"]["value"]
        out.append(
            Finding(
                f"reliability_{editor}",
                f"{editor} reliability >= {RELIABILITY_FLOOR:.0%}",
                value - RELIABILITY_FLOOR,
                {
                    "reliability": value,
                    "edit_success": metric[editor].get("edit_success", {}).get("value", 0.0),
                },
            )
        )
    clg = {"original": original["clg_avg"]["value"]} | {e: metric[e]["clg_avg"]["value"] for e in CLG_EDITORS}
    for better, worse, strict in (
        ("mpn-all", "mpn", True),
        ("mpn", "tpatcher", True),
        ("tpatcher", "original", False),
    ):
        margin = clg[better] - clg[worse]
        out.append(
            Finding(
                f"clg_{better}_over_{worse}",
                f"CLG avg {better} {'>' if strict else '>='} {worse}",
                margin if strict else margin + 1e-9,
                {better: clg[better], worse: clg[worse]},
            )
        )
    report = compare_runs(runs["tpatcher"], runs["mpn-all"])
    p_value = report["metrics"]["clg_avg"]["p_value"]
    delta = report["metrics"]["clg_avg"]["delta"]
    out.append(
        Finding(
            "clg_mpn_all_vs_tpatcher_p",
            f"paired bootstrap MPN-all vs T-Patcher on CLG avg: p < {P_VALUE} and MPN-all ahead",
            (P_VALUE - p_value) if delta > 0 else -abs(delta),
            {"p_value": p_value, "delta": delta},
        )
    )
    gain_close = _avg(metric["tpatcher"], close) - _avg(original, close)
    gain_far = _avg(metric["tpatcher"], far) - _avg(original, far)
    out.append(
        Finding(
            "tpatcher_gain_far_below_close",
            "T-Patcher's CLG gain on far languages < on close ones",
            gain_close - gain_far,
            {"gain_close": gain_close, "gain_far": gain_far},
        )
    )
    loc = {e: metric[f"{e}{SEQUENCE}"]["locality_train"]["value"] for e in SEQUENCE_EDITORS}
    out.append(
        Finding(
            "ft_locality_below_tpatcher",
            "FT locality-train < T-Patcher's (the edits in one sequence)",
            loc["tpatcher"] - loc["ft"],
            loc,
        )
    )
    return out


def table(results: Sequence[Finding]) -> str:
    """Markdown table: finding, margin (points), holds, values."""
    lines = ["| finding | margin | holds | values |", "|---|---:|---|---|"]
    for f in results:
        values = ", ".join(f"{k} {v:.4f}" for k, v in f.values.items())
        lines.append(f"| {f.statement} | {100 * f.margin:+.2f} | {'yes' if f.holds else 'NO'} | {values} |")
    return "\n".join(lines)


def as_dicts(results: Sequence[Finding]) -> list[dict[str, Any]]:
    return [asdict(f) | {"holds": f.holds} for f in results]
