"""The data `harness train-base` fine-tunes on: XFEVER `en` for FEVER, MultiNLI + XNLI for the XNLI track."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from common.errors import ToolkitError, UsageError
from common.identity import dataset_revision
from harness.data.suite import Example


@dataclass(frozen=True)
class TaskData:
    """Training and selection data for one task, with what the card and record say about it."""

    train: list[Example]
    validation: list[Example]
    label_names: tuple[str, ...]
    info: dict[str, Any]


def load_fever_examples(dataset: str, split: str, *, revision: str | None = None) -> list[Example]:
    """An XFEVER `en` split (Hub id or local folder) as claim examples; columns per xfever.schema."""
    from common.dataset_loading import load_split
    from xfever import schema

    where = f"{dataset} config '{schema.SOURCE_LANG}' split '{split}'"
    try:
        ds = load_split(dataset, schema.SOURCE_LANG, split, revision=revision)
    except Exception as err:  # missing repo, config or split: datasets raises several types
        raise ToolkitError(f"{where}: cannot load: {err}") from None
    missing = [c for c in (schema.ID, schema.LABEL, schema.CLAIM) if c not in ds.column_names]
    if missing:
        raise ToolkitError(f"{where}: missing column(s) {', '.join(missing)}")
    columns = ds.select_columns([schema.ID, schema.CLAIM]).to_dict()
    labels = schema.label_names_of(ds)  # the ClassLabel's names (text labels of older folders as they are)
    rows = zip(columns[schema.ID], labels, columns[schema.CLAIM], strict=True)
    examples = []
    for i, (row_id, label, claim) in enumerate(rows):
        if label not in schema.LABELS:
            raise ToolkitError(
                f"{where}: row {i} (id {row_id}): field 'label' {label!r} not in {schema.LABELS}"
            )
        examples.append(Example(id=str(row_id), text=(claim,), label=label))
    return examples


def load_task_data(
    task: str,
    data: str | None = None,
    *,
    revision: str | None = None,
    validation_data: str | None = None,
    validation_revision: str | None = None,
) -> TaskData:
    """`xfever`: XFEVER `en` train / validation of `data`. `xnli`: MultiNLI train (`data`, default
    nyu-mll/multi_nli) and XNLI validation English (`validation_data`, default facebook/xnli)."""
    from harness.data import xnli
    from xfever import schema

    if task in ("xfever", "fever"):
        if data is None:
            raise UsageError("--data: required for --task xfever (an XFEVER Hub id or folder)")
        info = {"task": task, "dataset": data, "revision": dataset_revision(data, revision)}
        info |= {"train": f"{data}:en/train", "validation": f"{data}:en/validation"}
        info["licence"] = "CC BY-SA 3.0 (FEVER, Wikipedia-derived)"
        train = load_fever_examples(data, "train", revision=revision)
        validation = load_fever_examples(data, "validation", revision=revision)
        return TaskData(train, validation, schema.LABELS, info)
    if task == "xnli":
        data = data or xnli.MULTINLI_ID
        validation_data = validation_data or xnli.XNLI_ID
        info = {"task": task, "dataset": data, "revision": dataset_revision(data, revision)}
        info |= {"train": f"{data}:train", "validation": f"{validation_data}:en/validation"}
        info["validation_revision"] = dataset_revision(validation_data, validation_revision)
        info["licence"] = "MultiNLI: mostly OANC / CC BY-SA 3.0; XNLI: CC BY-NC 4.0"
        train = xnli.load_multinli_examples(data, "train", revision=revision)
        validation = xnli.load_xnli_examples(
            validation_data, "en", "validation", revision=validation_revision
        )
        return TaskData(train, validation, xnli.NLI_LABELS, info)
    raise UsageError(f"--task: unknown task {task!r}; known: fever, xnli")
