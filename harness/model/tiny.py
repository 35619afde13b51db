"""A tiny, untrained multilingual BERT sequence classifier built on the spot.

It is a real `BertForSequenceClassification` with a real WordPiece tokenizer, saved with
`save_pretrained` so that it loads through `AutoModelForSequenceClassification` /
`AutoTokenizer.from_pretrained` like `bert-base-multilingual-uncased`. Its weights are random:
it is a stand-in for the offline tests and demo, to be trained briefly before edits mean anything.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

STAND_IN_NOTE = "untrained stand-in for bert-base-multilingual-uncased (random weights, tiny shape)"
SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


def build_wordpiece_vocab(texts: Iterable[str], max_words: int = 2000) -> list[str]:
    """Vocabulary: special tokens, every character (alone and as `##` suffix), frequent words.

    Characters make any text in the corpus' scripts tokenizable (CJK is split per character by
    BERT's basic tokenizer anyway); whole words keep sequences short.
    """
    from tokenizers.normalizers import BertNormalizer
    from tokenizers.pre_tokenizers import BertPreTokenizer

    # The same normalisation and pre-tokenisation as the fast BERT tokenizer that will read it.
    normalizer = BertNormalizer(handle_chinese_chars=True, lowercase=True)
    pre_tokenizer = BertPreTokenizer()
    words: Counter[str] = Counter()
    chars: set[str] = set()
    for text in texts:
        for word, _ in pre_tokenizer.pre_tokenize_str(normalizer.normalize_str(text)):
            words[word] += 1
            chars.update(word)
    vocab = list(SPECIAL_TOKENS)
    ordered_chars = sorted(chars)
    vocab += ordered_chars + [f"##{c}" for c in ordered_chars]
    seen = set(vocab)
    for word, _ in words.most_common():
        if len(vocab) >= len(SPECIAL_TOKENS) + 2 * len(ordered_chars) + max_words:
            break
        if word not in seen:
            vocab.append(word)
            seen.add(word)
    return vocab


def make_tiny_bert(
    out_dir: str | Path,
    texts: Iterable[str],
    *,
    labels: Sequence[str] = ("SUPPORTS", "REFUTES"),
    hidden_size: int = 32,
    layers: int = 2,
    heads: int = 2,
    intermediate_size: int = 64,
    max_position_embeddings: int = 64,
    max_words: int = 2000,
    seed: int = 0,
) -> Path:
    """Write a tiny BERT classifier + WordPiece tokenizer to `out_dir`; return it.

    The head is named by `labels` (`id2label`/`label2id`), as a fine-tuned checkpoint would be.
    """
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    vocab = build_wordpiece_vocab(texts, max_words=max_words)
    vocab_file = out / "vocab.txt"
    vocab_file.write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tokenizer = BertTokenizer(
        vocab={token: i for i, token in enumerate(vocab)},
        do_lower_case=True,
        tokenize_chinese_chars=True,
        model_max_length=max_position_embeddings,
    )
    tokenizer.save_pretrained(out)

    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=hidden_size,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=intermediate_size,
        max_position_embeddings=max_position_embeddings,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={name: i for i, name in enumerate(labels)},
    )
    torch.manual_seed(seed)
    BertForSequenceClassification(config).save_pretrained(out)
    (out / "STAND_IN.txt").write_text(STAND_IN_NOTE + "\n", encoding="utf-8")
    return out
