"""The classifier under edit: loading, label matching, provenance."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common.device import resolve_device
from common.errors import ToolkitError, UsageError
from common.identity import describe_model


@dataclass
class LoadedModel:
    """A sequence classifier, its tokenizer and the dataset-label -> head-index mapping."""

    model: Any
    tokenizer: Any
    label_ids: dict[str, int]  # dataset label name -> logit index
    info: dict[str, Any] = field(default_factory=dict)


def parse_label_map(text: str | Mapping[str, int] | None) -> dict[str, int] | None:
    """`"SUPPORTS=1,REFUTES=0"` -> `{"SUPPORTS": 1, "REFUTES": 0}`."""
    if text is None or isinstance(text, Mapping):
        return dict(text) if text is not None else None
    mapping: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, index = part.partition("=")
        if not sep or not name.strip() or not index.strip().lstrip("-").isdigit():
            raise UsageError(f"--label-map: {part!r} is not NAME=INDEX (e.g. SUPPORTS=1,REFUTES=0)")
        mapping[name.strip()] = int(index)
    if not mapping:
        raise UsageError("--label-map: empty; expected e.g. SUPPORTS=1,REFUTES=0")
    return mapping


UNNAMED_HEAD = "label_"  # transformers' names for a head nobody named: LABEL_0, LABEL_1, ...


def has_named_head(config: Any) -> bool:
    """True when the head's labels carry names (a fine-tuned checkpoint), not transformers' LABEL_k."""
    names = [str(name).casefold() for name in (config.label2id or {})]
    return bool(names) and not all(name.startswith(UNNAMED_HEAD) for name in names)


def match_labels(
    config: Any,
    dataset_labels: Sequence[str],
    label_map: Mapping[str, int] | None = None,
    *,
    force: bool = False,
    hint: str = " (name the head with --label-map SUPPORTS=1,REFUTES=0)",
) -> dict[str, int]:
    """Map every dataset label to a logit index, by name (case-insensitive) or through `label_map`.

    A `label_map` that contradicts the head's own names (a model whose label2id says SUPPORTS=0
    given SUPPORTS=1) is refused unless `force`: it would silently score every row against the
    wrong logit (Locality 100 % becomes 0 %). Heads named LABEL_0... have no names to contradict."""
    num_labels = int(config.num_labels)
    heads = {str(name).casefold(): int(i) for name, i in (config.label2id or {}).items()}
    if label_map:
        wanted = {name.casefold(): i for name, i in label_map.items()}
        where = "--label-map"
    else:
        wanted = {
            name.casefold(): heads[name.casefold()] for name in dataset_labels if name.casefold() in heads
        }
        where = f"the model's label2id {dict(config.label2id or {})}"
    error = UsageError if label_map else ToolkitError  # a flag the user gave, or the model's own names
    ids: dict[str, int] = {}
    for name in dataset_labels:
        index = wanted.get(name.casefold())
        if index is None:
            raise error(f"label {name!r} of the dataset is not in {where}{'' if label_map else hint}")
        if not 0 <= index < num_labels:
            raise error(f"{where}: label {name!r} -> {index}, but the head has {num_labels} logits")
        ids[name] = index
    if len(set(ids.values())) != len(ids):
        raise error(f"{where}: two dataset labels share one logit: {ids}")
    if label_map and not force:
        named = {name: heads[name.casefold()] for name in ids if name.casefold() in heads}
        contradicted = {name: (ids[name], index) for name, index in named.items() if ids[name] != index}
        if contradicted:
            shown = ", ".join(
                f"{n}={a} but the model's label2id says {n}={b}" for n, (a, b) in contradicted.items()
            )
            raise UsageError(
                f"--label-map: {shown}; drop --label-map to match the head by its names, or pass "
                "--force-label-map if the model's names are wrong"
            )
    return ids


def load_classifier(
    model_id: str | Path,
    dataset_labels: Sequence[str],
    *,
    revision: str | None = None,
    label_map: Mapping[str, int] | None = None,
    force_label_map: bool = False,
    trust_remote_code: bool = False,
    device: str = "cpu",
) -> LoadedModel:
    """Load a sequence classifier + tokenizer from a Hub id or folder; match labels before any edit."""
    import torch
    from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

    kwargs: dict[str, Any] = {"revision": revision, "trust_remote_code": trust_remote_code}
    try:
        config = AutoConfig.from_pretrained(str(model_id), **kwargs)
    except OSError as exc:
        raise UsageError(f"--model {model_id}: cannot load a model config ({exc})") from exc
    label_ids = match_labels(config, dataset_labels, label_map, force=force_label_map)
    # fp32 whatever the checkpoint was saved in: transformers 5 loads a bf16/fp16 checkpoint in its
    # own dtype, and the protocol's patches, memory and cached vectors are fp32
    model = AutoModelForSequenceClassification.from_pretrained(str(model_id), dtype=torch.float32, **kwargs)
    tokenizer = AutoTokenizer.from_pretrained(str(model_id), **kwargs)
    model.to(resolve_device(device)).eval()
    for param in model.parameters():
        param.requires_grad_(False)
    info = {
        "id": str(model_id),
        "revision": model_identity(model_id, config, revision),
        "architecture": type(model).__name__,
        "num_labels": int(config.num_labels),
        "label_ids": label_ids,
        "label_map_given": dict(label_map) if label_map else None,
    }
    return LoadedModel(model=model, tokenizer=tokenizer, label_ids=label_ids, info=info)


def model_identity(model_id: str | Path, config: Any = None, requested: str | None = None) -> str | None:
    """The Hub commit of a model id, or the content hash of a local folder (`common.identity`)."""
    if Path(str(model_id)).is_dir():
        return describe_model(model_id).identity
    return getattr(config, "_commit_hash", None) or describe_model(model_id).identity or requested
