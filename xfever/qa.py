"""Per-row quality checks of machine translations, stored as the `qa_*` columns (xfever/schema.py).

Checks (a row failing any of them gets `qa_flagged`; nothing is ever dropped):
* language: py3langid (model inside the wheel) restricted to `LID_LANGS` plus the build's languages;
* script: share of letters in the language's expected script (Unicode character names), and for `zh`
  Simplified Han (hanzidentifier, CC-CEDICT tables inside the wheel);
* empty output; copy of the source (case- and space-insensitive);
* repetition loop: an n-gram repeated back to back (`LOOP_RULES`);
* length-ratio outlier: log(output length / source length) outside Tukey fences at `OUTLIER_K` times the
  per-language inter-quartile range (robust to the garbage rows themselves).
"""

from __future__ import annotations

import math
import statistics
import unicodedata
from collections.abc import Sequence
from functools import cache
from typing import Any

from xfever.schema import QA_COLUMNS

# Confusable neighbours always present, so e.g. Catalan-ish Spanish is not forced into "es".
LID_LANGS: tuple[str, ...] = ("ar", "de", "en", "es", "fa", "fr", "it", "ja", "nl", "pt", "ru", "ur", "zh")
# Scripts named as the first word of the Unicode character name; "CJK" is Han.
EXPECTED_SCRIPTS: dict[str, frozenset[str]] = {
    "ar": frozenset({"ARABIC"}),
    "fa": frozenset({"ARABIC"}),
    "ur": frozenset({"ARABIC"}),
    "ps": frozenset({"ARABIC"}),
    "zh": frozenset({"CJK"}),
    "ja": frozenset({"CJK", "HIRAGANA", "KATAKANA"}),
    "ko": frozenset({"HANGUL"}),
    "ru": frozenset({"CYRILLIC"}),
    "uk": frozenset({"CYRILLIC"}),
    "bg": frozenset({"CYRILLIC"}),
    "be": frozenset({"CYRILLIC"}),
    "mk": frozenset({"CYRILLIC"}),
    "kk": frozenset({"CYRILLIC"}),
    "mn": frozenset({"CYRILLIC"}),
    "el": frozenset({"GREEK"}),
    "he": frozenset({"HEBREW"}),
    "hi": frozenset({"DEVANAGARI"}),
    "mr": frozenset({"DEVANAGARI"}),
    "ne": frozenset({"DEVANAGARI"}),
    "th": frozenset({"THAI"}),
    "ka": frozenset({"GEORGIAN"}),
    "hy": frozenset({"ARMENIAN"}),
}
LATIN = frozenset({"LATIN"})
# Languages written without spaces between words: lengths and loops are counted in characters.
CHAR_LANGS = frozenset({"zh", "ja", "th", "lo", "km", "my"})
SCRIPT_SHARE = 0.5
LOOP_RULES: tuple[tuple[int, int], ...] = ((1, 4), (2, 3), (3, 3), (4, 3), (5, 3), (6, 3))  # (n, repeats)
OUTLIER_K = 3.0
MIN_IQR = 0.25  # log units: keeps fences sane when most ratios coincide (tiny builds)


def settings() -> dict[str, Any]:
    """The thresholds, recorded in build.json and the card."""
    return {
        "lid_package": "py3langid",
        "lid_base_langs": list(LID_LANGS),
        "script_share": SCRIPT_SHARE,
        "zh_variety": "hanzidentifier: SIMPLIFIED or BOTH",
        "loop_rules": [list(r) for r in LOOP_RULES],
        "length_ratio": "log(len(output)/len(source)), Tukey fences",
        "outlier_k": OUTLIER_K,
        "min_iqr": MIN_IQR,
        "length_units": "whitespace-separated words; letters and digits for " + ", ".join(sorted(CHAR_LANGS)),
    }


@cache
def langid_labels() -> list[str]:
    """ISO 639-1 codes py3langid knows."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return sorted(LanguageIdentifier.from_model_file(MODEL_FILE).nb_classes)


@cache
def _identifier(langs: tuple[str, ...]) -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE)
    identifier.set_languages(list(langs))
    return identifier


def detect_lang(text: str, langs: Sequence[str] = ()) -> str:
    """Most likely language of `text` among `LID_LANGS` + `langs` ("" for empty text)."""
    if not text.strip():
        return ""
    known = set(langid_labels())
    pool = tuple(sorted((set(LID_LANGS) | set(langs)) & known))
    return str(_identifier(pool).classify(text)[0])


def _script(ch: str) -> str | None:
    if not unicodedata.category(ch).startswith("L"):
        return None
    return unicodedata.name(ch, "UNKNOWN").split(" ")[0]


def script_ok(text: str, lang: str) -> bool:
    """At least `SCRIPT_SHARE` of the letters are in `lang`'s script (and Simplified Han for zh)."""
    scripts = [s for s in map(_script, text) if s is not None]
    expected = EXPECTED_SCRIPTS.get(lang, LATIN)
    if not scripts or sum(s in expected for s in scripts) < SCRIPT_SHARE * len(scripts):
        return False
    if lang == "zh":
        import hanzidentifier

        return hanzidentifier.identify(text) in (hanzidentifier.SIMPLIFIED, hanzidentifier.BOTH)
    return True


def units(text: str, lang: str) -> list[str]:
    """Length units: words, or letters/digits for languages written without spaces."""
    if lang in CHAR_LANGS:
        return [ch for ch in text if unicodedata.category(ch)[0] in "LN"]
    return text.split()


def has_loop(tokens: Sequence[str]) -> bool:
    """True when some n-gram is repeated back to back at least as often as `LOOP_RULES` allows."""
    for n, repeats in LOOP_RULES:
        span = n * repeats
        for start in range(len(tokens) - span + 1):
            gram = tokens[start : start + n]
            if all(tokens[start + k * n : start + (k + 1) * n] == gram for k in range(1, repeats)):
                return True
    return False


def _normal(text: str) -> str:
    return " ".join(text.casefold().split())


def _fences(log_ratios: list[float]) -> tuple[float, float]:
    if len(log_ratios) < 2:
        return (-math.inf, math.inf)
    q1, _, q3 = statistics.quantiles(log_ratios, n=4, method="inclusive")
    iqr = max(q3 - q1, MIN_IQR)
    return (q1 - OUTLIER_K * iqr, q3 + OUTLIER_K * iqr)


def qa_columns(sources: Sequence[str], outputs: Sequence[str], lang: str, langs: Sequence[str] = ()) -> dict:
    """The QA columns for one language's rows (same order as the inputs)."""
    cols: dict[str, list] = {name: [] for name in QA_COLUMNS}
    for src, out in zip(sources, outputs, strict=True):
        detected = detect_lang(out, (lang, *langs))
        cols["qa_detected_lang"].append(detected)
        cols["qa_lang_ok"].append(detected == lang)
        cols["qa_script_ok"].append(script_ok(out, lang))
        cols["qa_empty"].append(not out.strip())
        cols["qa_copy"].append(_normal(out) == _normal(src))
        cols["qa_loop"].append(has_loop(units(out, lang)))
        ratio = len(units(out, lang)) / max(len(src.split()), 1)
        cols["qa_length_ratio"].append(round(ratio, 6))
    logs = [math.log(r) for r in cols["qa_length_ratio"] if r > 0]
    low, high = _fences(logs)
    for i, ratio in enumerate(cols["qa_length_ratio"]):
        outlier = ratio <= 0 or not (low <= math.log(ratio) <= high)
        cols["qa_length_outlier"].append(outlier)
        failed = (
            not cols["qa_lang_ok"][i],
            not cols["qa_script_ok"][i],
            cols["qa_empty"][i],
            cols["qa_copy"][i],
            cols["qa_loop"][i],
            outlier,
        )
        cols["qa_flagged"].append(any(failed))
    return cols


def qa_counts(cols: dict[str, list]) -> dict[str, int]:
    """Per-language sums of the QA columns, as the card and build.json report them."""
    return {
        "rows": len(cols["qa_flagged"]),
        "flagged": sum(cols["qa_flagged"]),
        "wrong_language": sum(not ok for ok in cols["qa_lang_ok"]),
        "wrong_script": sum(not ok for ok in cols["qa_script_ok"]),
        "empty": sum(cols["qa_empty"]),
        "copy_of_source": sum(cols["qa_copy"]),
        "repetition_loop": sum(cols["qa_loop"]),
        "length_outlier": sum(cols["qa_length_outlier"]),
    }
