"""A tiny multilingual BERT that has seen the testbed's languages before its English fine-tuning.

Like mBERT, which was pretrained on Wikipedia in 104 languages before anyone fine-tuned it on
English FEVER, the testbed's model is first pretrained with masked-language modelling on English
plus the synthetic languages' text, with a WordPiece tokenizer trained on that text; only then does
`harness train-base` fine-tune it on English claims. A share of the pretraining sentences is
code-switched (some English words replaced by their synthetic-language counterparts, word for word),
the signal that lets mBERT align languages that share no tokens.

Beside masked-language modelling, the [CLS] vector is trained to predict the bag of words of the
sentence (through the MLM head): a sentence-level objective in the role of BERT's next-sentence
prediction, without which a tiny model's [CLS] vectors stay all alike (nearest-neighbour cosine
0.9999, measured), and no editor can tell one claim from another. For a synthetic sentence the bag
is its English source's words (cross-lingual alignment, as XLM's translation objective gives) for
every close-language sentence and for a share `far_alignment` of the far-language ones; the other
far-language sentences predict their own words. `far_alignment` and `code_switch` set how far the
far languages stay from English.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from common.errors import ToolkitError

PRETRAIN_FILE = "pretrain.json"
_WORD = re.compile(r"\w+|[^\w\s]", re.UNICODE)


@dataclass(frozen=True)
class PretrainSettings:
    """Shape of the tiny BERT and its masked-language-model pretraining."""

    # 256 wide: at 64 the [CLS] vectors of templated claims lie so close together (nearest-neighbour
    # cosine 0.9999) that T-Patcher succeeded on 3 of 12 edits (2,000 steps each); at 256, 4 of 4
    hidden_size: int = 256
    layers: int = 2
    heads: int = 4
    intermediate_size: int = 512
    max_length: int = 32
    vocab_size: int = 1200  # whole words in the vocabulary beyond the characters of the text
    steps: int = 150
    batch_size: int = 64
    lr: float = 2e-3
    mask_prob: float = 0.15
    code_switch: float = 0.6  # share of sentences mixed with a synthetic language, word by word
    switch_words: float = 0.5  # share of words replaced in a code-switched sentence
    far_alignment: float = 0.3  # share of far-language sentences whose [CLS] predicts the English words
    bow_weight: float = 1.0  # weight of the [CLS] bag-of-words loss beside the MLM loss
    seed: int = 0


def train_tokenizer(texts: Sequence[str], out: Path, s: PretrainSettings) -> Any:
    """A lower-cased WordPiece tokenizer whose vocabulary is learnt from `texts`, saved in `out`.

    The vocabulary is every character (alone and as a `##` continuation) plus the `vocab_size` most
    frequent words (harness.model.tiny.build_wordpiece_vocab), so a rarer word (a name) is split into
    pieces. Not the `tokenizers` WordPiece trainer: its vocabulary changed from run to run on the
    same text (measured: 654 lines of diff), and the testbed must be a function of its seed.
    """
    from transformers import BertTokenizer

    from harness.model.tiny import build_wordpiece_vocab

    vocab = build_wordpiece_vocab(texts, max_words=s.vocab_size)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = BertTokenizer(
        vocab={token: i for i, token in enumerate(vocab)},
        do_lower_case=True,
        tokenize_chinese_chars=True,
        model_max_length=s.max_length,
    )
    tokenizer.save_pretrained(out)
    return tokenizer


def code_switched(english: str, synthetic: dict[str, str], rng: random.Random, share: float) -> str:
    """`english` with a share of its words replaced, word by word, by one synthetic language's words.

    `synthetic` maps an English word to its counterpart in that language (the lexicon engine's
    mapping applied to the single word), so the two share contexts in one sentence.
    """
    words = _WORD.findall(english)
    return " ".join(synthetic.get(w, w) if rng.random() < share else w for w in words)


def pretraining_corpus(
    english: Sequence[str], langs: Sequence[str], seed: int, s: PretrainSettings, lexicon_seed: str
) -> list[tuple[str, str]]:
    """(sentence, the sentence whose words its [CLS] predicts): English sentences, their synthetic
    versions in every language, and code-switched mixtures."""
    from xfever.translate.lexicon import kind_of, map_close, map_far, synthesize

    rng = random.Random(f"testbed-pretrain-{seed}")
    corpus = [(text, text) for text in english]
    for lang in langs:
        for text in english:
            synthetic = synthesize(text, lang, lexicon_seed)
            aligned = kind_of(lang) == "close" or rng.random() < s.far_alignment
            corpus.append((synthetic, text if aligned else synthetic))
    for text in english:
        if rng.random() >= s.code_switch:
            continue
        lang = rng.choice(list(langs))
        word_map = map_far if kind_of(lang) == "far" else map_close
        words = {w: word_map(lexicon_seed, lang, w) for w in _WORD.findall(text)}
        corpus.append((code_switched(text, words, rng, s.switch_words), text))
    rng.shuffle(corpus)
    return corpus


def _bags(tokenizer: Any, targets: Sequence[str], max_length: int) -> list[list[int]]:
    special = set(tokenizer.all_special_ids)
    ids = tokenizer(list(targets), truncation=True, max_length=max_length)["input_ids"]
    return [sorted(set(row) - special) for row in ids]


def _losses(model: Any, batch: dict[str, Any], bags: list[list[int]]) -> tuple[Any, Any]:
    """MLM loss on the masked positions only (the vocabulary projection of the other positions is
    most of the cost and adds nothing), and the [CLS] bag-of-words loss."""
    import torch
    import torch.nn.functional as F

    labels = batch.pop("labels")
    hidden = model.bert(**batch).last_hidden_state
    chosen = labels != -100
    mlm = F.cross_entropy(model.cls(hidden[chosen]), labels[chosen])
    log_probs = F.log_softmax(model.cls(hidden[:, 0]), dim=-1)
    target = torch.zeros_like(log_probs)
    for row, bag in enumerate(bags):
        if bag:
            target[row, bag] = 1.0 / len(bag)
    return mlm, -(target * log_probs).sum(-1).mean()


def pretrain_mlm(
    corpus: Sequence[tuple[str, str]], tokenizer: Any, out: Path, s: PretrainSettings
) -> dict[str, Any]:
    """Pretraining of a tiny BertForMaskedLM on `corpus` (MLM + [CLS] bag of words); saved to `out`."""
    import torch
    from transformers import BertConfig, BertForMaskedLM, DataCollatorForLanguageModeling

    started = time.perf_counter()
    torch.manual_seed(s.seed)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=s.hidden_size,
        num_hidden_layers=s.layers,
        num_attention_heads=s.heads,
        intermediate_size=s.intermediate_size,
        max_position_embeddings=max(64, s.max_length),
        pad_token_id=tokenizer.pad_token_id,
    )
    model = BertForMaskedLM(config)
    encoded = tokenizer([text for text, _ in corpus], truncation=True, max_length=s.max_length)["input_ids"]
    bags = _bags(tokenizer, [target for _, target in corpus], s.max_length)
    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=s.mask_prob, return_tensors="pt")
    optimizer = torch.optim.AdamW(model.parameters(), lr=s.lr, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: min(1.0, (step + 1) / 50))
    generator = torch.Generator().manual_seed(s.seed)
    model.train()
    losses = []
    for step in range(s.steps):
        rows = torch.randint(len(encoded), (s.batch_size,), generator=generator).tolist()
        torch.manual_seed(s.seed * 100_003 + step)  # the collator's masks: reproducible per step
        batch = collator([{"input_ids": encoded[i]} for i in rows])
        mlm, bow = _losses(model, batch, [bags[i] for i in rows])
        loss = mlm + s.bow_weight * bow
        if not torch.isfinite(loss):
            raise ToolkitError(f"testbed pretraining: loss became {loss.item()} at step {step + 1}")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        losses.append((mlm.item(), bow.item()))
    model.save_pretrained(out)
    tail = losses[-20:]
    mean = lambda i, rows: round(sum(r[i] for r in rows) / len(rows), 4)  # noqa: E731
    record = {
        "kind": "synthetic languages, tiny model: masked-language-model pretraining",
        "settings": asdict(s),
        "corpus_sentences": len(corpus),
        "mlm_loss_first": round(losses[0][0], 4),
        "mlm_loss_last20": mean(0, tail),
        "bow_loss_first": round(losses[0][1], 4),
        "bow_loss_last20": mean(1, tail),
        "seconds": round(time.perf_counter() - started, 2),
    }
    (out / PRETRAIN_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return record
