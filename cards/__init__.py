"""Card templates (dataset card, model card), shipped as package data.

`template(name)` returns a template's text; the renderers live in `xfever.card` and `harness`.
"""

from __future__ import annotations

from importlib.resources import files


def template(name: str) -> str:
    """Text of the template file `name` in this folder (e.g. "dataset_card.md")."""
    return files(__name__).joinpath(name).read_text(encoding="utf-8")
