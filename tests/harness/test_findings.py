"""The MPN paper's findings as a regression test, on the testbed (synthetic languages, tiny model).

Each editor runs at its default settings (no step caps) through the real `harness eval` path; the
findings and their margins come from harness.testbed.findings (benchmarks/testbed_findings.py
reports the same margins over seeds and thread counts; benchmarks/TESTBED.md has the numbers).

Marked slow (opt in with `-m slow`): building the testbed and running four editors took about 4
minutes on the shared 2-core machine (2 minutes of it the testbed build), over the 60 s a
default-suite test may take. FT's locality is not below T-Patcher's with FT's default settings
(lr 1e-5, at most 100 steps, last FFN only: it changes almost nothing), so that test is a strict
xfail: it fails loudly (XPASS) once the finding holds, say with the reference FT preset.
"""

from __future__ import annotations

import pytest

from harness.testbed import CLOSE, FAR, TestbedSettings, build_testbed
from harness.testbed.findings import findings, run_editors, table

pytestmark = pytest.mark.slow

MAX_EDITS = 30


@pytest.fixture(scope="session")
def measured(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("findings")
    testbed = build_testbed(root / "tb", TestbedSettings(seed=0))
    runs = run_editors(testbed.model, testbed.dataset, root / "runs", seed=0, max_edits=MAX_EDITS)
    result = {f.name: f for f in findings(runs, CLOSE, FAR)}
    print(table(list(result.values())))
    return result


@pytest.mark.parametrize("editor", ["tpatcher", "mpn", "mpn-all"])
def test_editors_reach_reliability_95(measured: dict, editor: str) -> None:
    finding = measured[f"reliability_{editor}"]
    assert finding.holds, finding


@pytest.mark.parametrize(
    "name", ["clg_mpn-all_over_mpn", "clg_mpn_over_tpatcher", "clg_tpatcher_over_original"]
)
def test_clg_average_orders_the_editors(measured: dict, name: str) -> None:
    assert measured[name].holds, measured[name]


def test_mpn_all_beats_tpatcher_on_clg_with_p_below_005(measured: dict) -> None:
    finding = measured["clg_mpn_all_vs_tpatcher_p"]
    assert finding.holds, finding


def test_tpatcher_gains_less_on_far_languages(measured: dict) -> None:
    finding = measured["tpatcher_gain_far_below_close"]
    assert finding.holds, finding


@pytest.mark.xfail(
    strict=True,
    reason="measured margins -0.03 (seed 0: FT 0.8589, T-Patcher 0.8586), -0.02 (seed 1), +0.02 "
    "(seed 2): FT's default lr 1e-5 x 100 steps barely changes the model",
)
def test_ft_locality_below_tpatcher(measured: dict) -> None:
    finding = measured["ft_locality_below_tpatcher"]
    assert finding.holds, finding
