"""Length-sorted batching, order restoration, the output cap, target tokens and model provenance."""

from __future__ import annotations

import pytest

from common.errors import ToolkitError
from common.identity import ModelSource, describe_model, folder_sha256, hub_snapshot_revision
from xfever.translate import DEFAULT_MODELS, DEFAULT_TARGET_TOKENS, DecodeSettings
from xfever.translate.batching import length_sorted_batches, max_new_tokens, restore_order
from xfever.translate.ct2 import conversion_dir
from xfever.translate.targets import resolve_target_token


@pytest.mark.parametrize(
    ("lengths", "size", "expected"),
    [
        ([3, 9, 1, 9, 5], 2, [[1, 3], [4, 0], [2]]),  # longest first, ties in input order
        ([4, 4, 4], 5, [[0, 1, 2]]),
        ([], 3, []),
        ([2, 7], 1, [[1], [0]]),
    ],
)
def test_length_sorted_batches(lengths, size, expected):
    assert length_sorted_batches(lengths, size) == expected


def test_restore_order_round_trips():
    items = ["c", "aaaa", "bb", "dddddd", "e"]
    batches = length_sorted_batches([len(x) for x in items], 2)
    outputs = [[items[i].upper() for i in batch] for batch in batches]
    assert restore_order(batches, outputs) == [x.upper() for x in items]
    with pytest.raises(ValueError, match="produced"):
        restore_order(batches, [o[:1] for o in outputs])
    with pytest.raises(ValueError, match="batch_size"):
        length_sorted_batches([1], 0)


@pytest.mark.parametrize(
    ("ratio", "extra", "longest", "limit", "cap"),
    [(3.0, 10, 12, None, 46), (1.5, 0, 7, None, 11), (3.0, 10, 200, 512, 512), (0.1, 0, 1, None, 1)],
)
def test_max_new_tokens(ratio, extra, longest, limit, cap):
    settings = DecodeSettings(max_len_ratio=ratio, max_len_extra=extra)
    assert max_new_tokens(settings, longest, limit) == cap


def test_defaults_cover_the_paper_languages():
    assert DEFAULT_MODELS["zh"] == "Helsinki-NLP/opus-mt-en-zh" and set(DEFAULT_MODELS) == {
        "de",
        "fr",
        "es",
        "zh",
        "ar",
    }
    assert DEFAULT_TARGET_TOKENS == {"zh": ">>cmn_Hans<<", "ar": ">>ara<<"}


class _Tok:
    def __init__(self, codes):
        self.supported_language_codes = codes


def test_target_token_rules():
    many = [f">>x{i}<<" for i in range(20)] + [">>ara<<"]
    assert resolve_target_token("ar", "m", _Tok(many), None) == ">>ara<<"
    assert resolve_target_token("de", "m", _Tok([]), None) is None
    assert resolve_target_token("de", "m", _Tok([]), "") is None
    with pytest.raises(ToolkitError, match=r"\(21 in all\)"):  # long lists are shortened
        resolve_target_token("ar", "m", _Tok(many), ">>arz_Latn<<")


def test_hub_revision_from_the_cache_layout(tmp_path):
    sha = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "models--Helsinki-NLP--opus-mt-en-de"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(sha)
    (repo / "snapshots" / sha).mkdir(parents=True)
    (repo / "snapshots" / sha / "config.json").write_text("{}")
    assert hub_snapshot_revision("Helsinki-NLP/opus-mt-en-de", tmp_path) == sha
    assert hub_snapshot_revision("Helsinki-NLP/opus-mt-en-fr", tmp_path) is None
    source = describe_model("Helsinki-NLP/opus-mt-en-de", hub_cache_dir=tmp_path)
    assert source == ModelSource("Helsinki-NLP/opus-mt-en-de", sha, "hub", None)
    folder = conversion_dir(tmp_path / "ct2", source, "int8")
    assert folder.name == f"Helsinki-NLP--opus-mt-en-de--{sha}--int8"


def test_local_folder_hash_follows_content(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "model.safetensors").write_bytes(b"weights")
    (tmp_path / "README.md").write_text("not hashed")
    first = folder_sha256(tmp_path)
    (tmp_path / "README.md").write_text("changed")
    assert folder_sha256(tmp_path) == first
    (tmp_path / "model.safetensors").write_bytes(b"other weights")
    assert folder_sha256(tmp_path) != first
    assert describe_model(tmp_path).revision_source == "local"
