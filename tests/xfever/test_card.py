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
