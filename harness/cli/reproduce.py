"""`harness reproduce`: the editor matrix of one of the paper's tables, and its leaderboard."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from common.cli import (
    apply_quiet,
    config_option,
    csv_tuple,
    options,
    quiet_option,
    read_config_file,
    resolve,
    split_settings,
)
from common.errors import UsageError
from harness.config import EvalConfig

# The table decides these; the rest of EvalConfig applies to every run of the matrix.
TABLE_DECIDES = ("editor", "task", "subset")


@click.command("reproduce")
@click.option("--table", type=click.IntRange(1, 3), help="1: XFEVER, 2: XNLI, 3: all-wrong (required).")
@click.option(
    "--out", required=True, type=click.Path(file_okay=False), help="Folder for runs/ and the table."
)
@click.option("--editors", help="Comma-separated editors [default: the paper's rows of the table].")
@click.option("--train-langs", help="MPN trains on these languages only (seen / held-out CLG columns).")
@click.option("--overwrite", is_flag=True, help="Replace existing run folders.")
@click.option(
    "--preset",
    type=click.Choice(["reference", "fast"]),
    default=None,
    help="Editor preset of every run: reference (the public T-Patcher code's behaviour; full path, "
    "slower) or fast (the harness's default) [default: reference].",
)
@options(EvalConfig, skip=TABLE_DECIDES)
@config_option
@quiet_option
def reproduce_command(
    table: int | None,
    out: str,
    editors: str | None,
    train_langs: str | None,
    overwrite: bool,
    preset: str | None,
    config_file: Path | None,
    quiet: bool,
    **params: Any,
) -> None:
    """Run the table's editors (ft, tpatcher, mpn[, mpn-all]) and write it beside the paper's."""
    from harness.protocol.reproduce import reproduce, table_config

    apply_quiet(quiet)
    file_settings, rest = split_settings(read_config_file(config_file), EvalConfig)
    table = table or rest.pop("table", None)
    editors = editors or rest.pop("editors", None)
    train_langs = train_langs or rest.pop("train_langs", None)
    preset = preset or rest.pop("preset", None) or "reference"
    if rest:
        raise UsageError(f"--config {config_file}: unknown setting(s) {sorted(rest)}")
    if table is None:
        raise UsageError("--table: required (1, 2 or 3)")
    settings = resolve(EvalConfig, params, file_settings, file_name=config_file)
    model = settings.pop("model", None)
    if not model:
        raise UsageError("--model: required (as a flag or in --config)")
    settings = {k: v for k, v in settings.items() if k not in TABLE_DECIDES}
    base = table_config(table, model, settings.pop("dataset", None), **settings, progress=not quiet)
    paths = reproduce(
        table,
        base,
        out,
        editors=csv_tuple(editors),
        overwrite=overwrite,
        train_langs=csv_tuple(train_langs),
        preset=preset,
    )
    click.echo(Path(paths["md"]).read_text(encoding="utf-8"))
    click.echo("wrote " + ", ".join(str(p) for p in paths.values()))


COMMANDS = (reproduce_command,)
