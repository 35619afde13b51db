"""`harness sweep`: a grid of editors x seeds x editor-option values, and a leaderboard per
comparable group. With `--executor ray` every run's folders are submitted at once."""

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
from common.errors import UsageError
from harness.config import EvalConfig

# The grid decides these; the rest of EvalConfig applies to every run.
GRID_DECIDES = ("editor", "seed")


@click.command("sweep")
@click.option(
    "--out", required=True, type=click.Path(file_okay=False), help="Folder for runs/ and leaderboards/."
)
@click.option(
    "--editors", help="Comma-separated editors of the grid (aliases, MODULE:OBJECT, FILE.py:OBJECT)."
)
@click.option("--seeds", help="Comma-separated seeds of the grid [default: 0].")
@click.option(
    "--grid",
    "grid",
    multiple=True,
    metavar="KEY=V1,V2",
    help="Editor option and its values (repeatable): every combination is a run.",
)
@click.option(
    "--sweep",
    "sweep_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="YAML file with editors, seeds and grid (KEY: [values]); flags given add to / replace it.",
)
@click.option("--overwrite", is_flag=True, help="Replace existing run folders.")
@options(EvalConfig, skip=GRID_DECIDES)
@config_option
@quiet_option
def sweep_command(
    out: str,
    editors: str | None,
    seeds: str | None,
    grid: tuple[str, ...],
    sweep_file: Path | None,
    overwrite: bool,
    config_file: Path | None,
    quiet: bool,
    **params: Any,
) -> None:
    """Run every editor x seed x option combination; write a leaderboard per comparable group."""
    from harness.protocol.sweep import SweepSpec, parse_grid, sweep

    apply_quiet(quiet)
    spec_data = dict(read_config_file(sweep_file)) if sweep_file else {}
    if editors:
        spec_data["editors"] = editors
    if seeds:
        spec_data["seeds"] = seeds
    if grid:
        spec_data["grid"] = dict(spec_data.get("grid") or {}) | parse_grid(grid)
    spec = SweepSpec.from_dict(spec_data, where=f"--sweep {sweep_file}" if sweep_file else "sweep")
    file_settings, rest = split_settings(read_config_file(config_file), EvalConfig)
    if rest:
        raise UsageError(f"--config {config_file}: unknown setting(s) {sorted(rest)}")
    settings = resolve(EvalConfig, params, file_settings, file_name=config_file)
    if not settings.get("model"):
        raise UsageError("--model: required (as a flag or in --config)")
    settings = {k: v for k, v in settings.items() if k not in GRID_DECIDES}
    base = EvalConfig(**settings, progress=not quiet)
    made = sweep(spec, base, out, overwrite=overwrite)
    for tag, runs in made["groups"].items():
        click.echo(f"group {tag}: {len(runs)} runs -> {Path(out) / 'leaderboards' / tag / 'leaderboard.md'}")
    click.echo(f"wrote {made['record']}")


COMMANDS = (sweep_command,)
