"""Tiny, untrained MarianMT checkpoints built on the spot.

They have the real opus-mt file layout (`source.spm`, `target.spm`, `vocab.json`, config,
weights), so they load through `MarianTokenizer.from_pretrained` / `MarianMTModel.from_pretrained`
exactly like `Helsinki-NLP/opus-mt-en-*`. Their weights are random: the output is not a
translation. They serve the offline tests and the offline demo, and are labelled as stand-ins
wherever they are used.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

STAND_IN_NOTE = "untrained stand-in for Helsinki-NLP/opus-mt (random weights, not a translation model)"


def _train_spm(texts: Sequence[str], prefix: Path, vocab_size: int) -> None:
    import io

    import sentencepiece as spm

    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(texts),
        model_writer=model,
        vocab_size=vocab_size,
        model_type="unigram",
        character_coverage=1.0,
        hard_vocab_limit=False,
        minloglevel=2,
        # Marian reserves these ids itself through vocab.json.
        unk_id=0,
        bos_id=-1,
        eos_id=-1,
        pad_id=-1,
    )
    prefix.write_bytes(model.getvalue())


def _pieces(spm_path: Path) -> list[str]:
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=str(spm_path))
    return [sp.id_to_piece(i) for i in range(sp.get_piece_size())]


def make_tiny_marian(
    out_dir: str | Path,
    source_texts: Iterable[str],
    target_texts: Iterable[str],
    *,
    target_tokens: Sequence[str] = (),
    vocab_size: int = 300,
    d_model: int = 32,
    layers: int = 2,
    ffn_dim: int = 64,
    heads: int = 2,
    max_length: int = 64,
    num_beams: int = 2,
    seed: int = 0,
) -> Path:
    """Write a tiny MarianMT checkpoint (tokenizer + random model) to `out_dir`; return it.

    `target_tokens` (e.g. `(">>cmn_Hans<<", ">>cmn_Hant<<")`) makes it a multi-target model whose
    tokenizer lists them in `supported_language_codes`, like opus-mt-en-zh.
    """
    import torch
    from transformers import GenerationConfig, MarianConfig, MarianMTModel

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    source_texts, target_texts = list(source_texts), list(target_texts)
    _train_spm(source_texts, out / "source.spm", vocab_size)
    _train_spm(target_texts, out / "target.spm", vocab_size)

    # Shared vocabulary as in opus-mt: </s> = 0, <unk> = 1, then language tokens, then pieces.
    vocab: dict[str, int] = {"</s>": 0, "<unk>": 1}
    for token in target_tokens:
        vocab.setdefault(token, len(vocab))
    for spm_file in ("source.spm", "target.spm"):
        for piece in _pieces(out / spm_file):
            vocab.setdefault(piece, len(vocab))
    vocab["<pad>"] = len(vocab)
    (out / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False, indent=1), encoding="utf-8")
    (out / "tokenizer_config.json").write_text(
        json.dumps(
            {
                "tokenizer_class": "MarianTokenizer",
                "source_lang": "en",
                "target_lang": "xx",
                "model_max_length": max_length,
            }
        ),
        encoding="utf-8",
    )

    pad_id = vocab["<pad>"]
    config = MarianConfig(
        vocab_size=len(vocab),
        d_model=d_model,
        encoder_layers=layers,
        decoder_layers=layers,
        encoder_attention_heads=heads,
        decoder_attention_heads=heads,
        encoder_ffn_dim=ffn_dim,
        decoder_ffn_dim=ffn_dim,
        max_position_embeddings=max_length,
        pad_token_id=pad_id,
        eos_token_id=0,
        decoder_start_token_id=pad_id,
        forced_eos_token_id=0,
        scale_embedding=True,
        share_encoder_decoder_embeddings=True,
    )
    torch.manual_seed(seed)
    model = MarianMTModel(config).eval()
    model.generation_config = GenerationConfig(
        num_beams=num_beams,
        max_length=max_length,
        pad_token_id=pad_id,
        eos_token_id=0,
        decoder_start_token_id=pad_id,
        bad_words_ids=[[pad_id]],
    )
    model.save_pretrained(out)
    (out / "STAND_IN.txt").write_text(STAND_IN_NOTE + "\n", encoding="utf-8")
    return out
