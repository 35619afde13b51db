"""The fine-tuning loop of `harness train-base`: batches, optimiser steps, evaluation, best state.

`harness.train.base.train_classifier` loads the model and data, checks them and saves the result;
this module holds what happens in between (docs/protocol.md, "Base model").
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from common.errors import ToolkitError
from harness.data.suite import Example

if TYPE_CHECKING:
    from harness.train.base import TrainSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Evaluation:
    step: int
    epoch: float
    accuracy: float
    train_loss: float | None  # mean training loss since the previous evaluation


def encode(tokenizer: Any, texts: Sequence[tuple[str, ...]], max_length: int) -> Any:
    """Tokenize one batch; two-segment texts are encoded as pairs ([SEP] and token types)."""
    first = [t[0] for t in texts]
    second = [t[1] for t in texts] if len(texts[0]) == 2 else None
    return tokenizer(first, second, truncation=True, max_length=max_length, padding=True, return_tensors="pt")


class TrainLoop:
    """The training loop's phases: batches, one optimizer step, evaluation, best-state keeping."""

    def __init__(self, clf: Any, tokenizer: Any, label2id: dict[str, int], settings: TrainSettings, device):
        self.clf, self.tokenizer, self.label2id = clf, tokenizer, label2id
        self.settings, self.device = settings, device

    def run(self, train: Sequence[Example], validation: Sequence[Example]) -> dict[str, Any]:
        import torch

        from common.progress import progress

        s = self.settings
        per_epoch = -(-len(train) // s.batch_size)
        total = per_epoch * s.epochs if s.max_steps is None else min(s.max_steps, per_epoch * s.epochs)
        optimizer, scheduler = self._optimizer(total)
        loss_fn = training_loss(s)
        from harness.model.views import head_dropouts

        head = head_dropouts(self.clf) if s.recipe == "reference" else []
        eval_every = s.eval_every or per_epoch
        initial = self.accuracy(validation)
        best: Evaluation | None = None
        best_state: dict[str, Any] = {}
        history: list[Evaluation] = []
        losses: list[float] = []
        step = 0
        bar = progress(total=total, desc="train-base", unit="step", enabled=s.progress)
        for batch in self._batches(train, total):
            self.clf.train()
            for module in head:  # the reference's classifier has no dropout before it
                module.eval()
            loss = loss_fn(self.clf(**batch["inputs"]).logits, batch["labels"])
            if not torch.isfinite(loss):
                bar.close()
                raise ToolkitError(f"training loss became {loss.item()} at step {step + 1}; try a lower --lr")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            step += 1
            losses.append(loss.item())
            bar.update(1)
            if step % eval_every == 0 or step == total:
                evaluation = Evaluation(
                    step, round(step / per_epoch, 4), self.accuracy(validation), sum(losses) / len(losses)
                )
                history.append(evaluation)
                losses = []
                bar.set_postfix(val_acc=f"{evaluation.accuracy:.4f}")
                log.info("step %d: validation accuracy %.4f", step, evaluation.accuracy)
                if best is None or evaluation.accuracy > best.accuracy:
                    best = evaluation
                    best_state = {
                        k: v.detach().to("cpu", copy=True) for k, v in self.clf.state_dict().items()
                    }
        bar.close()
        return {"initial": initial, "best": best, "best_state": best_state, "history": history, "steps": step}

    def _optimizer(self, total: int) -> tuple[Any, Any]:
        import torch
        from transformers import get_linear_schedule_with_warmup

        decay, no_decay = [], []
        for name, param in self.clf.named_parameters():
            # The usual BERT recipe: no weight decay on biases and LayerNorm weights.
            (no_decay if name.endswith("bias") or "LayerNorm" in name else decay).append(param)
        groups = [
            {"params": decay, "weight_decay": self.settings.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ]
        optimizer = torch.optim.AdamW(groups, lr=self.settings.lr)
        decay = self.settings.decay_steps or total
        scheduler = get_linear_schedule_with_warmup(optimizer, self.settings.warmup_steps, decay)
        return optimizer, scheduler

    def _batches(self, train: Sequence[Example], total: int) -> Iterator[dict[str, Any]]:
        import torch

        generator = torch.Generator().manual_seed(self.settings.seed)
        size, produced = self.settings.batch_size, 0
        while produced < total:
            order = torch.randperm(len(train), generator=generator).tolist()
            for start in range(0, len(order), size):
                if produced == total:
                    return
                rows = [train[i] for i in order[start : start + size]]
                yield self._tensors(rows)
                produced += 1

    def _tensors(self, rows: Sequence[Example]) -> dict[str, Any]:
        import torch

        inputs = encode(self.tokenizer, [r.text for r in rows], self.settings.max_length)
        labels = torch.tensor([self.label2id[r.label] for r in rows])
        return {"inputs": inputs.to(self.device), "labels": labels.to(self.device)}

    def accuracy(self, rows: Sequence[Example]) -> float:
        import torch

        self.clf.eval()
        correct, size = 0, self.settings.eval_batch_size
        with torch.inference_mode():
            for start in range(0, len(rows), size):
                batch = self._tensors(rows[start : start + size])
                predicted = self.clf(**batch["inputs"]).logits.argmax(-1)
                correct += int((predicted == batch["labels"]).sum())
        return correct / len(rows)


def training_loss(settings: TrainSettings) -> Any:
    """`logits, labels -> loss`: CE with label smoothing (default), or CE minus `entropy_weight` x the
    entropy of the prediction (reference: its BCE - 0.1 x Bernoulli entropy; equal for a 2-way head)."""
    import torch

    if settings.recipe != "reference":
        return torch.nn.CrossEntropyLoss(label_smoothing=settings.label_smoothing)
    from harness.editors.losses import edit_loss

    return lambda logits, labels: edit_loss(logits, labels, "ce_entropy", settings.entropy_weight)


def _cpu_copy(state: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v.detach().to("cpu", copy=True) for k, v in state.items()}
