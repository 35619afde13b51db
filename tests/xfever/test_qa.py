from __future__ import annotations

import pytest

from xfever.qa import detect_lang, has_loop, qa_columns, qa_counts, script_ok

SRC = "The city is located in the north of the country ."


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("de", "Die Stadt liegt im Norden des Landes ."),
        ("fr", "La ville est située dans le nord du pays ."),
        ("es", "La ciudad está situada en el norte del país ."),
        ("zh", "这座城市位于该国北部。"),
        ("ar", "تقع المدينة في شمال البلاد ."),
    ],
)
def test_real_translations_pass(lang: str, text: str) -> None:
    cols = qa_columns([SRC], [text], lang)
    assert cols["qa_detected_lang"] == [lang]
    assert cols["qa_script_ok"] == [True]
    assert cols["qa_flagged"] == [False]


def test_script_checks() -> None:
    assert not script_ok("這座城市位於該國北部。", "zh")  # Traditional characters
    assert not script_ok("taqa al-madina fi shamal al-bilad", "ar")  # Latin-script Arabic
    assert not script_ok("", "de")
    assert script_ok("Die Stadt", "de")


def test_detect_lang_empty() -> None:
    assert detect_lang("   ") == ""


def test_loops() -> None:
    assert has_loop("der der der der".split())
    assert has_loop("a b c a b c a b c".split())
    assert not has_loop("die Stadt liegt im Norden die Stadt".split())


def test_each_check_flags_its_row() -> None:
    sources = [SRC] * 12
    outputs = ["Die Stadt liegt im Norden des Landes ."] * 8 + [
        "",
        SRC,
        "Stadt Stadt Stadt Stadt Stadt Norden .",
        " ".join(["Die Stadt liegt im Norden des Landes und"] * 6),
    ]
    cols = qa_columns(sources, outputs, "de")
    assert cols["qa_empty"][8] and cols["qa_copy"][9] and cols["qa_loop"][10]
    assert cols["qa_length_outlier"][11] and not cols["qa_length_outlier"][0]
    assert cols["qa_flagged"] == [False] * 8 + [True] * 4
    counts = qa_counts(cols)
    assert counts["rows"] == 12 and counts["flagged"] == 4 and counts["empty"] == 1
