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
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from common.device import DEVICE_HELP, resolve_device
from common.errors import ToolkitError, UsageError
from common.settings import setting
from harness.data.suite import Example
from harness.model.loading import has_named_head, match_labels
from harness.train.card import provenance, render_card
from harness.train.loop import Evaluation, TrainLoop

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
    loop = TrainLoop(clf, tokenizer, label2id, settings, device)
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
