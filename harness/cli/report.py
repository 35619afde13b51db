"""`harness leaderboard` and `harness compare`: tables and tests over finished run folders."""

from __future__ import annotations

from pathlib import Path

import click

from common.errors import UsageError


@click.command("leaderboard")
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(file_okay=False))
@click.option("--out", required=True, help="Folder for the leaderboard files and charts.")
@click.option("--compare-paper", is_flag=True, help="Add the paper's rows (marked) next to ours.")
@click.option("--table", type=click.IntRange(1, 3), help="Paper table to compare with [default: by dataset].")
@click.option(
    "--allow-mixed",
    is_flag=True,
    help="Render runs that scored different things (rows, languages, model...) in one table marked as mixed.",
)
def leaderboard_command(
    run_dirs: tuple[str, ...], out: str, compare_paper: bool, table: int | None, allow_mixed: bool
) -> None:
    """Render the paper's Table 1 (XFEVER), 2 (XNLI) or 3 (all-wrong subset) from finished runs:
    leaderboard.md/.csv/.json, the CLG and gain charts (PNG, PDF), only of comparable runs."""
    from harness.report.leaderboard import leaderboard

    paths = leaderboard(run_dirs, out, compare_paper=compare_paper, table=table, allow_mixed=allow_mixed)
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


@click.command("publish-results")
@click.argument("paths", nargs=-1, required=True, type=click.Path(file_okay=False))
@click.option("--repo-id", required=True, help="Hub dataset repo ORG/NAME (created if missing).")
@click.option("--private", is_flag=True, help="Create the repo private.")
@click.option("--path-in-repo", help="Folder in the repo to upload under [default: its root].")
@click.option("--allow-stand-in", is_flag=True, help="Also publish runs made with stand-in models.")
def publish_results_command(
    paths: tuple[str, ...], repo_id: str, private: bool, path_in_repo: str | None, allow_stand_in: bool
) -> None:
    """Upload run folders and leaderboards to a Hub dataset repo in one commit (token: HF_TOKEN or
    `hf auth login`; never printed)."""
    from harness.report.publish import publish_results

    result = publish_results(
        paths, repo_id, private=private, path_in_repo=path_in_repo, allow_stand_in=allow_stand_in
    )
    click.echo(
        f"published {len(result.runs)} run(s) and {len(result.leaderboards)} leaderboard(s), "
        f"{result.files} files, to {result.repo_url} (commit {result.commit})"
    )


COMMANDS = (leaderboard_command, compare_command, publish_results_command)
