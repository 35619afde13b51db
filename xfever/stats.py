"""Sentence-length statistics per language and their histogram (the paper's Figure 3).

Length = whitespace words, or letters/digits for languages written without spaces (zh, ja, ...):
see `xfever.qa.units`. The paper reports averages 8.2 en, 7.8 de, 8.9 fr, 8.8 es, 13.2 zh, 7.4 ar
without saying how it counts; our counting rule is recorded with the numbers.
"""

from __future__ import annotations

import io
import math
import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from xfever.qa import CHAR_LANGS, units

HISTOGRAM_FILE = "sentence_lengths.png"
MAX_BIN = 40  # longer sentences land in the last bin


def length_stats(texts: Sequence[str], lang: str) -> dict[str, Any]:
    """rows, mean, median, p95, min, max of the sentence lengths."""
    lengths = [len(units(t, lang)) for t in texts]
    if not lengths:
        return {"rows": 0, "mean": None, "median": None, "p95": None, "min": None, "max": None}
    ordered = sorted(lengths)
    p95 = ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]
    return {
        "rows": len(lengths),
        "unit": "characters" if lang in CHAR_LANGS else "words",
        "mean": round(statistics.fmean(lengths), 2),
        "median": statistics.median(lengths),
        "p95": p95,
        "min": ordered[0],
        "max": ordered[-1],
    }


def histogram_png(texts_by_lang: Mapping[str, Sequence[str]], *, title: str = "") -> bytes:
    """One small histogram per language (a grid like the paper's Figure 3), as PNG bytes.

    Saved without the matplotlib version stamp so identical inputs give identical bytes.
    """
    import matplotlib.pyplot as plt

    fig = histogram_figure(texts_by_lang, title=title)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()


def histogram_figure(texts_by_lang: Mapping[str, Sequence[str]], *, title: str = "") -> Any:
    """The figure of `histogram_png`: per language, sentences (y) per length bin (x)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    langs = list(texts_by_lang)
    cols = min(3, len(langs))
    rows = math.ceil(len(langs) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.4 * rows), squeeze=False)
    bins = list(range(0, MAX_BIN + 2))
    for ax, lang in zip(axes.flat, langs, strict=False):
        lengths = [min(len(units(t, lang)), MAX_BIN) for t in texts_by_lang[lang]]
        ax.hist(lengths, bins=bins, color="#4C72B0")
        ax.set_title(lang)
        ax.set_xlabel("length (characters)" if lang in CHAR_LANGS else "length (words)")
        ax.set_ylabel("sentences")
    for ax in list(axes.flat)[len(langs) :]:
        ax.axis("off")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
