from __future__ import annotations

from pathlib import Path

from huggingface_hub import DatasetCard

from xfever.card import pending_record, render_card, size_category

REPO = Path(__file__).resolve().parents[2]


def test_dataset_card_md_is_the_rendered_canonical_card() -> None:
    """DATASET_CARD.md is produced by `xfever card --canonical DATASET_CARD.md`; keep it in sync."""
    assert (REPO / "DATASET_CARD.md").read_text(encoding="utf-8") == render_card(pending_record())


def test_canonical_card_yaml() -> None:
    card = DatasetCard(render_card(pending_record()))
    data = card.data.to_dict()
    assert data["license"] == "cc-by-sa-3.0"
    assert data["language"] == ["en", "de", "fr", "es", "zh", "ar"]
    assert data["task_ids"] == ["fact-checking"] and data["size_categories"] == ["100K<n<1M"]
    en = data["configs"][0]
    assert en["config_name"] == "en" and en["default"] is True
    assert [f["split"] for f in en["data_files"]] == ["train", "validation", "edit", "test"]
    assert "| `en` | `train` | 83972 |" in card.text and "pending" in card.text


def test_size_categories() -> None:
    assert [size_category(n) for n in (10, 5_000, 50_000, 200_000)] == [
        "n<1K",
        "1K<n<10K",
        "10K<n<100K",
        "100K<n<1M",
    ]


def test_card_metadata_tags_sources_languages_and_citations() -> None:
    """The card carries Hub tags, the source datasets' Hub ids, each config's language and script (zh
    Simplified), and BibTeX for FEVER, KILT and the MPN paper."""
    card = DatasetCard(render_card(pending_record()))
    data = card.data.to_dict()
    assert data["tags"] == ["cross-lingual", "model-editing", "fact-checking", "machine-translated"]
    assert data["source_datasets"] == ["fever/fever", "facebook/kilt_tasks"]
    details = ["eng_Latn", "deu_Latn", "fra_Latn", "spa_Latn", "zho_Hans", "ara_Arab"]
    assert data["language_details"] == details
    assert "Chinese is Simplified Chinese (`zho_Hans`)" in card.text
    for key in ("@inproceedings{thorne-etal-2018-fever", "@inproceedings{petroni-etal-2021-kilt"):
        assert key in card.text
    assert "@misc{si-etal-mpn" in card.text
    assert "Si, Nianwen and Zhang, Hao and Zhang, Weiqiang" in card.text
    assert "10.18653/v1/N18-1074" in card.text and "10.18653/v1/2021.naacl-main.200" in card.text


def test_language_details_follow_the_zh_target_token() -> None:
    """A build asked for Traditional characters (`>>cmn_Hant<<`) is not described as Simplified."""
    record = pending_record()
    record["engines"]["zh"]["target_token"] = ">>cmn_Hant<<"
    card = DatasetCard(render_card(record))
    assert "zho_Hant" in card.data.to_dict()["language_details"]
    assert "Simplified Chinese" not in card.text
