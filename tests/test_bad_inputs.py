"""Bad input to both CLIs, as one table; then safety (trust_remote_code, the Hub token).

Every bad case must give a clear message naming the file/row/field or the setting, a non-zero exit,
no traceback, and leave nothing half-written. Huge inputs over max_length must simply work.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from harness.cli import main as harness_main
from xfever.cli import main as xfever_main

HUGE_CLAIM = " ".join(["Paris is the capital of France and"] * 800) + " nothing else."
SENTINEL = "hf_SENTINEL_do_not_leak_0123456789"


def _kilt(rows: list[dict]) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


def _row(i: int, label: str = "SUPPORTS", text: str | None = None, **extra) -> dict:
    return {
        "id": f"r{i}",
        "input": text or f"Claim number {i} is about a film.",
        "output": [{"answer": label}],
    } | extra


def _rows(n: int, start: int = 0) -> list[dict]:
    return [_row(i, "SUPPORTS" if i % 2 else "REFUTES") for i in range(start, start + n)]


@pytest.fixture(scope="module")
def world(tmp_path_factory, fever_claims):
    """A tiny MT stand-in, KILT files, a built dataset holding a huge claim, a tiny classifier."""
    from harness.model.tiny import make_tiny_bert
    from xfever.tiny import make_tiny_marian

    root = tmp_path_factory.mktemp("bad")
    marian = make_tiny_marian(root / "mt-de", fever_claims[:80], fever_claims[:80], vocab_size=120, seed=0)
    # Its tokenizer allows 512 tokens, its position table 64 (as in some opus-mt exports): the huge
    # claim must be cut at 64, not crash the embedding.
    tokenizer_config = marian / "tokenizer_config.json"
    config = json.loads(tokenizer_config.read_text(encoding="utf-8")) | {"model_max_length": 512}
    tokenizer_config.write_text(json.dumps(config), encoding="utf-8")
    files = {
        "edit": root / "edit.jsonl",
        "train": root / "train.jsonl",
        "test": root / "test.jsonl",
    }
    edit = _rows(5) + [_row(99, text=HUGE_CLAIM, rephrases=["Reportedly, " + HUGE_CLAIM])]
    files["edit"].write_text(_kilt(edit), encoding="utf-8")
    files["train"].write_text(_kilt(_rows(12, 100)), encoding="utf-8")
    files["test"].write_text(_kilt(_rows(6, 200)), encoding="utf-8")
    dataset = root / "built"
    code, out = _invoke("xfever", [*_build_args(files, marian), "--out", str(dataset)])
    assert code == 0, out
    bert = make_tiny_bert(root / "bert", fever_claims + [HUGE_CLAIM, "Claim number film about"], seed=0)
    return {"root": root, "files": files, "marian": marian, "dataset": dataset, "bert": bert}


def _build_args(files: dict[str, Path], marian: Path) -> list[str]:
    args = ["build", "--langs", "de", "--model", f"de={marian}", "--quiet", "--translate-rephrases"]
    args += ["--edit-file", str(files["edit"]), "--train-file", str(files["train"])]
    return args + ["--test-file", str(files["test"]), "--num-beams", "1", "--max-len-ratio", "0.5"]


def _invoke(tool: str, args: list[str]) -> tuple[int, str]:
    """Run a CLI in-process; a traceback (any exception other than exit) fails the test."""
    runner = CliRunner()
    if tool == "xfever":
        result = runner.invoke(xfever_main, args)
    else:

        @click.command()
        def wrapper() -> None:
            harness_main(list(args))

        result = runner.invoke(wrapper, [])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        import traceback

        trace = "".join(traceback.format_exception(*result.exc_info))
        pytest.fail(f"{tool} {args}: raised instead of a clean error:\n{trace}")
    return result.exit_code, result.output


# ---- editors that misbehave (loaded as FILE.py:OBJECT) ----
EDITORS = """
import math
from harness.editors.base import LAST_FFN, EditRecord

class Raising:
    changes = LAST_FFN
    def __call__(self, view, request, memory):
        raise RuntimeError("patch exploded")

class NanLoss:
    changes = LAST_FFN
    def __call__(self, view, request, memory):
        return EditRecord(edited=True, steps=1, losses={"ce": math.nan})
"""


@dataclass
class Case:
    """`tool` is "xfever" or "harness" (the CLI, `args(w)` its arguments) or "api": `args(w)` is then a
    callable, the same request through the Python API, which must raise ToolkitError."""

    name: str
    tool: str
    args: Callable[[dict], list[str]] | Callable[[dict], Callable[[], object]]
    expect: tuple[str, ...]  # substrings of the message
    setup: Callable[[dict], None] | None = None
    absent: Callable[[dict], list[Path]] = field(default=lambda w: [])  # must not exist afterwards


HELD: list = []  # locks a case's setup holds while the command runs (released by the next case)


def _held_by_another_writer(path: Path) -> None:
    """Take the output lock of `path` as a second writer would (a process already running there)."""
    from common.io import OutputLock

    for lock in HELD:
        lock.release()
    HELD[:] = [OutputLock(path).acquire()]


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _bad_kilt(name: str, text: str) -> Callable[[dict], list[str]]:
    def args(w: dict) -> list[str]:
        files = dict(w["files"], edit=_write(w["tmp"] / name, text))
        return [*_build_args(files, w["marian"]), "--out", str(w["tmp"] / "out")]

    return args


def _api_build(
    edit: str | None = None, model: str | None = None, extra_models: tuple = (), **settings
) -> Callable[[dict], Callable]:
    """`xfever.build.build` with the CLI cases' settings; `edit` (text) replaces the edit file, `model`
    the de model (formatted with the world), `extra_models` are more (lang, model) overrides."""

    def args(w: dict) -> Callable[[], object]:
        from xfever.build import build
        from xfever.config import BuildConfig
        from xfever.translate.base import DecodeSettings

        files = dict(w["files"])
        if edit is not None:
            files["edit"] = _write(w["tmp"] / "api.jsonl", edit)
        config = BuildConfig(
            out=w["tmp"] / "out",
            langs=("de",),
            edit_file=str(files["edit"]),
            train_file=str(files["train"]),
            test_file=str(files["test"]),
            models=(("de", model.format(**w) if model else str(w["marian"])), *extra_models),
            decode=DecodeSettings(num_beams=1, max_len_ratio=0.5),
            quiet=True,
            **settings,
        )
        return lambda: build(config)

    return args


def _model_args(model: str) -> Callable[[dict], list[str]]:
    """`xfever build` with `--model de=MODEL` (formatted with the world: {marian}, {bert}, {tmp})."""

    def args(w: dict) -> list[str]:
        built = _build_args(w["files"], w["marian"])
        built[built.index("--model") + 1] = "de=" + model.format(**w)
        return [*built, "--out", str(w["tmp"] / "out")]

    return args


TRUNCATED = _kilt(_rows(2)) + '{"id": "r9", "input": "A claim that was cut'


def _eval(*extra: str, dataset: str | None = None) -> Callable[[dict], list[str]]:
    def args(w: dict) -> list[str]:
        data = dataset and str(w["tmp"] / dataset) or str(w["dataset"])
        base = ["eval", "--model", str(w["bert"]), "--dataset", data, "--out", str(w["tmp"] / "runs" / "run")]
        return [*base, "--quiet", "--folders", "1", *extra]

    return args


def _other_version(w: dict, version: int = 999) -> None:
    import shutil

    copy = w["tmp"] / "old"
    shutil.copytree(w["dataset"], copy)
    record = json.loads((copy / "build.json").read_text(encoding="utf-8"))
    (copy / "build.json").write_text(json.dumps(record | {"schema_version": version}), encoding="utf-8")


def _version_1(w: dict) -> None:
    """A folder of layout version 1 ('label' as text, no dataset_info in the card)."""
    _other_version(w, 1)


def _api_validate(w: dict) -> Callable[[], object]:
    from xfever.validate import validate

    return lambda: validate(w["tmp"] / "old")


def _api_suite(w: dict) -> Callable[[], object]:
    from harness.data.xfever import load_xfever_suite

    return lambda: load_xfever_suite(w["tmp"] / "old")


def _api_publish(repo_id: str) -> Callable[[dict], Callable[[], object]]:
    def args(w: dict) -> Callable[[], object]:
        from xfever.publish import publish

        return lambda: publish(w["dataset"], repo_id)

    return args


BAD_REPO_ID = ("--repo-id 'org/bad--name'", "Cannot have -- or ..")
STAND_IN = ("build.json", "language(s) de", "stand-in models", "--allow-stand-in")
OLD_LAYOUT = ("build.json", "schema_version", "layout version 1", "older xfever", "--overwrite")


OUT = lambda w: [w["tmp"] / "out", w["tmp"] / "out.partial"]  # noqa: E731
NO_INPUT = {"id": "a", "output": [{"answer": "SUPPORTS"}]}
RUN = lambda w: [w["tmp"] / "runs" / "run"]  # noqa: E731  (a failed eval leaves no run folder)

CASES = [
    Case("malformed json line", "xfever", _bad_kilt("m.jsonl", _kilt(_rows(2)) + "{not json\n"),
         ("m.jsonl:3", "malformed JSON"), absent=OUT),
    Case("malformed json line (API)", "api", _api_build(_kilt(_rows(2)) + "{not json\n"),
         ("api.jsonl:3", "malformed JSON"), absent=OUT),
    Case("truncated json line", "xfever", _bad_kilt("t.jsonl", TRUNCATED),
         ("t.jsonl:3", "malformed JSON", "cut short"), absent=OUT),
    Case("truncated json line (API)", "api", _api_build(TRUNCATED),
         ("api.jsonl:3", "malformed JSON", "cut short"), absent=OUT),
    Case("model folder does not exist", "xfever", _model_args("{tmp}/no-such-model"),
         ("language 'de'", "no-such-model", "no such folder"), absent=OUT),
    Case("model folder does not exist (API)", "api", _api_build(model="{tmp}/no-such-model"),
         ("language 'de'", "no-such-model", "no such folder"), absent=OUT),
    Case("classifier given as MT model", "xfever", _model_args("{bert}"),
         ("language 'de'", "not a translation model", "'bert'", "BertForSequenceClassification"),
         absent=OUT),
    Case("classifier given as MT model (API)", "api", _api_build(model="{bert}"),
         ("language 'de'", "not a translation model", "BertForSequenceClassification"), absent=OUT),
    Case("--model for a language not in --langs", "xfever",
         lambda w: [*_build_args(w["files"], w["marian"]), "--model", f"fr={w['marian']}",
                    "--out", str(w["tmp"] / "out")],
         ("--model fr=", "'fr' is not in --langs (de)"), absent=OUT),
    Case("--target-token for a language not in --langs", "xfever",
         lambda w: [*_build_args(w["files"], w["marian"]), "--target-token", "zh=>>cmn_Hans<<",
                    "--out", str(w["tmp"] / "out")],
         ("--target-token zh=>>cmn_Hans<<", "'zh' is not in --langs (de)"), absent=OUT),
    Case("--model for a language not in --langs (API)", "api",
         _api_build(extra_models=(("fr", "x"),)),
         ("--model fr=x", "'fr' is not in --langs (de)"), absent=OUT),
    Case("wrong label field", "xfever", _bad_kilt("w.jsonl", _kilt([_row(1, "MAYBE")])),
         ("w.jsonl:1", "output[0].answer", "MAYBE"), absent=OUT),
    Case("missing input field", "xfever", _bad_kilt("f.jsonl", _kilt([NO_INPUT])),
         ("f.jsonl:1", "input", "missing"), absent=OUT),
    Case("empty claim string", "xfever", _bad_kilt("e.jsonl", _kilt([_row(1, text=" ")])),
         ("e.jsonl:1", "input", "empty claim"), absent=OUT),
    Case("unknown language", "xfever",
         lambda w: ["build", "--langs", "xx", "--edit-file", str(w["files"]["edit"]), "--out", str(w["tmp"])],
         ("--langs", "'xx'"), absent=OUT),
    Case("build output folder not empty", "xfever",
         lambda w: [*_build_args(w["files"], w["marian"]), "--out", str(w["tmp"] / "busy")],
         ("busy", "--overwrite"), setup=lambda w: _write(w["tmp"] / "busy" / "mine.txt", "x")),
    Case("validate: another layout version", "xfever", lambda w: ["validate", str(w["tmp"] / "old")],
         ("build.json", "schema_version", "999"), setup=_other_version),
    Case("eval: another layout version", "harness", _eval(dataset="old"),
         ("build.json", "schema_version", "999"), setup=_other_version, absent=RUN),
    Case("validate: layout version 1", "xfever", lambda w: ["validate", str(w["tmp"] / "old")], OLD_LAYOUT,
         setup=_version_1),
    Case("validate: layout version 1 (API)", "api", _api_validate, OLD_LAYOUT, setup=_version_1),
    Case("eval: layout version 1", "harness", _eval(dataset="old"), OLD_LAYOUT, setup=_version_1,
         absent=RUN),
    Case("eval: layout version 1 (API)", "api", _api_suite, OLD_LAYOUT, setup=_version_1),
    Case("publish: repo id the Hub refuses", "xfever",
         lambda w: ["publish", str(w["dataset"]), "--repo-id", "org/bad--name"], BAD_REPO_ID),
    Case("publish: repo id the Hub refuses (API)", "api", _api_publish("org/bad--name"), BAD_REPO_ID),
    Case("publish: build made with stand-in models", "xfever",
         lambda w: ["publish", str(w["dataset"]), "--repo-id", "org/xfever-test"], STAND_IN),
    Case("publish: build made with stand-in models (API)", "api", _api_publish("org/xfever-test"), STAND_IN),
    Case("unknown editor", "harness", _eval("--editor", "tpatchr"), ("--editor", "Did you mean 'tpatcher'"),
         absent=RUN),
    Case("editor raising", "harness",
         lambda w: _eval("--editor", f"{_write(w['tmp'] / 'eds.py', EDITORS)}:Raising")(w),
         ("edit id", "RuntimeError", "patch exploded", "split 'edit'")),
    Case("NaN loss", "harness",
         lambda w: _eval("--editor", f"{_write(w['tmp'] / 'eds.py', EDITORS)}:NanLoss")(w),
         ("edit id", "non-finite", "nan")),
    Case("eval: unknown language", "harness", _eval("--langs", "xx"), ("--langs", "xx"), absent=RUN),
    Case("eval: label map contradicting the head's names", "harness",
         _eval("--label-map", "SUPPORTS=1,REFUTES=0"),
         ("--label-map", "SUPPORTS=1 but the model's label2id says SUPPORTS=0", "--force-label-map"),
         absent=RUN),
    Case("eval: run folder in use by another eval", "harness", _eval(),
         ("run", "being written by pid", "wait for it"),
         setup=lambda w: _held_by_another_writer(w["tmp"] / "runs" / "run"), absent=RUN),
    Case("build: output folder in use by another build", "xfever",
         lambda w: [*_build_args(w["files"], w["marian"]), "--out", str(w["tmp"] / "out")],
         ("out", "being written by pid", "wait for it"),
         setup=lambda w: _held_by_another_writer(w["tmp"] / "out"), absent=OUT),
    Case("eval: missing --config file", "harness", _eval("--config", "nowhere.yaml"),
         ("--config", "nowhere.yaml", "no such file"), absent=RUN),
    Case("eval: run folder not empty", "harness", _eval(), ("--out", "not empty"),
         setup=lambda w: _write(w["tmp"] / "runs" / "run" / "mine.txt", "x")),
    Case("eval: malformed config file", "harness",
         lambda w: _eval("--config", str(_write(w["tmp"] / "c.yaml", "a: [1,\nb: 2\n")))(w),
         ("c.yaml", "not valid YAML"), absent=RUN),
    Case("eval: unknown config setting", "harness",
         lambda w: _eval("--config", str(_write(w["tmp"] / "c.yaml", "foldres: 3\n")))(w),
         ("config", "foldres"), absent=RUN),
    Case("demo: out folder not empty", "harness", lambda w: ["demo", "--out", str(w["tmp"] / "busy")],
         ("busy", "not empty"), setup=lambda w: _write(w["tmp"] / "busy" / "mine.txt", "x")),
    Case("eval: missing dataset folder", "harness", _eval(dataset="nowhere"), ("nowhere",), absent=RUN),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input(case: Case, world, tmp_path):
    w = dict(world, tmp=tmp_path)
    if case.setup:
        case.setup(w)
    if case.tool == "api":
        from common.errors import ToolkitError

        with pytest.raises(ToolkitError) as caught:
            case.args(w)()
        code, out = 1, str(caught.value)
    else:
        code, out = _invoke(case.tool, case.args(w))
    for lock in HELD:
        lock.release()
    HELD.clear()
    assert code != 0, out
    assert "Traceback" not in out
    for text in case.expect:
        assert text in out, f"{text!r} not in: {out}"
    for path in case.absent(w):
        assert not path.exists(), f"{path} left behind"
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith((".tmp", ".tmp.png"))]


def test_failed_edit_run_is_recorded_whole(world, tmp_path):
    """A run whose editor fails writes a complete results.json saying so (never a partial one)."""
    w = dict(world, tmp=tmp_path)
    code, _ = _invoke("harness", _eval("--editor", f"{_write(tmp_path / 'eds.py', EDITORS)}:Raising")(w))
    assert code != 0
    data = json.loads((tmp_path / "runs" / "run" / "results.json").read_text(encoding="utf-8"))
    assert data["status"] == "failed" and "patch exploded" in data["error"]


def test_huge_inputs_are_truncated_not_fatal(world, tmp_path, capfd):
    """A claim far over every max_length, and over the MT model's position table, was built (translation
    cut at the table) and is evaluated (tokens cut)."""
    import pyarrow.parquet as pq

    de = pq.read_table(next((world["dataset"] / "de").glob("edit*.parquet"))).to_pylist()
    assert any(r["claim_en"] == HUGE_CLAIM for r in de)
    w = dict(world, tmp=tmp_path)
    code, out = _invoke("harness", _eval("--editor", "tpatcher", "--editor-opt", "max_steps=3")(w))
    assert code == 0, out
    steps = (tmp_path / "runs" / "run" / "steps.jsonl").read_text(encoding="utf-8").splitlines()
    assert "r99" in {json.loads(s)["id"] for s in steps}
    err = capfd.readouterr().err  # --quiet: no bars of ours, of datasets or of transformers
    assert not any(bar in err for bar in ("Generating", "Loading weights", "encoding", "editing")), err


# ---- safety ----


def _spy_from_pretrained(monkeypatch) -> list[tuple[str, object]]:
    import transformers

    calls: list[tuple[str, object]] = []
    for name in ("AutoConfig", "AutoTokenizer", "AutoModelForSequenceClassification", "MarianMTModel"):
        cls = getattr(transformers, name)
        original = cls.from_pretrained

        def spy(*args, _original=original, _name=name, **kwargs):
            calls.append((_name, kwargs.get("trust_remote_code")))
            return _original(*args, **kwargs)

        monkeypatch.setattr(cls, "from_pretrained", spy)
    return calls


@pytest.mark.parametrize("flag", [False, True])
def test_trust_remote_code_only_when_passed(world, tmp_path, monkeypatch, flag):
    calls = _spy_from_pretrained(monkeypatch)
    w = dict(world, tmp=tmp_path)
    extra = ("--trust-remote-code",) if flag else ()
    code, out = _invoke("harness", _eval("--editor", "none", "--max-edits", "1", *extra)(w))
    assert code == 0, out
    model_calls = [value for name, value in calls if name == "AutoModelForSequenceClassification"]
    assert model_calls and all(value is flag for value in model_calls)
    if not flag:
        assert all(value in (None, False) for _, value in calls)


def test_build_loads_translation_models_without_remote_code(world, tmp_path, monkeypatch):
    calls = _spy_from_pretrained(monkeypatch)
    code, out = _invoke(
        "xfever", [*_build_args(world["files"], world["marian"]), "--out", str(tmp_path / "b")]
    )
    assert code == 0, out
    assert ("MarianMTModel", None) in calls and all(value in (None, False) for _, value in calls)


class FakeHfApi:
    """Records what publish would upload; never touches the network."""

    uploads: list[Path] = []

    def __init__(self, *args, **kwargs) -> None:
        pass

    def create_repo(self, repo_id, **kwargs):
        return f"https://huggingface.co/datasets/{repo_id}"

    def upload_folder(self, *, folder_path, **kwargs):
        import shutil

        target = FakeHfApi.uploads[0]
        shutil.copytree(folder_path, target)

        class Commit:
            oid = "0" * 40

        return Commit()

    def create_tag(self, *args, **kwargs) -> None:
        pass


def test_token_never_written_or_logged(world, tmp_path, monkeypatch, caplog, capfd):
    import logging

    import huggingface_hub

    monkeypatch.setenv("HF_TOKEN", SENTINEL)
    monkeypatch.setattr(huggingface_hub, "HfApi", FakeHfApi)
    monkeypatch.setattr(FakeHfApi, "uploads", [tmp_path / "uploaded"])
    caplog.set_level(logging.DEBUG)
    outputs = []
    built = tmp_path / "built"
    steps = [
        ("xfever", [*_build_args(world["files"], world["marian"]), "--out", str(built)]),
        ("xfever", ["publish", str(built), "--repo-id", "org/xf-test", "--tag", "v0", "--allow-stand-in"]),
        (
            "harness",
            _eval("--editor", "tpatcher", "--editor-opt", "max_steps=2", dataset="built")(
                dict(world, tmp=tmp_path)
            ),
        ),
    ]
    for tool, args in steps:
        code, out = _invoke(tool, args)
        assert code == 0, out
        outputs.append(out)
    assert (tmp_path / "uploaded" / "README.md").is_file()  # publish really ran
    captured = capfd.readouterr()
    text = "\n".join(outputs) + caplog.text + captured.out + captured.err
    assert SENTINEL not in text
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) > 10
    leaks = [p for p in files if SENTINEL.encode() in p.read_bytes()]
    assert not leaks, leaks
