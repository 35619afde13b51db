"""Kill a build after a few shards, rerun it: the result is byte-identical to an uninterrupted build."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from xfever.cli import main


class Killed(Exception):
    pass


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_kill_and_resume_is_byte_identical(
    built_small: Path,
    small_edit_file: Path,
    models_for,
    small_args,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import xfever.build as build_module

    out = tmp_path / "resumed"
    args = [
        "build",
        "--langs",
        "de,zh",
        "--edit-file",
        str(small_edit_file),
        "--out",
        str(out),
        *small_args,
        *models_for("de,zh"),
    ]
    saved: list[tuple[str, str, int]] = []
    real_build = build_module.build

    def kill_after_four(lang: str, split: str, index: int) -> None:
        saved.append((lang, split, index))
        if len(saved) == 4:
            raise Killed  # as if the process died right after the 4th shard reached the disk

    monkeypatch.setattr(build_module, "build", lambda config: real_build(config, on_shard=kill_after_four))
    killed = CliRunner().invoke(main, args)
    assert isinstance(killed.exception, Killed)
    assert not out.exists()  # nothing half-written
    partial = out.with_name("resumed.partial")
    assert len(list(partial.rglob("shard-*.json"))) == 4

    saved.clear()
    monkeypatch.setattr(
        build_module, "build", lambda config: real_build(config, on_shard=lambda *k: saved.append(k))
    )
    resumed = CliRunner().invoke(main, args)
    assert resumed.exit_code == 0, resumed.output
    assert "(resumed)" in resumed.output
    # de: 3 edit + 6 rephrase shards, zh the same; 4 were done before the kill
    assert len(saved) == 18 - 4
    assert not partial.exists()

    done, reference = _files(out), _files(built_small)
    assert done.keys() == reference.keys()
    for name in done:
        if name != "build.json":
            assert done[name] == reference[name], name
    # build.json differs only in its `run` section (timings, resumed)
    a, b = json.loads(done["build.json"]), json.loads(reference["build.json"])
    assert a["run"]["resumed"] and not b["run"]["resumed"]
    assert {k: v for k, v in a.items() if k != "run"} == {k: v for k, v in b.items() if k != "run"}


def test_work_folder_of_another_build_is_refused(
    small_edit_file: Path, models_for, small_args, tmp_path: Path
) -> None:
    out = tmp_path / "x"
    partial = tmp_path / "x.partial"
    partial.mkdir()
    (partial / "fingerprint.json").write_text(json.dumps({"fingerprint": "0" * 64}), encoding="utf-8")
    args = [
        "build",
        "--langs",
        "de",
        "--edit-file",
        str(small_edit_file),
        "--out",
        str(out),
        *small_args,
        *models_for("de"),
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    assert "holds a different build" in result.output and "x.partial" in result.output
    assert not out.exists() and (partial / "fingerprint.json").exists()


def test_resume_refuses_shards_of_another_translator(
    small_edit_file: Path, models_for, small_args, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--device auto` resolves per machine: shards written on a GPU in fp16 must not be completed on a
    CPU in int8 (or the reverse) as if they were one translation."""
    import xfever.build as build_module

    out = tmp_path / "mixed"
    args = ["build", "--langs", "de", "--edit-file", str(small_edit_file), "--out", str(out)]
    args += [*small_args, *models_for("de")]
    real_build = build_module.build
    saved: list[tuple[str, str, int]] = []

    def kill_after_two(*shard: object) -> None:
        saved.append(shard)
        if len(saved) == 2:
            raise Killed

    monkeypatch.setattr(build_module, "build", lambda config: real_build(config, on_shard=kill_after_two))
    assert isinstance(CliRunner().invoke(main, args).exception, Killed)
    engine_file = tmp_path / "mixed.partial" / "de" / "engine.json"
    held = json.loads(engine_file.read_text(encoding="utf-8"))
    assert held["device"] == "cpu"
    engine_file.write_text(json.dumps(held | {"device": "cuda", "precision": "fp16"}), encoding="utf-8")

    monkeypatch.setattr(build_module, "build", real_build)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    assert "engine.json" in result.output and "'cuda' -> 'cpu'" in result.output
    assert "precision" in result.output
    assert not out.exists() and len(list(engine_file.parent.rglob("shard-*.json"))) == 2
