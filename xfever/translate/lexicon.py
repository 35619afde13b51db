"""The `lexicon` engine: synthetic target languages derived from English by a seeded word mapping.

Not a translation engine in the usual sense: it makes *controlled* languages whose distance from
English is known, so that cross-lingual editing can be tested where the truth is known
(`harness testbed`). Two kinds, chosen by the language code:

* "close" (de, fr, es and any other Latin-script code): English function words are replaced by
  invented words and English inflection suffixes by invented suffixes; names (capitalised words),
  content words and numbers are kept, as machine translation keeps entities. Most tokens are
  shared with English, as between English and German/French/Spanish in mBERT's vocabulary.
* "far" (zh, ar, and other codes in `FAR_SCRIPTS`): every word, names included, is replaced by an
  invented word in another script (Han characters for zh, written without spaces; Arabic letters
  for ar). No token is shared with English; numbers stay digits.

The mapping is a pure function of (seed, language, word): SHA-256 based, so the same word always
gets the same replacement in every sentence, on every machine and Python version. The "model" of a
language is its seed (`--model de=7`; default `0`). The output is recorded as synthetic in
build.json (`engines.<lang>.synthetic`) and the dataset card.
"""

from __future__ import annotations

import hashlib
import re
from functools import cache
from typing import Any

from common.errors import ToolkitError
from xfever.translate.base import DecodeSettings, EngineInfo

VERSION = "lexicon-v1"
DEFAULT_SEED = "0"
FAR_SCRIPTS = {"zh": "han", "ja": "han", "ar": "arabic", "fa": "arabic", "ur": "arabic"}

# English function words (closed classes) that "close" languages replace.
FUNCTION_WORDS = frozenset(
    """a an the this that these those is are was were be been being am has have had having do does did
    not no nor never only also just very too so than then there here of in on at to from by with without
    for as into onto over under about after before during since until between among through against
    and or but if because while although who whom whose which what when where why how it its he she
    they we you i his her their our your him them us me one two three first second all any some each
    every both either neither many much more most less few other another such own same will would can
    could shall should may might must""".split()
)
# English inflection suffixes that "close" languages replace on content words (longest first).
SUFFIXES = ("ation", "ing", "est", "ed", "er", "ly", "es", "s")
_MIN_STEM = 3
_TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)
# Syllables of the invented words of each close language (a flavour only; any seed works).
_SYLLABLES = {
    "de": "ka ve sch ein ter ung lo be mi dor zu hal ten rei ger",
    "fr": "le ou mai ant que ron por vi seu ette ra mo lu cie",
    "es": "la os ra ci el nue sa ro que to ma pe di ca lo",
}
_DEFAULT_SYLLABLES = "ta ko ri mu sel van dor pi na lu be"
_ARABIC_LETTERS = [chr(c) for c in range(0x0627, 0x063B)] + [chr(c) for c in range(0x0641, 0x064B)]
_FAR_PUNCT = {"han": {".": "。", ",": "，", "?": "？", "!": "！"}, "arabic": {",": "،", "?": "؟"}}


def kind_of(lang: str) -> str:
    """`far` for the codes in `FAR_SCRIPTS`, `close` otherwise."""
    return "far" if lang in FAR_SCRIPTS else "close"


def _digest(seed: str, lang: str, word: str) -> bytes:
    return hashlib.sha256(f"{VERSION}\0{seed}\0{lang}\0{word}".encode()).digest()


@cache
def _han_pool() -> tuple[str, ...]:
    """Common CJK ideographs that are Simplified (or shared) Chinese characters."""
    import hanzidentifier

    pool = [chr(c) for c in range(0x4E00, 0x9FA6)]
    kept = [
        ch for ch in pool if hanzidentifier.identify(ch) in (hanzidentifier.SIMPLIFIED, hanzidentifier.BOTH)
    ]
    return tuple(kept)


def _pick(digest: bytes, alphabet: Any, count: int, offset: int = 2) -> list[str]:
    return [
        alphabet[int.from_bytes(digest[offset + 2 * i : offset + 2 * i + 2], "big") % len(alphabet)]
        for i in range(count)
    ]


def invented_word(seed: str, lang: str, word: str) -> str:
    """The invented replacement of `word` (lower-cased) in `lang`: Latin syllables, Han or Arabic letters."""
    digest = _digest(seed, lang, word.lower())
    script = FAR_SCRIPTS.get(lang)
    if script == "han":
        return "".join(_pick(digest, _han_pool(), 1 + digest[0] % 2))
    if script == "arabic":
        return "".join(_pick(digest, _ARABIC_LETTERS, 2 + digest[0] % 4))
    syllables = _SYLLABLES.get(lang, _DEFAULT_SYLLABLES).split()
    return "".join(_pick(digest, syllables, 1 + digest[0] % 2))


def invented_suffix(seed: str, lang: str, suffix: str) -> str:
    syllables = _SYLLABLES.get(lang, _DEFAULT_SYLLABLES).split()
    return _pick(_digest(seed, lang, "-" + suffix), syllables, 1)[0]


def _case_like(source: str, word: str) -> str:
    return word[:1].upper() + word[1:] if source[:1].isupper() else word


def map_close(seed: str, lang: str, token: str) -> str:
    """A close language's token: function words and suffixes replaced; names, numbers, stems kept."""
    low = token.lower()
    if not token[:1].isalpha():
        return token
    if low in FUNCTION_WORDS:
        return _case_like(token, invented_word(seed, lang, low))
    if token[:1].isupper():
        return token  # a name (or a sentence-initial content word): kept, as MT keeps entities
    for suffix in SUFFIXES:
        if low.endswith(suffix) and len(low) - len(suffix) >= _MIN_STEM:
            return token[: -len(suffix)] + invented_suffix(seed, lang, suffix)
    return token


def map_far(seed: str, lang: str, token: str) -> str:
    """A far language's token: every word replaced in the language's script; digits kept."""
    if token.isdigit():
        return token
    if not token[:1].isalnum():
        return _FAR_PUNCT[FAR_SCRIPTS[lang]].get(token, token)
    return invented_word(seed, lang, token)


def synthesize(text: str, lang: str, seed: str = DEFAULT_SEED) -> str:
    """`text` (English) in the synthetic language `lang` made with `seed`."""
    tokens = _TOKEN.findall(text)
    if kind_of(lang) == "close":
        return " ".join(map_close(seed, lang, t) for t in tokens)
    words = [map_far(seed, lang, t) for t in tokens]
    return ("" if FAR_SCRIPTS[lang] == "han" else " ").join(words)


def check_seed(lang: str, model: str) -> str:
    """The lexicon engine's "model" is its seed: an integer. Raise ToolkitError naming the language."""
    if not re.fullmatch(r"-?\d+", str(model).strip()):
        raise ToolkitError(
            f"language '{lang}': the lexicon engine takes a seed as its model (an integer, e.g. "
            f"--model {lang}=0), got {model!r}"
        )
    return str(int(str(model).strip()))


class LexiconTranslator:
    """`Translator` for the lexicon engine: English -> the synthetic language `lang` (seed = `model`)."""

    synthetic = True

    def __init__(
        self,
        lang: str,
        model: str = DEFAULT_SEED,
        *,
        settings: DecodeSettings | None = None,
        target_token: str | None = None,
    ) -> None:
        if target_token:
            raise ToolkitError(
                f"language '{lang}': the lexicon engine takes no target token, got {target_token!r}"
            )
        self.lang, self.seed, self.kind = lang, check_seed(lang, model), kind_of(lang)
        script = FAR_SCRIPTS.get(lang, "latin")
        self.info = EngineInfo(
            engine="lexicon",
            engine_version=VERSION,
            model_id=f"lexicon:{lang}:seed={self.seed}",
            model_revision=None,
            target_token=None,
            device="cpu",
            precision="n/a",
            decoding={
                "synthetic": True,
                "kind": self.kind,
                "script": script,
                "seed": int(self.seed),
                "mapping": "function words and suffixes mapped, names and content words kept"
                if self.kind == "close"
                else "every word mapped to an invented word in another script",
            },
            synthetic=True,
        )

    @staticmethod
    def default_model(lang: str) -> str:
        return DEFAULT_SEED

    @staticmethod
    def check_model(lang: str, model: str) -> None:
        check_seed(lang, model)

    def translate(self, texts: list[str]) -> list[str]:
        return [synthesize(text, self.lang, self.seed) for text in texts]
