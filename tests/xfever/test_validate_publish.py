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
    outside = tmp_path / "elsewhere" / "edit-00000-of-00001.parquet"  # a file outside the folder
    outside.parent.mkdir()
    shutil.copy(copy / "zh" / "edit-00000-of-00001.parquet", outside)
    text = card.read_text(encoding="utf-8")
    card.write_text(text.replace("path: zh/edit-*", "path: ../elsewhere/edit-*"), encoding="utf-8")
    result = run(["validate", copy])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "config 'zh' resolves to {'edit': ['../elsewhere/edit-00000-of-00001.parquet']" in result.output


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
    args = ["publish", built_small, "--repo-id", "me/xf", "--private", "--tag", "v1.0", "--allow-stand-in"]
    result = run(args)
    assert result.exit_code == 0, result.output
    names = [name for name, _, _ in hub.calls]
    assert names == ["create_repo", "upload_folder", "create_tag"]
    _, args, kwargs = hub.calls[0]
    assert args == ("me/xf",) and kwargs["repo_type"] == "dataset" and kwargs["private"] is True
    _, _, upload = hub.calls[1]
    assert upload["repo_type"] == "dataset"
    assert upload["delete_patterns"] == ["*.parquet", "README.md", "build.json", "sentence_lengths.png"]
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
    result = run(["publish", built_small, "--repo-id", "me/xf", "--allow-stand-in"])
    assert result.exit_code == 1 and "no Hugging Face token" in result.output and hub.calls == []


def test_publish_bad_repo_id(built_small: Path) -> None:
    result = run(["publish", built_small, "--repo-id", "just-a-name"])
    assert result.exit_code == 2 and "ORG/NAME" in result.output


@pytest.mark.parametrize(
    "repo_id",
    ["me/xf--bad", "me/a..b", "me/" + "x" * 100, "me/xf.git", "a/b/c"],
    ids=["double-dash", "double-dot", "too-long", "dot-git", "two-slashes"],
)
def test_publish_checks_the_repo_id_with_the_hub_validator_first(
    repo_id: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A repo id the Hub would refuse is refused by huggingface_hub's own validator, before the folder
    is even looked at (here it does not exist) and before any Hub call."""
    monkeypatch.setenv("HF_TOKEN", SECRET)
    hub = FakeHub()
    hub.install(monkeypatch)
    result = run(["publish", tmp_path / "no-such-folder", "--repo-id", repo_id])
    assert result.exit_code == 2 and "Traceback" not in result.output  # a usage error
    assert f"--repo-id {repo_id!r}" in result.output and "no-such-folder" not in result.output
    assert hub.calls == []


def test_publish_refuses_a_stand_in_build_unless_allowed(built_small: Path, monkeypatch) -> None:
    """A build translated with untrained stand-ins (build.json engines.<lang>.stand_in) is not published
    as data unless --allow-stand-in."""
    monkeypatch.setenv("HF_TOKEN", SECRET)
    hub = FakeHub()
    hub.install(monkeypatch)
    result = run(["publish", built_small, "--repo-id", "me/xf"])
    assert result.exit_code == 2 and hub.calls == []  # a flag lifts it: a usage error
    assert "build.json" in result.output and "de, zh" in result.output and "--allow-stand-in" in result.output
    assert run(["publish", built_small, "--repo-id", "me/xf", "--allow-stand-in"]).exit_code == 0


class FakeRepo:
    """A Hub dataset repo's files. `upload_folder` behaves as documented: remote files matching
    `delete_patterns` (matched with huggingface_hub's own filter) are deleted unless uploaded again,
    `.gitattributes` never; then the folder's files are added."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {".gitattributes": b"*.parquet filter=lfs\n", "LICENSE": b"by hand"}

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from huggingface_hub import HfApi
        from huggingface_hub.utils import filter_repo_objects

        def upload_folder(api, *, folder_path, delete_patterns=None, **kwargs):
            root = Path(folder_path)
            new = {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}
            matched = filter_repo_objects(list(self.files), allow_patterns=delete_patterns or [])
            for path in set(matched) - set(new) - {".gitattributes"}:
                del self.files[path]
            self.files.update(new)
            return type("Commit", (), {"oid": "f" * 40})()

        monkeypatch.setattr(
            HfApi, "create_repo", lambda api, repo_id, **kw: f"https://hf.co/datasets/{repo_id}"
        )
        monkeypatch.setattr(HfApi, "upload_folder", upload_folder)
        monkeypatch.setattr(HfApi, "create_tag", lambda api, *a, **kw: None)


def _without_zh(built: Path, target: Path) -> Path:
    """`built` as if built with --langs de: the zh config gone from the files, build.json and card."""
    shutil.copytree(built, target)
    shutil.rmtree(target / "zh")
    record = json.loads((target / "build.json").read_text(encoding="utf-8"))
    for key in ("configs", "engines", "qa", "lengths", "example", "dataset_sizes"):
        record[key].pop("zh")
    (target / "build.json").write_text(json.dumps(record), encoding="utf-8")
    assert run(["card", target]).exit_code == 0 and run(["validate", target]).exit_code == 0
    return target


def test_republishing_fewer_languages_deletes_the_stale_configs(
    built_small: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Publishing a de-only build over a de + zh one leaves no zh files in the repo (deleted in the
    upload commit); files a build never writes (LICENSE, .gitattributes) stay."""
    monkeypatch.setenv("HF_TOKEN", SECRET)
    repo = FakeRepo()
    repo.install(monkeypatch)
    assert run(["publish", built_small, "--repo-id", "me/xf", "--allow-stand-in"]).exit_code == 0
    assert "zh/edit-00000-of-00001.parquet" in repo.files
    smaller = _without_zh(built_small, tmp_path / "de-only")
    result = run(["publish", smaller, "--repo-id", "me/xf", "--allow-stand-in"])
    assert result.exit_code == 0, result.output
    assert not [path for path in repo.files if path.startswith("zh/")]
    built = {p.relative_to(smaller).as_posix() for p in smaller.rglob("*") if p.is_file()}
    assert set(repo.files) == built | {".gitattributes", "LICENSE"}
    assert "config_name: zh" not in repo.files["README.md"].decode("utf-8")
