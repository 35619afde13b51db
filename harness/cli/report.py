"""`harness leaderboard` and `harness compare`: tables and tests over finished run folders."""

from __future__ import annotations

from pathlib import Path

import click

from common.errors import UsageError


@click.command("leaderboard")
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(file_okay=False))
@click.option("--out", required=True, help="Folder for leaderboard.md, leaderboard.csv and the plots.")
@click.option("--compare-paper", is_flag=True, help="Add the paper's rows (marked) next to ours.")
@click.option("--table", type=click.IntRange(1, 3), help="Paper table to compare with [default: by dataset].")
def leaderboard_command(run_dirs: tuple[str, ...], out: str, compare_paper: bool, table: int | None) -> None:
    """Render the paper's Table 1 (XFEVER), 2 (XNLI) or 3 (all-wrong subset) from finished runs."""
    from harness.report.leaderboard import leaderboard

    paths = leaderboard(run_dirs, out, compare_paper=compare_paper, table=table)
    click.echo(Path(paths["md"]).read_text(encoding="utf-8"))
    click.echo("wrote " + ", ".join(str(p) for p in paths.values()))


@click.command("compare")
@click.argument("run_a", type=click.Path(file_okay=False))
@click.argument("run_b", type=click.Path(file_okay=False))
@click.option("--out", default="compare", show_default=True, help="Folder for compare.json and compare.md.")
@click.option("--n-resamples", default=1000, show_default=True, help="Paired bootstrap resamples.")
@click.option("--seed", default=0, show_default=True, help="Seed of the resampling.")
def compare_command(run_a: str, run_b: str, out: str, n_resamples: int, seed: int) -> None:
    """Per-metric B - A deltas of two runs on the same rows, with paired-bootstrap p-values."""
    from harness.report.compare import compare_runs, render_markdown, write_compare

    if n_resamples < 1:
        raise UsageError(f"--n-resamples: must be >= 1, got {n_resamples}")
    report = compare_runs(run_a, run_b, n_resamples=n_resamples, seed=seed)
    paths = write_compare(report, out)
    click.echo(render_markdown(report))
    click.echo("wrote " + ", ".join(str(p) for p in paths.values()))


COMMANDS = (leaderboard_command, compare_command)
