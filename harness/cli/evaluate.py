"""`harness eval`: one run of the sequential-edit protocol into one run folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from common.cli import apply_quiet, build, config_option, options, quiet_option, read_config_file, resolve
from harness.config import EvalConfig


@click.command("eval")
@options(EvalConfig)
@click.option(
    "--out", "out", type=click.Path(file_okay=False), help="Run folder [default: runs/EDITOR-fFOLDERS-sSEED]."
)
@click.option("--overwrite", is_flag=True, help="Replace a run folder that holds another run.")
@config_option
@quiet_option
def eval_command(
    out: str | None, overwrite: bool, config_file: Path | None, quiet: bool, **params: Any
) -> None:
    """Run the sequential-edit protocol; write results.json, steps.jsonl, rows.parquet to --out."""
    from harness.protocol.run import evaluate
    from harness.protocol.run_dir import run_dir_for

    apply_quiet(quiet)
    settings = resolve(EvalConfig, params, read_config_file(config_file), file_name=config_file)
    config = build(EvalConfig, settings | {"progress": not quiet})
    run_dir = Path(out) if out else run_dir_for("runs", config)
    result = evaluate(config.replace(out_dir=str(run_dir)), overwrite=overwrite)
    if result.origin == "reused":
        click.echo(f"{run_dir}: already complete with these settings, model, dataset and editor;")
        click.echo("nothing to do (--overwrite reruns it)")
        return
    click.echo(render_summary(result))
    click.echo(edit_summary(result.steps))
    click.echo(f"wrote {run_dir}")


def render_summary(result: Any) -> str:
    """The run's metrics, original vs edited, with the edited model's intervals."""
    from harness.report.metrics import metric_for

    langs = result.dataset.get("langs", [])
    lines = [f"{'metric':<24}{'original':>10}{'edited':>10}{'95 % CI (edited)':>20}{'rows':>8}"]
    for key, entry in result.metrics.items():
        metric = metric_for(key, langs)
        scale = 100 if metric is None or metric.percent else 1
        orig = result.original.get(key, {}).get("value")
        cell = "" if orig is None else f"{orig * scale:.2f}"
        ci = entry.get("ci")
        interval = f"[{ci[0] * scale:.2f}, {ci[1] * scale:.2f}]" if ci else ""
        lines.append(f"{key:<24}{cell:>10}{entry['value'] * scale:>10.2f}{interval:>20}{entry['n']:>8}")
    return "\n".join(lines)


def edit_summary(steps: list[dict[str, Any]]) -> str:
    """One line: how many edits were needed, succeeded and failed, and what blocked the failed ones
    (steps.jsonl `failure.blocking`)."""
    from collections import Counter

    needed = [s for s in steps if s.get("needed")]
    failed = [s for s in needed if not s.get("success")]
    line = f"edits: {len(needed)} attempted, {len(needed) - len(failed)} succeeded, {len(failed)} failed"
    if failed:
        blocking = Counter((s.get("failure") or {}).get("blocking", "unknown") for s in failed)
        reasons = ", ".join(f"{name} {n}" for name, n in blocking.most_common())
        line += f" (largest loss term at the end: {reasons}; see 'failure' in steps.jsonl)"
    return line


COMMANDS = (eval_command,)
