"""`harness demo`: the whole pipeline offline in minutes (see `harness.demo`)."""

from __future__ import annotations

import click

from common.device import DEFAULT_THREADS, THREADS_HELP
from harness.demo import DEMO_MAX_EDITS


@click.command("demo")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Empty or new folder.")
@click.option("--seed", default=0, show_default=True, help="Shuffle, model and editing seed.")
@click.option(
    "--max-edits",
    type=click.IntRange(min=1),
    default=DEMO_MAX_EDITS,
    show_default=True,
    help="Edit rows (the first N of the testbed's edit split).",
)
@click.option("--overwrite", is_flag=True, help="Replace a non-empty --out folder.")
@click.option("--quiet", is_flag=True, help="No progress bars or phase lines.")
@click.option(
    "--threads",
    type=click.IntRange(min=0),
    default=DEFAULT_THREADS,
    show_default=True,
    help="CPU threads of torch (0: one per core). " + THREADS_HELP,
)
def demo_command(
    out: str, seed: int, max_edits: int | None, overwrite: bool, quiet: bool, threads: int
) -> None:
    """Offline demo on the testbed (synthetic languages, tiny model): real build + eval of the editors."""
    from common.cli import apply_quiet
    from common.device import torch_threads
    from harness.demo import WARNING, next_steps, run_demo

    apply_quiet(quiet)
    with torch_threads(threads):  # the runs record it (results.json provenance.threads)
        result = run_demo(out, quiet=quiet, seed=seed, max_edits=max_edits, overwrite=overwrite)
    click.echo(result.leaderboard["md"].read_text(encoding="utf-8"))
    click.echo(f"NOTE: {WARNING}")
    click.echo(f"leaderboard: {result.leaderboard['md']} (plot {result.leaderboard['png']})")
    click.echo(next_steps())


COMMANDS = (demo_command,)
