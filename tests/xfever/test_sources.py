from __future__ import annotations

import json
from pathlib import Path

import pytest

from common.errors import ToolkitError
from xfever.sources import claim_from_record, collect, read_local


def _write(path: Path, rows: list) -> Path:
    path.write_text(
        "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8"
    )
    return path


def test_hub_shaped_record_converts() -> None:
    # facebook/kilt_tasks `fever` rows carry meta and provenance next to the answer.
    record = {
        "id": 75397,
        "input": " Nikolaj Coster-Waldau worked with the Fox Broadcasting Company. ",
        "meta": {"left_context": ""},
        "output": [{"answer": "SUPPORTS", "meta": {"score": 0}, "provenance": [{"wikipedia_id": "1"}]}],
    }
    claim = claim_from_record(record, "hub", 1)
    assert claim is not None
    assert (claim.id, claim.label, claim.rephrases) == ("75397", "SUPPORTS", ())
    assert claim.claim == "Nikolaj Coster-Waldau worked with the Fox Broadcasting Company."


def test_hub_record_with_output_as_dict_of_lists_converts() -> None:
    # a legacy `Sequence({...})` feature: datasets yields {"answer": [...], "provenance": [...]}
    record = {"id": "7", "input": "A claim .", "output": {"answer": ["REFUTES"], "provenance": [[]]}}
    claim = claim_from_record(record, "hub", 1)
    assert claim is not None and claim.label == "REFUTES"
    nei = {"id": "8", "input": "B .", "output": {"answer": ["NOT ENOUGH INFO"], "provenance": [[]]}}
    assert claim_from_record(nei, "hub", 2) is None
    with pytest.raises(ToolkitError, match="hub:3: field 'output'"):
        claim_from_record({"id": "9", "input": "C .", "output": {"answer": []}}, "hub", 3)


def test_rephrases_kept_and_nei_dropped_and_counted() -> None:
    rows = [
        (1, {"id": "a", "input": "x is y", "output": [{"answer": "REFUTES"}], "rephrases": ["y is x", " "]}),
        (2, {"id": "b", "input": "p is q", "output": [{"answer": "NOT ENOUGH INFO"}]}),
        (3, {"id": "c", "input": "r is s", "output": [{"answer": "SUPPORTS"}]}),
    ]
    claims, dropped = collect(rows, "f.jsonl")
    assert [c.id for c in claims] == ["a", "c"]
    assert claims[0].rephrases == ("y is x",)
    assert dropped == 1


def test_local_file_records_hash(fever_sample: Path) -> None:
    source = read_local(fever_sample, "edit")
    assert len(source.claims) == 239
    assert len(source.sha256 or "") == 64
    assert source.describe()["source"] == fever_sample.name


GOOD = {"id": "1", "input": "A claim .", "output": [{"answer": "SUPPORTS"}]}


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([GOOD, '{"id": "2", "input": '], ["bad.jsonl:2", "malformed JSON"]),
        ([{"id": "2", "output": [{"answer": "SUPPORTS"}]}], ["bad.jsonl:1", "field 'input'", "missing"]),
        ([{"id": "2", "input": "x"}], ["bad.jsonl:1", "field 'output'", "missing"]),
        (
            [{"id": "2", "input": "  ", "output": [{"answer": "SUPPORTS"}]}],
            ["bad.jsonl:1", "field 'input'", "empty"],
        ),
        (
            [GOOD, {"id": "2", "input": "x", "output": [{"answer": "MAYBE"}]}],
            ["bad.jsonl:2", "field 'output[0].answer'", "'MAYBE'"],
        ),
        ([GOOD, GOOD], ["bad.jsonl:2", "field 'id'", "duplicate id '1'", "line 1"]),
        ([{"input": "x", "output": [{"answer": "SUPPORTS"}]}], ["bad.jsonl:1", "field 'id'"]),
        ([{**GOOD, "rephrases": "not a list"}], ["bad.jsonl:1", "field 'rephrases'"]),
    ],
    ids=["json", "no-input", "no-output", "empty", "label", "duplicate", "no-id", "rephrases"],
)
def test_bad_rows_name_file_line_field(tmp_path: Path, rows: list, expected: list[str]) -> None:
    path = _write(tmp_path / "bad.jsonl", rows)
    with pytest.raises(ToolkitError) as caught:
        read_local(path, "edit")
    for part in expected:
        assert part in str(caught.value)


def test_unreadable_path(tmp_path: Path) -> None:
    with pytest.raises(ToolkitError, match="cannot read"):
        read_local(tmp_path / "nope.jsonl", "edit")


def test_hub_source_wiring(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Hub path (no network here): resolve the commit, load config `fever` at it, convert rows."""
    import datasets
    from huggingface_hub import HfApi
    from huggingface_hub import constants as hub

    from xfever.sources import read_source

    monkeypatch.setattr(hub, "HF_HUB_OFFLINE", False)  # the online branch (the suite runs offline)
    seen: dict = {}
    monkeypatch.setattr(
        HfApi, "dataset_info", lambda self, name, revision=None: type("I", (), {"sha": "a" * 40})()
    )

    def fake_load(name, config, split, revision, cache_dir):
        seen.update(name=name, config=config, split=split, revision=revision)
        return [
            {"id": "1", "input": "A .", "meta": {}, "output": [{"answer": "SUPPORTS", "provenance": []}]},
            {
                "id": "2",
                "input": "B .",
                "meta": {},
                "output": [{"answer": "NOT ENOUGH INFO", "provenance": []}],
            },
        ]

    monkeypatch.setattr(datasets, "load_dataset", fake_load)
    source = read_source("facebook/kilt_tasks", "dev", hub_split="validation")
    assert seen == {
        "name": "facebook/kilt_tasks",
        "config": "fever",
        "split": "validation",
        "revision": "a" * 40,
    }
    assert [c.id for c in source.claims] == ["1"] and source.dropped_nei == 1
    assert source.describe()["revision"] == "a" * 40 and source.describe()["source"] == "facebook/kilt_tasks"


@pytest.mark.parametrize("cached", [True, False])
def test_hub_source_offline_takes_the_commit_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cached: bool
) -> None:
    """HF_HUB_OFFLINE=1: no call to the Hub; the commit `main` pointed to at download time, if cached."""
    import datasets
    from huggingface_hub import HfApi
    from huggingface_hub import constants as hub

    from xfever.sources import read_source

    monkeypatch.setattr(hub, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(hub, "HF_HUB_CACHE", str(tmp_path))

    def no_hub(*args: object, **kwargs: object) -> None:
        raise AssertionError("asked the Hub while offline")

    monkeypatch.setattr(HfApi, "dataset_info", no_hub)
    if cached:
        refs = tmp_path / "datasets--facebook--kilt_tasks" / "refs"
        refs.mkdir(parents=True)
        (refs / "main").write_text("b" * 40, encoding="utf-8")
    seen: dict = {}

    def cached_load(name, config, split, revision, cache_dir):
        seen["revision"] = revision
        return [{"id": "1", "input": "A .", "output": [{"answer": "REFUTES"}]}]

    monkeypatch.setattr(datasets, "load_dataset", cached_load)
    described = read_source("facebook/kilt_tasks", "train").describe()
    assert seen["revision"] == described["revision"] == ("b" * 40 if cached else None)
    assert described["resolved"] == ("offline, from the Hub cache" if cached else "offline; commit unknown")


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_file_starting_with_a_byte_order_mark_reads(tmp_path: Path, newline: str) -> None:
    """A KILT file saved with a UTF-8 BOM (Windows editors) reads like one without, line numbers kept."""
    path = tmp_path / "bom.jsonl"
    rows = [GOOD, {"id": "2", "input": "B claim .", "output": [{"answer": "REFUTES"}]}]
    text = newline.join(json.dumps(r) for r in rows) + newline
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    source = read_local(path, "edit")
    assert [(c.id, c.label) for c in source.claims] == [("1", "SUPPORTS"), ("2", "REFUTES")]
    path.write_bytes(b"\xef\xbb\xbf" + (text + '{"id": "3"' + newline).encode("utf-8"))
    with pytest.raises(ToolkitError, match="bom.jsonl:3"):
        read_local(path, "edit")
