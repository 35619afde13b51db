"""How last-FFN editors see the model: the FULL path and the exact CACHED-[CLS] path.

For a classifier that reads [CLS] of the last layer, the logits depend on one vector per row: the
[CLS] input `q` to the last layer's FFN (docs/protocol.md, "Where the cost is"). Editors that change
only that FFN (patch neurons, FT of the last FFN) therefore see the model through `ModelView`:

- `FullView`: tokenized inputs through every layer (the reference; `dropout="model"` trains in train
  mode, dropout in every layer).
- `CachedView`: `q` computed once per text (batched, length-sorted, no grad), then only
  last FFN (+ patches) -> residual + LayerNorm -> pooler -> classifier. In eval mode its logits equal
  the full path's (fp32 difference 0.0 on BERT; tests check 1e-5 and identical predictions).

Dropout settings (recorded in results): `none` (eval mode, identical on both paths), `patch`
(dropout on the patch neurons' input vector only, one mask per example drawn from the view's own
generator, so both paths draw the same masks), `model` (train mode; full path only). With
`head_dropout=False`, `model` keeps the dropout right before the classifier off, as the reference's
classifier (a linear layer on the pooler output) has none.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from harness.data.suite import Text
from harness.model.frozen import FrozenFFN
from harness.model.loading import LoadedModel
from harness.model.patch import PatchBank, install_patches, last_layer

log = logging.getLogger(__name__)

DROPOUTS = ("none", "patch", "model")
ENCODE_DTYPES = ("float32", "bfloat16")


class _Captured(Exception):
    """Raised by the hook on the last FFN once its [CLS] input is taken: the rest need not run."""


@dataclass
class Forward:
    logits: torch.Tensor  # (batch, num_labels)
    patch_pre: torch.Tensor | None  # (batch, n_patches) patch pre-activations at [CLS], or None


class ModelView:
    """Shared machinery; `encode`/`_logits` differ between the two paths."""

    path = "abstract"

    def __init__(
        self,
        loaded: LoadedModel,
        *,
        max_length: int = 32,
        dropout: str = "none",
        batch_size: int = 64,
        encode_dtype: str = "float32",
        head_dropout: bool = True,
    ) -> None:
        if dropout not in DROPOUTS:
            raise ValueError(f"dropout must be one of {DROPOUTS}, got {dropout!r}")
        if encode_dtype not in ENCODE_DTYPES:
            raise ValueError(f"encode_dtype must be one of {ENCODE_DTYPES}, got {encode_dtype!r}")
        self.encode_dtype = encode_dtype
        if encode_dtype == "bfloat16" and self._emulated_bf16(loaded):
            log.warning(
                "--encode-dtype bfloat16 on a CPU without AVX-512 BF16 / AMX (%s): bf16 is emulated and "
                "slower than float32 (7x measured on AVX2, benchmarks/RESULTS.md)",
                torch.backends.cpu.get_cpu_capability(),
            )
        self.loaded = loaded
        self.model: nn.Module = loaded.model
        self.tokenizer = loaded.tokenizer
        self.max_length = max_length
        self.dropout = dropout
        self.head_dropout = head_dropout
        self.batch_size = batch_size
        self.bank: PatchBank = install_patches(self.model)
        self.layer = last_layer(self.model)
        self.device = next(self.model.parameters()).device
        cfg = self.model.config
        self.patch_dropout_p = float(getattr(cfg, "hidden_dropout_prob", 0.1) or 0.0)
        self.generator = torch.Generator(device="cpu")
        self.model.eval()

    @staticmethod
    def _emulated_bf16(loaded: LoadedModel) -> bool:
        device = next(loaded.model.parameters()).device
        return device.type == "cpu" and "AVX512" not in torch.backends.cpu.get_cpu_capability()

    # -- pieces every path shares -------------------------------------------------------------
    def reseed(self, seed: int) -> None:
        """Fix the randomness of the next edit (patch-dropout masks and, for `model`, torch's RNG)."""
        self.generator.manual_seed(seed)
        torch.manual_seed(seed)

    def ffn_parameters(self) -> list[nn.Parameter]:
        """The last FFN's own weights (what the FT baseline tunes)."""
        inter = getattr(self.layer.intermediate, "base", self.layer.intermediate)
        dense = getattr(self.layer.output.dense, "base", self.layer.output.dense)
        return [inter.dense.weight, inter.dense.bias, dense.weight, dense.bias]

    def tokenize(self, texts: Sequence[Text]) -> dict[str, torch.Tensor]:
        first = [t[0] for t in texts]
        second = [t[1] for t in texts] if texts and len(texts[0]) > 1 else None
        enc = self.tokenizer(
            first, second, truncation=True, max_length=self.max_length, padding=True, return_tensors="pt"
        )
        return {k: v.to(self.device) for k, v in enc.items()}

    def _order(self, texts: Sequence[Text]) -> list[int]:
        lengths = [sum(len(s) for s in t) for t in texts]
        return sorted(range(len(texts)), key=lambda i: lengths[i])

    @torch.no_grad()
    def cls_vectors(
        self, texts: Sequence[Text], on_batch: Callable[[int], object] | None = None
    ) -> torch.Tensor:
        """The [CLS] inputs to the last FFN, (N, hidden), computed batched and length-sorted;
        `on_batch(n)` after each batch of n texts (progress).

        The forward pass stops there: the last FFN, pooler and classifier do not run (the vector
        does not depend on them). With `encode_dtype="bfloat16"` the layers below run under bf16
        autocast (CPUs with AVX-512 BF16 / AMX, GPUs); the vectors are kept in float32."""
        out = torch.empty(len(texts), self.bank.hidden_size, device=self.device)
        captured: list[torch.Tensor] = []

        def take(_module: Any, args: tuple) -> None:
            captured.append(args[0][:, 0])
            raise _Captured

        hook = self.layer.intermediate.register_forward_pre_hook(take)
        bf16 = self.encode_dtype == "bfloat16"
        try:
            order = self._order(texts)
            for start in range(0, len(order), self.batch_size):
                idx = order[start : start + self.batch_size]
                captured.clear()
                inputs = self.tokenize([texts[i] for i in idx])
                with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=bf16):
                    try:
                        self.model(**inputs)
                    except _Captured:
                        pass
                out[torch.tensor(idx, device=self.device)] = captured[0].float()
                if on_batch is not None:
                    on_batch(len(idx))
        finally:
            hook.remove()
        return out

    def vectors(self, texts: Sequence[Text]) -> torch.Tensor:
        """`cls_vectors`, from the cache where the path has one."""
        return self.cls_vectors(texts)

    def _patch_mask(self, n: int) -> torch.Tensor:
        keep = 1.0 - self.patch_dropout_p
        mask = torch.bernoulli(torch.full((n, self.bank.hidden_size), keep), generator=self.generator)
        return (mask / keep).to(self.device)

    def forward(self, batch: Any, *, train: bool = False) -> Forward:
        """Logits and patch pre-activations at [CLS]; `train=True` applies the dropout setting."""
        n = self.batch_len(batch)
        use_patch_dropout = train and self.dropout == "patch" and len(self.bank) > 0
        self.bank.input_mask = self._patch_mask(n) if use_patch_dropout else None
        model_mode = train and self.dropout == "model"
        if model_mode:
            self.model.train()
            if not self.head_dropout:
                for module in head_dropouts(self.model):
                    module.eval()
        try:
            logits = self._logits(batch)
        finally:
            self.bank.input_mask = None
            if model_mode:
                self.model.eval()
        return Forward(logits=logits, patch_pre=self.bank.last_pre)

    @torch.no_grad()
    def predict(self, texts: Sequence[Text]) -> torch.Tensor:
        """Predicted logit index per text (eval mode), (N,) long on CPU."""
        out = torch.empty(len(texts), dtype=torch.long)
        order = self._order(texts)
        for start in range(0, len(order), self.batch_size * 4):
            idx = order[start : start + self.batch_size * 4]
            logits = self.forward(self._scoring_batch([texts[i] for i in idx])).logits
            out[torch.tensor(idx)] = logits.argmax(-1).cpu()
        return out

    @torch.no_grad()
    def logits(self, texts: Sequence[Text]) -> torch.Tensor:
        """Logits per text (eval mode), (N, num_labels) float on CPU, batched as `predict` batches."""
        out: torch.Tensor | None = None
        order = self._order(texts)
        for start in range(0, len(order), self.batch_size * 4):
            idx = order[start : start + self.batch_size * 4]
            logits = self.forward(self._scoring_batch([texts[i] for i in idx])).logits
            if out is None:
                out = torch.empty(len(texts), logits.shape[-1], dtype=torch.float32)
            out[torch.tensor(idx)] = logits.float().cpu()
        return out if out is not None else torch.empty(0, 0)

    # -- path-specific ------------------------------------------------------------------------
    def encode(self, texts: Sequence[Text]) -> Any:
        raise NotImplementedError

    def _scoring_batch(self, texts: Sequence[Text]) -> Any:
        """The batch `predict` and `logits` score (the cached path adds its memo of the FFN)."""
        return self.encode(texts)

    def keep_frozen(self, texts: Sequence[Text]) -> None:
        """Texts scored again and again (locality rows): the cached path keeps their frozen-FFN output."""

    def batch_len(self, batch: Any) -> int:
        raise NotImplementedError

    def _logits(self, batch: Any) -> torch.Tensor:
        raise NotImplementedError

    def repeat(self, batch: Any, copies: int) -> Any:
        """The batch with each row repeated `copies` times (row-major: r0, r0, ..., r1, r1, ...)."""
        raise NotImplementedError


class FullView(ModelView):
    """Tokenized inputs through every layer of the model."""

    path = "full"

    def encode(self, texts: Sequence[Text]) -> dict[str, torch.Tensor]:
        return self.tokenize(texts)

    def batch_len(self, batch: dict[str, torch.Tensor]) -> int:
        return int(batch["input_ids"].shape[0])

    def _logits(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.model(**batch).logits

    def repeat(self, batch: dict[str, torch.Tensor], copies: int) -> dict[str, torch.Tensor]:
        return {k: v.repeat_interleave(copies, dim=0) for k, v in batch.items()}


class CachedView(ModelView):
    """Cached [CLS] vectors -> last FFN (+patches) -> LayerNorm -> pooler -> classifier."""

    path = "cached"

    def __init__(self, loaded: LoadedModel, **kwargs: Any) -> None:
        super().__init__(loaded, **kwargs)
        if self.dropout == "model":
            raise ValueError(
                "dropout 'model' needs the full path (every layer in train mode); use --no-cache"
            )
        self._head = _classifier_head(self.model)
        self._cache: dict[Text, torch.Tensor] = {}
        out = self.layer.output
        self._split_ffn = hasattr(out, "LayerNorm") and hasattr(out, "dropout")  # BertOutput and kin
        self._memo = FrozenFFN()

    def warm(self, texts: Sequence[Text], on_batch: Callable[[int], object] | None = None) -> int:
        """Encode the texts not cached yet; return how many were encoded."""
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            vectors = self.cls_vectors(missing, on_batch)
            self._cache.update(zip(missing, vectors, strict=True))
        return len(missing)

    def cache_items(self) -> dict[Text, torch.Tensor]:
        return self._cache

    def encode(self, texts: Sequence[Text]) -> torch.Tensor:
        self.warm(texts)
        if not texts:
            return torch.empty(0, self.bank.hidden_size, device=self.device)
        return torch.stack([self._cache[t] for t in texts])

    def vectors(self, texts: Sequence[Text]) -> torch.Tensor:
        return self.encode(texts)

    def batch_len(self, batch: torch.Tensor) -> int:
        return int(batch.shape[0])

    def _logits(self, batch: torch.Tensor) -> torch.Tensor:
        x = batch[:, None, :]
        base = self._frozen_ffn(batch)
        if base is None:
            hidden = self.layer.output(self.layer.intermediate(x), x)
        else:  # BertOutput.forward with the base FFN's output memoised: dense -> dropout -> LN(h + x)
            out = self.layer.output
            hidden = out.LayerNorm(out.dropout(self.bank.output(x, base, self.layer.intermediate.act)) + x)
        return self._head(hidden)

    def _frozen_ffn(self, batch: torch.Tensor) -> torch.Tensor | None:
        return self._memo.for_batch(self, batch)

    def repeat(self, batch: torch.Tensor, copies: int) -> torch.Tensor:
        return batch.repeat_interleave(copies, dim=0)

    def keep_frozen(self, texts: Sequence[Text]) -> None:
        self._memo.keep(texts)

    def _scoring_batch(self, texts: Sequence[Text]) -> torch.Tensor:
        return self._memo.scoring_batch(self, texts, self.encode(texts))


def head_dropouts(model: nn.Module) -> list[nn.Module]:
    """The dropout modules of the classification head (before the classifier), not the encoder's:
    BERT-style `model.dropout`, RoBERTa-style `model.classifier.dropout`."""
    found = []
    for owner in (model, getattr(model, "classifier", None)):
        module = getattr(owner, "dropout", None) if owner is not None else None
        if isinstance(module, nn.Dropout):
            found.append(module)
    return found


def _classifier_head(model: nn.Module) -> Any:
    """last-layer hidden states (B, L, H) -> logits, for the architectures whose head we know."""
    base = getattr(model, "base_model", model)
    classifier = getattr(model, "classifier", None)
    pooler = getattr(base, "pooler", None)
    if isinstance(classifier, nn.Linear) and pooler is not None:  # BERT-style: pooler + dropout + linear
        dropout = getattr(model, "dropout", nn.Identity())
        return lambda hidden: classifier(dropout(pooler(hidden)))
    if classifier is not None and hasattr(classifier, "out_proj"):  # RoBERTa/XLM-R: head reads [:, 0]
        return classifier
    raise TypeError(
        f"{type(model).__name__}: the cached path knows BERT- and RoBERTa-style heads only; use --no-cache"
    )


def make_view(loaded: LoadedModel, *, cached: bool, **kwargs: Any) -> ModelView:
    return (CachedView if cached else FullView)(loaded, **kwargs)
