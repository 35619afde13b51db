"""Fine-tune the *original model* that the editing experiments start from (paper Appendix A, Table 4).

`train_classifier` is a plain torch loop: AdamW, linear warm-up and decay, cross-entropy with label
smoothing, validation accuracy every `eval_every` steps (default: each epoch), the best checkpoint
kept. It writes a Hugging Face checkpoint (model + tokenizer), a model card (`README.md`) and
`train_base.json` with the same facts, atomically: a temporary folder renamed into place. The data
comes from `harness.train.data`, the card and provenance from `harness.train.card`.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from common.device import DEVICE_HELP, resolve_device
from common.errors import ToolkitError, UsageError
from common.settings import setting
from harness.data.suite import Example
from harness.model.loading import has_named_head, match_labels
from harness.train.card import provenance, render_card

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
RECORD_FILE = "train_base.json"


TASKS = ("xfever", "xnli")
TASK_ALIASES = {"fever": "xfever"}
RECIPES = ("default", "reference")  # the name train-base used before the commands agreed on one


@dataclass(frozen=True)
class TrainSettings:
    """Base-model training settings; defaults are the paper's Table 4 XFEVER column (`for_task`)."""

    epochs: int = setting(20, help="Epochs (Table 4: 20 XFEVER, 3 XNLI).", show="by task")
    batch_size: int = setting(128, help="Batch size (Table 4: 128 XFEVER, 64 XNLI).", show="by task")
    lr: float = setting(3e-5, help="Peak learning rate of AdamW (Table 4).")
    max_length: int = setting(32, help="Tokens per text (Table 4: 32 XFEVER, 128 XNLI).", show="by task")
    weight_decay: float = setting(0.01, help="AdamW weight decay (Table 4).")
    warmup_steps: int = setting(500, help="Linear warm-up steps, then linear decay to 0 (Table 4).")
    label_smoothing: float = setting(0.1, help="Label smoothing of the cross-entropy (Table 4's eps 0.1).")
    recipe: str = setting(
        "default",
        help="default: CE with --label-smoothing, the head's own dropout. reference: the reference "
        "code's reading of eps 0.1 (Transformer-Patcher BertBinary): CE minus 0.1 x the prediction's "
        "entropy (a confidence penalty; --label-smoothing unused) and no dropout before the classifier.",
        choices=RECIPES,
    )
    entropy_weight: float = setting(0.1, help="--recipe reference: weight of the entropy term.")
    decay_steps: int | None = setting(
        None,
        help="Steps from the start at which the linear decay reaches lr 0 [default: the last step]; the "
        "reference fixes 10,000 (total_num_steps), so a longer run trains its last steps at lr 0.",
    )
    seed: int = setting(0, help="Seed of the shuffling, dropout and head initialisation.")
    device: str = setting("auto", help=DEVICE_HELP)
    eval_every: int | None = setting(None, help="Optimizer steps between validations [default: each epoch].")
    max_steps: int | None = setting(None, help="Stop after N optimizer steps (smoke runs).")
    eval_batch_size: int = setting(256, help="Texts per forward pass when validating.")
    progress: bool = setting(True, help="Progress bars.", cli=False)

    @classmethod
    def for_task(cls, task: str, **overrides: Any) -> TrainSettings:
        """Table 4's column of `task` (xfever, xnli), with `overrides` on top."""
        task = TASK_ALIASES.get(task, task)
        presets = {"xfever": {}, "xnli": {"epochs": 3, "batch_size": 64, "max_length": 128}}
        if task not in presets:
            raise UsageError(f"--task: unknown task {task!r}; known: {', '.join(presets)}")
        return cls(**(presets[task] | overrides))

    def __post_init__(self) -> None:
        positive = {"epochs": self.epochs, "batch_size": self.batch_size, "max_length": self.max_length}
        positive |= {"eval_batch_size": self.eval_batch_size}
        for name, value in positive.items():
            if value < 1:
                raise UsageError(f"setting {name}: must be >= 1, got {value}")
        if self.lr <= 0 or self.weight_decay < 0 or self.warmup_steps < 0:
            raise ToolkitError("settings lr > 0, weight_decay >= 0 and warmup_steps >= 0 are required")
        if self.recipe not in RECIPES:
            raise UsageError(f"--recipe: expected one of {RECIPES}, got {self.recipe!r}")
        if not 0 <= self.label_smoothing < 1:
            raise UsageError(f"setting label_smoothing: must be in [0, 1), got {self.label_smoothing}")
        for name in ("eval_every", "max_steps", "decay_steps"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise UsageError(f"setting {name}: must be >= 1 (or unset), got {value}")


@dataclass(frozen=True)
class Evaluation:
    step: int
    epoch: float
    accuracy: float
    train_loss: float | None  # mean training loss since the previous evaluation


@dataclass(frozen=True)
class TrainResult:
    """What `train_classifier` did; `to_dict()` is the body of `train_base.json`."""

    out_dir: str
    base_model: str
    label_names: tuple[str, ...]
    n_train: int
    n_validation: int
    initial_accuracy: float
    best_accuracy: float
    best_step: int
    best_epoch: float
    steps: int
    device: str
    seconds: float
    history: tuple[Evaluation, ...] = ()
    settings: TrainSettings = field(default_factory=TrainSettings)
    data: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"schema_version": SCHEMA_VERSION, **asdict(self)}


def train_classifier(
    model: str | Path,
    train: Sequence[Example],
    validation: Sequence[Example],
    out_dir: str | Path,
    settings: TrainSettings | None = None,
    *,
    label_names: Sequence[str] | None = None,
    data: Mapping[str, Any] | None = None,
) -> TrainResult:
    """Fine-tune `model` (Hub id or folder) on `train`; save the best-on-`validation` checkpoint.

    `label_names` fixes the head's label order for a fresh head (default: sorted dataset labels);
    a head that already names its labels keeps its own order. `data` describes the data for the
    card and record (e.g. `{"train": "org/xfever:en/train", "revision": "...", "licence": ...}`).
    """
    import torch

    settings = settings or TrainSettings()
    out = _check_out_dir(out_dir)
    _check_examples(train, "train")
    _check_examples(validation, "validation")
    names = tuple(label_names) if label_names else tuple(sorted({ex.label for ex in train}))
    started = time.perf_counter()
    torch.manual_seed(settings.seed)
    device = resolve_device(settings.device)
    clf, tokenizer, label2id = load_for_training(model, names)
    clf.to(device)
    for split, rows in (("train", train), ("validation", validation)):
        _check_labels(rows, label2id, split)
    loop = _Loop(clf, tokenizer, label2id, settings, device)
    outcome = loop.run(train, validation)
    clf.load_state_dict(outcome["best_state"])
    id2label = {int(i): name for i, name in clf.config.id2label.items()}
    result = TrainResult(
        out_dir=str(out),
        base_model=str(model),
        label_names=tuple(id2label[i] for i in sorted(id2label)),
        n_train=len(train),
        n_validation=len(validation),
        initial_accuracy=outcome["initial"],
        best_accuracy=outcome["best"].accuracy,
        best_step=outcome["best"].step,
        best_epoch=outcome["best"].epoch,
        steps=outcome["steps"],
        device=str(device),
        seconds=round(time.perf_counter() - started, 3),
        history=tuple(outcome["history"]),
        settings=settings,
        data=dict(data or {}),
        provenance=provenance(model),
    )
    _save(clf, tokenizer, result, out)
    return result


def load_for_training(model: str | Path, label_names: Sequence[str]) -> tuple[Any, Any, dict[str, int]]:
    """Model, tokenizer and dataset-label -> head-index map.

    A head whose labels have names (a fine-tuned checkpoint) is matched by name, case-insensitively;
    an unnamed head (`LABEL_0`, ...) or a bare encoder gets a fresh head named by `label_names`.
    """
    import torch
    from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

    try:
        config = AutoConfig.from_pretrained(model)
        tokenizer = AutoTokenizer.from_pretrained(model)
    except (OSError, ValueError) as err:
        raise UsageError(f"--model {model}: cannot load: {err}") from None
    if has_named_head(config):
        try:
            label2id = match_labels(config, label_names, hint="")  # the one name matcher, as eval's
        except ToolkitError as err:
            raise UsageError(f"--model {model}: {err}") from None
        clf = AutoModelForSequenceClassification.from_pretrained(model, dtype=torch.float32)
    else:
        label2id = {name: i for i, name in enumerate(label_names)}
        clf = AutoModelForSequenceClassification.from_pretrained(
            model,
            num_labels=len(label_names),
            id2label=dict(enumerate(label_names)),
            label2id=dict(label2id),
            ignore_mismatched_sizes=True,
            dtype=torch.float32,  # trained in fp32 whatever the checkpoint was saved in
        )
    return clf, tokenizer, label2id


def encode(tokenizer: Any, texts: Sequence[tuple[str, ...]], max_length: int) -> Any:
    """Tokenize one batch; two-segment texts are encoded as pairs ([SEP] and token types)."""
    first = [t[0] for t in texts]
    second = [t[1] for t in texts] if len(texts[0]) == 2 else None
    return tokenizer(first, second, truncation=True, max_length=max_length, padding=True, return_tensors="pt")


class _Loop:
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
    from harness.editors.tpatcher import edit_loss

    return lambda logits, labels: edit_loss(logits, labels, "ce_entropy", settings.entropy_weight)


def head_dropouts(model: Any) -> list[Any]:
    from harness.model.views import head_dropouts as found

    return found(model)


def _cpu_copy(state: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v.detach().to("cpu", copy=True) for k, v in state.items()}


def _check_out_dir(out_dir: str | Path) -> Path:
    out = Path(out_dir)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(f"--out {out}: exists and is not an empty folder; choose a new one")
    return out


def _check_examples(rows: Sequence[Example], split: str) -> None:
    if not rows:
        raise ToolkitError(f"{split} data: no examples")
    arity = len(rows[0].text)
    for i, row in enumerate(rows):
        if len(row.text) != arity or not 1 <= arity <= 2:
            raise ToolkitError(
                f"{split} data: row {i} (id {row.id}): field 'text' has {len(row.text)} segments, "
                f"expected {arity} like the first row (1, or 2 for pairs)"
            )


def _check_labels(rows: Sequence[Example], label2id: Mapping[str, int], split: str) -> None:
    for i, row in enumerate(rows):
        if row.label not in label2id:
            raise ToolkitError(
                f"{split} data: row {i} (id {row.id}): field 'label' {row.label!r} is not one of "
                f"{sorted(label2id)}"
            )


def _save(clf: Any, tokenizer: Any, result: TrainResult, out: Path) -> None:
    """Model, tokenizer, card and record into a temporary sibling folder, then renamed into place."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        clf.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / "README.md").write_text(render_card(result), encoding="utf-8")
        (tmp / RECORD_FILE).write_text(json.dumps(result.to_dict(), indent=2) + "\n", encoding="utf-8")
        if out.exists():
            out.rmdir()  # checked empty before training
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
