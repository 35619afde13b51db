"""`harness train-base`: fine-tune the original model the editing experiments start from."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from common.cli import (
    apply_quiet,
    config_option,
    options,
    quiet_option,
    read_config_file,
    resolve,
    split_settings,
)
from common.device import DEFAULT_THREADS, THREADS_HELP
from common.errors import UsageError
from harness.train.base import TASK_ALIASES, TASKS, TrainSettings

THREADS_OPT = "CPU threads of torch (0: one per core). " + THREADS_HELP

DATA_KEYS = ("task", "model", "data", "validation_data", "revision", "validation_revision")


@click.command("train-base")
@click.option("--task", type=click.Choice([*TASKS, *TASK_ALIASES]), help="xfever or xnli [default: xfever].")
@click.option("--model", help="Hub id or folder of the pretrained model (required).")
@click.option("--data", help="xfever: XFEVER Hub id or folder; xnli: MultiNLI [default: nyu-mll/multi_nli].")
@click.option("--validation-data", help="xnli: XNLI id or folder [default: facebook/xnli].")
@click.option("--revision", help="Revision of --data.")
@click.option("--validation-revision", help="Revision of --validation-data.")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="New folder for the checkpoint.")
@options(TrainSettings)
@click.option(
    "--threads", type=click.IntRange(min=0), default=DEFAULT_THREADS, show_default=True, help=THREADS_OPT
)
@config_option
@quiet_option
def train_base_command(out: str, config_file: Path | None, quiet: bool, threads: int, **params: Any) -> None:
    """Fine-tune the original model (paper Table 4 settings as defaults); keep the best on validation."""
    from common.device import torch_threads

    with torch_threads(threads):
        _train(out, config_file, quiet, **params)


def _train(out: str, config_file: Path | None, quiet: bool, **params: Any) -> None:
    from harness.train.base import train_classifier
    from harness.train.data import load_task_data

    apply_quiet(quiet)
    file_settings = read_config_file(config_file)
    given, data_file = split_settings(file_settings, TrainSettings)[:2]
    unknown = sorted(set(data_file) - set(DATA_KEYS))
    if unknown:
        raise UsageError(f"--config {config_file}: unknown setting(s) {unknown}")
    data_args = {k: params.pop(k) if params.get(k) is not None else data_file.get(k) for k in DATA_KEYS}
    if not data_args["model"]:
        raise UsageError("--model: required (as a flag or in --config)")
    task = data_args["task"] or "xfever"
    overrides = resolve(TrainSettings, params, given, file_name=config_file)
    settings = TrainSettings.for_task(task, **(overrides | {"progress": not quiet}))
    data = load_task_data(
        TASK_ALIASES.get(task, task),
        data_args["data"],
        revision=data_args["revision"],
        validation_data=data_args["validation_data"],
        validation_revision=data_args["validation_revision"],
    )
    result = train_classifier(
        data_args["model"],
        data.train,
        data.validation,
        out,
        settings,
        label_names=data.label_names,
        data=data.info,
    )
    click.echo(
        f"validation accuracy {result.initial_accuracy:.4f} untrained -> {result.best_accuracy:.4f} "
        f"(step {result.best_step}, epoch {result.best_epoch:g}, {result.device}, {result.seconds:.1f} s)"
    )
    click.echo(f"wrote {result.out_dir}")


COMMANDS = (train_base_command,)
