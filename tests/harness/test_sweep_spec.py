"""The sweep grid (no Ray): parsing, run names, and the errors of a bad grid."""

from __future__ import annotations

from pathlib import Path

import pytest

from common.errors import UsageError
from harness.protocol.sweep import SweepSpec, parse_grid, run_name, sweep_configs


def test_grid_points_and_configs(tmp_path: Path) -> None:
    from harness import EvalConfig

    spec = SweepSpec.from_dict(
        {"editors": "tpatcher,ft", "seeds": [0, 1], "grid": parse_grid(["max_steps=10,20", "lr=0.001"])}
    )
    points = spec.points()
    assert len(points) == 2 * 2 * 2
    assert points[0] == ("tpatcher", 0, {"max_steps": "10", "lr": "0.001"})
    base = EvalConfig(model="m", dataset=str(tmp_path), editor_options={"batch": 4})
    configs = sweep_configs(spec, base, tmp_path)
    assert configs[1].out_dir == str(tmp_path / "runs" / "tpatcher-s0-max_steps=20-lr=0.001")
    assert configs[1].editor_options == {"batch": 4, "max_steps": 20, "lr": 0.001}
    assert {c.seed for c in configs} == {0, 1} and {c.editor for c in configs} == {"tpatcher", "ft"}
    assert run_name("x/y.py:Ed", 3, {}) == "x_y.py_Ed-s3"


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"seeds": [0]}, "'editors' needs at least one editor"),
        ({"editors": "ft", "grid": {"lr": []}}, "grid option(s) ['lr'] have no values"),
        ({"editors": "ft", "seed": [1]}, "unknown key(s) ['seed']"),
        ({"editors": "ft", "seeds": "a"}, "sweep:"),
    ],
)
def test_bad_grid(data: dict, error: str) -> None:
    with pytest.raises(UsageError) as caught:
        SweepSpec.from_dict(data)
    assert error in str(caught.value)


def test_bad_grid_flag() -> None:
    with pytest.raises(UsageError, match="expected KEY=V1,V2"):
        parse_grid(["max_steps"])


def test_reproduce_on_ray_submits_every_editor_at_once(tmp_path: Path, monkeypatch) -> None:
    """`harness reproduce --executor ray` hands all the table's runs to one `evaluate_runs` call
    (the Ray run itself is tested in test_ray_eval.py); the record lists them in table order."""
    import json

    import harness.protocol.distributed as distributed
    import harness.report.leaderboard as board
    from harness import EvalConfig
    from harness.protocol.reproduce import reproduce
    from harness.report.results import EvalResult

    calls: list[list[EvalConfig]] = []

    def fake_runs(configs, overwrite=False):
        calls.append(list(configs))
        return [EvalResult("complete", {}, {}, {}, {}, {}, {}, "cached", "patch", 0, 2, {}, {}, origin="run")]

    monkeypatch.setattr(distributed, "evaluate_runs", lambda c, overwrite=False: fake_runs(c) * len(c))
    monkeypatch.setattr(board, "leaderboard", lambda runs, out, **kw: {"md": Path(out) / "leaderboard.md"})
    base = EvalConfig(model="m", dataset=str(tmp_path), executor="ray")
    paths = reproduce(1, base, tmp_path / "t1", train_langs=("de",))
    assert len(calls) == 1
    assert [c.editor for c in calls[0]] == ["ft", "tpatcher", "mpn", "mpn-all"]
    assert [Path(c.out_dir).name for c in calls[0]] == ["ft", "tpatcher", "mpn", "mpn-all"]
    assert calls[0][2].editor_options == {"train_langs": "de", "preset": "reference"}  # reproduce's default
    assert calls[0][0].editor_options == {"preset": "reference"}
    record = json.loads(paths["record"].read_text(encoding="utf-8"))
    assert [r["editor"] for r in record["runs"]] == ["ft", "tpatcher", "mpn", "mpn-all"]
    assert record["config"]["executor"] == "ray"
