"""Tiny MarianMT checkpoints for the translation tests, built once per session.

`make_tiny_marian` initialises weights with std 0.02, which makes a 32-wide model print the same
tokens for every input: order checks would pass vacuously. `_sharpen` redraws the weights with a
larger spread and biases `</s>` so that outputs depend on the input and vary in length (some rows
stop early, some loop into the cap); the result is saved and loaded back through `from_pretrained`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from xfever.tiny import make_tiny_marian

MULTI_TARGET_TOKENS = (">>cmn_Hans<<", ">>cmn_Hant<<")


def _sharpen(folder: Path, seed: int, std: float = 0.3, eos_bias: float = 3.0) -> Path:
    import torch
    from transformers import MarianMTModel

    model = MarianMTModel.from_pretrained(folder)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            # Positions stay sinusoidal, as in opus-mt.
            if parameter.dim() == 2 and "embed_positions" not in name:
                parameter.normal_(0.0, std, generator=generator)
        # The decoder starts from the pad embedding, which Marian keeps at zero (padding_idx); CTranslate2
        # relies on that ("start_from_zero_embedding").
        model.get_input_embeddings().weight[model.config.pad_token_id] = 0.0
        model.final_logits_bias[0, model.config.eos_token_id] = eos_bias
    model.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_single(tmp_path_factory: pytest.TempPathFactory, fever_claims: list[str]) -> Path:
    """A single-target model, like opus-mt-en-de (no target token)."""
    folder = make_tiny_marian(tmp_path_factory.mktemp("tiny_de"), fever_claims, fever_claims, seed=1)
    return _sharpen(folder, seed=1)


@pytest.fixture(scope="session")
def tiny_multi(tmp_path_factory: pytest.TempPathFactory, fever_claims: list[str]) -> Path:
    """A multi-target model, like opus-mt-en-zh (needs `>>cmn_Hans<<`)."""
    folder = make_tiny_marian(
        tmp_path_factory.mktemp("tiny_zh"),
        fever_claims,
        fever_claims,
        target_tokens=MULTI_TARGET_TOKENS,
        seed=2,
    )
    return _sharpen(folder, seed=2)


@pytest.fixture(scope="session")
def mixed_claims(fever_claims: list[str]) -> list[str]:
    """Unsorted inputs of very different lengths (long, one word, a duplicate), 9 rows.

    Claims 8, 14, 17 and 25 make the sharpened zh model stop early on `</s>`; the others loop.
    """
    longest = max(fever_claims, key=len)
    return [
        fever_claims[8],
        longest,
        "Paris.",
        fever_claims[14],
        fever_claims[8],
        fever_claims[25],
        fever_claims[17],
        fever_claims[0],
        fever_claims[1],
    ]
