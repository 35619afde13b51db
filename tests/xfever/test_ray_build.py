"""`xfever build --executor ray`: (language x shard) units on Ray workers; the same output folder,
byte for byte, as the local build (build.json's `run` section aside). Opt in with `-m ray`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from xfever.cli import main

pytestmark = pytest.mark.ray


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_ray_build_equals_local(
    ray_local, built_small: Path, small_edit_file: Path, models_for, small_args, tmp_path: Path, monkeypatch
) -> None:
    import xfever.build as build_module

    out = tmp_path / "ray-built"
    args = ["build", "--langs", "de,zh", "--edit-file", str(small_edit_file), "--out", str(out)]
    args += [*small_args, *models_for("de,zh"), "--executor", "ray"]
    saved: list[tuple[str, str, int]] = []
    real_build = build_module.build
    monkeypatch.setattr(
        build_module, "build", lambda config: real_build(config, on_shard=lambda *k: saved.append(k))
    )
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert len(saved) == 18  # de and zh: 3 edit + 6 rephrase shards each, every one a Ray unit

    done, reference = _files(out), _files(built_small)
    assert done.keys() == reference.keys()
    for name in done:
        if name != "build.json":
            assert done[name] == reference[name], name
    a, b = json.loads(done["build.json"]), json.loads(reference["build.json"])
    assert {k: v for k, v in a.items() if k != "run"} == {k: v for k, v in b.items() if k != "run"}
    assert b["run"]["executor"] == {"name": "local", "workers": 1}
    executor = a["run"]["executor"]
    assert executor["name"] == "ray" and executor["address"] == "local" and executor["workers"] == 2
    assert executor["ray_version"] == ray_local.__version__


def test_ray_build_failure_names_the_unit_and_keeps_shards(
    ray_local, small_edit_file: Path, models_for, small_args, tmp_path: Path, monkeypatch
) -> None:
    """A translation unit that fails on the workers is reported with its language, split and shard;
    the shards that finished stay for a rerun."""
    import shutil

    broken = tmp_path / "opus-mt-en-de"
    source = Path(models_for("de")[1].split("=", 1)[1])
    shutil.copytree(source, broken)
    out = tmp_path / "broken-built"
    args = ["build", "--langs", "de,zh", "--edit-file", str(small_edit_file), "--out", str(out)]
    args += [*small_args, "--model", f"de={broken}", *models_for("zh")[:2], "--executor", "ray"]
    args += ["--retries", "0"]
    # the model loads on the driver's check but cannot be loaded on the workers: its weights go
    # missing after the driver resolved it
    import xfever.build as build_module

    real_resolve = build_module.resolve_models

    def resolve_then_break(config):
        models = real_resolve(config)
        for weights in broken.glob("*.safetensors"):
            weights.unlink()
        for weights in broken.glob("*.bin"):
            weights.unlink()
        return models

    monkeypatch.setattr(build_module, "resolve_models", resolve_then_break)
    result = CliRunner().invoke(main, args)
    assert result.exit_code != 0
    assert "language 'de' split 'edit' shard 0" in result.output, result.output
    partial = out.with_name(out.name + ".partial")
    assert len(list((partial / "zh").rglob("shard-*.json"))) == 9  # zh finished and kept
    assert not out.exists()
