"""`xfever validate` on good and damaged builds; `xfever publish` against a monkeypatched HfApi."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from xfever.cli import main

SECRET = "hf_do_not_print_me_0123456789"


@pytest.fixture
def copy(built_small: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(built_small, target)
    return target


def run(args: list) -> object:
    return CliRunner().invoke(main, [str(a) for a in args])


def test_valid_build(built_small: Path) -> None:
    result = run(["validate", built_small])
    assert result.exit_code == 0, result.output
    assert "zh: edit 24, rephrases 48" in result.output and "valid" in result.output


def test_corrupted_card(copy: Path) -> None:
    card = copy / "README.md"
    card.write_text(
        card.read_text(encoding="utf-8").replace("configs:\n", "configs: [\n", 1), encoding="utf-8"
    )
    result = run(["validate", copy])
    assert result.exit_code == 1
    assert (
        "README.md" in result.output
        and "does not parse" in result.output
        and "Traceback" not in result.output
    )


def test_card_missing_a_config(copy: Path) -> None:
    card = copy / "README.md"
    text = card.read_text(encoding="utf-8")
    card.write_text(text.replace("- config_name: zh", "- config_name: zz", 1), encoding="utf-8")
    result = run(["validate", copy])
    assert result.exit_code == 1 and "field 'configs'" in result.output


def test_card_with_push_to_hub_globs_is_valid(copy: Path, tmp_path: Path) -> None:
    """A card whose configs use the glob form push_to_hub writes (`de/edit-*`) validates, as
    load_dataset reads it; a glob that takes another split's file too is named."""
    import re

    import datasets

    card = copy / "README.md"
    text = card.read_text(encoding="utf-8")
    card.write_text(re.sub(r"path: (\w+)/(\w+)-00000-of-00001\.parquet", r"path: \1/\2-*", text), "utf-8")
    assert "path: de/edit-*" in card.read_text(encoding="utf-8")
    loaded = datasets.load_dataset(str(copy), "de", split="edit", cache_dir=str(tmp_path / "cache"))
    assert loaded.num_rows == 24
    result = run(["validate", copy])
    assert result.exit_code == 0, result.output
    card.write_text(card.read_text(encoding="utf-8").replace("path: de/edit-*", "path: de/*"), "utf-8")
    result = run(["validate", copy])
    assert result.exit_code == 1 and "config 'de' resolves to" in result.output
    assert "rephrases-00000-of-00001.parquet" in result.output


def test_missing_parquet(copy: Path) -> None:
    (copy / "de" / "rephrases-00000-of-00001.parquet").unlink()
    result = run(["validate", copy])
    assert result.exit_code == 1
    assert "de/rephrases-00000-of-00001.parquet: missing parquet file" in result.output


def test_row_count_mismatch(copy: Path) -> None:
    record = json.loads((copy / "build.json").read_text(encoding="utf-8"))
    record["configs"]["de"]["edit"] = 25
    (copy / "build.json").write_text(json.dumps(record), encoding="utf-8")
    (copy / "README.md").unlink()
    run(["card", copy])  # re-render the card from the edited record, so only the count disagrees
    result = run(["validate", copy])
    assert result.exit_code == 1
    assert "config 'de', split 'edit': 24 rows, build.json says 25" in result.output


def test_malformed_build_json_configs(copy: Path) -> None:
    record = json.loads((copy / "build.json").read_text(encoding="utf-8"))
    record["configs"]["de"] = 24
    (copy / "build.json").write_text(json.dumps(record), encoding="utf-8")
    result = run(["validate", copy])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "build.json: field 'configs.de'" in result.output


def test_not_a_build(tmp_path: Path) -> None:
    result = run(["validate", tmp_path])
    assert result.exit_code == 1 and "build.json" in result.output


class FakeHub:
    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple, dict]] = []

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from huggingface_hub import HfApi

        def record(name, result):
            def method(api, *args, **kwargs):
                assert api.token in (None, SECRET)  # the token reaches the client, never the output
                self.calls.append((name, args, kwargs))
                if "folder_path" in kwargs:  # what would go up: read it while it exists
                    self.card = (Path(kwargs["folder_path"]) / "README.md").read_text(encoding="utf-8")
                return result

            return method

        commit = type("Commit", (), {"oid": "c0ffee" * 6 + "abcd"})()
        monkeypatch.setattr(
            HfApi, "create_repo", record("create_repo", "https://huggingface.co/datasets/me/xf")
        )
        monkeypatch.setattr(HfApi, "upload_folder", record("upload_folder", commit))
        monkeypatch.setattr(HfApi, "create_tag", record("create_tag", None))


def test_publish_validates_uploads_once_and_tags(
    built_small: Path, monkeypatch: pytest.MonkeyPatch, caplog
) -> None:
    monkeypatch.setenv("HF_TOKEN", SECRET)
    hub = FakeHub()
    hub.install(monkeypatch)
    result = run(["publish", built_small, "--repo-id", "me/xf", "--private", "--tag", "v1.0"])
    assert result.exit_code == 0, result.output
    names = [name for name, _, _ in hub.calls]
    assert names == ["create_repo", "upload_folder", "create_tag"]
    _, args, kwargs = hub.calls[0]
    assert args == ("me/xf",) and kwargs["repo_type"] == "dataset" and kwargs["private"] is True
    _, _, upload = hub.calls[1]
    assert upload["repo_type"] == "dataset"
    # the uploaded card's loading snippet names the repo; the local build is left as built
    assert 'load_dataset("me/xf", "de", split="edit")' in hub.card and "ORG/xfever" not in hub.card
    assert 'load_dataset("ORG/xfever", "de"' in (built_small / "README.md").read_text(encoding="utf-8")
    _, _, tag = hub.calls[2]
    assert tag["tag"] == "v1.0" and tag["revision"] == "c0ffee" * 6 + "abcd" and tag["repo_type"] == "dataset"
    assert SECRET not in result.output and SECRET not in caplog.text
    assert "v1.0" in result.output


def test_publish_refuses_an_invalid_folder(copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", SECRET)
    hub = FakeHub()
    hub.install(monkeypatch)
    (copy / "zh" / "edit-00000-of-00001.parquet").unlink()
    result = run(["publish", copy, "--repo-id", "me/xf"])
    assert result.exit_code == 1 and "missing parquet file" in result.output
    assert hub.calls == [] and SECRET not in result.output


def test_publish_without_token(built_small: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path))  # no stored login either
    hub = FakeHub()
    hub.install(monkeypatch)
    result = run(["publish", built_small, "--repo-id", "me/xf"])
    assert result.exit_code == 1 and "no Hugging Face token" in result.output and hub.calls == []


def test_publish_bad_repo_id(built_small: Path) -> None:
    result = run(["publish", built_small, "--repo-id", "just-a-name"])
    assert result.exit_code == 1 and "ORG/NAME" in result.output
