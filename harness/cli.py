"""`harness eval` and `harness leaderboard`: parse, build one config, call the library, render."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import click

from xfever.errors import XfeverError

CONFIG_KEYS_FROM_FLAGS = {
    "model": "model",
    "dataset": "dataset",
    "editor": "editor",
    "task": "task",
    "folders": "folders",
    "max_edits": "max_edits",
    "seed": "seed",
    "max_length": "max_length",
    "locality_train_size": "locality_train_size",
    "memory_size": "memory_size",
    "data_seed": "data_seed",
    "dropout": "dropout",
    "model_revision": "model_revision",
    "dataset_revision": "dataset_revision",
    "trust_remote_code": "trust_remote_code",
    "batch_size": "batch_size",
    "device": "device",
    "cache_dir": "cache_dir",
}


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="xfever")
def cli() -> None:
    """Evaluate model editors (FT, T-Patcher, MPN) on XFEVER / XNLI with the paper's protocol."""


def _read_config_file(path: str | None) -> dict[str, Any]:
    if path is None:
        return {}
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise XfeverError(f"{path}{line}: not valid YAML ({exc})") from exc
    if not isinstance(data, dict):
        raise XfeverError(f"{path}: expected a mapping of settings")
    data = {k.replace("-", "_"): v for k, v in data.items()}
    if "editor_opts" in data:
        data["editor_options"] = data.pop("editor_opts")
    return data


def build_config(ctx: click.Context, params: dict[str, Any]) -> Any:
    """File settings first, then every flag given on the command line (flags win)."""
    from harness.config import EvalConfig
    from harness.editors.options import parse_options
    from harness.model import parse_label_map

    settings = _read_config_file(params["config"])
    for flag, key in CONFIG_KEYS_FROM_FLAGS.items():
        given = ctx.get_parameter_source(flag) not in (None, click.core.ParameterSource.DEFAULT)
        if given or key not in settings:
            settings[key] = params[flag]
    if params["langs"]:
        settings["langs"] = tuple(x.strip() for x in params["langs"].split(",") if x.strip())
    if params["label_map"]:
        settings["label_map"] = parse_label_map(params["label_map"])
    elif isinstance(settings.get("label_map"), str):
        settings["label_map"] = parse_label_map(settings["label_map"])
    if params["no_cache"]:
        settings["cache"] = False
    options = dict(settings.get("editor_options") or {})
    options.update(parse_options(params["editor_opt"]))
    settings["editor_options"] = options
    settings["progress"] = not params["quiet"]
    for required in ("model", "dataset"):
        if not settings.get(required):
            raise XfeverError(f"--{required}: required (flag or config file)")
    try:
        return EvalConfig.from_dict(settings)
    except TypeError as exc:
        raise XfeverError(f"config: {exc}") from exc


def _prepare_run_dir(run_dir: Path, overwrite: bool) -> None:
    if run_dir.exists() and any(run_dir.iterdir()):
        if not overwrite:
            raise XfeverError(
                f"--out: run folder {run_dir} exists and is not empty (use --overwrite or --name)"
            )
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)


@cli.command("eval")
@click.option("--model", help="Hub id or folder of a sequence classifier.")
@click.option(
    "--dataset", help="XFEVER Hub id or folder written by `xfever build` (XNLI id with --task xnli)."
)
@click.option(
    "--editor", default="tpatcher", show_default=True, help="Alias, MODULE:OBJECT or FILE.py:OBJECT."
)
@click.option("--editor-opt", multiple=True, metavar="KEY=VALUE", help="Editor option (repeatable).")
@click.option("--config", type=click.Path(dir_okay=False), help="YAML file of settings and editor_options.")
@click.option("--out", default="runs", show_default=True, help="Parent folder of run folders.")
@click.option("--name", help="Run folder name (default: EDITOR-fFOLDERS-sSEED).")
@click.option("--overwrite", is_flag=True, help="Replace an existing run folder.")
@click.option("--task", default="xfever", type=click.Choice(["xfever", "xnli"]), show_default=True)
@click.option("--folders", default=20, show_default=True, help="Folders edited independently; 1 = lifelong.")
@click.option("--max-edits", type=int, help="Only the first N edit rows.")
@click.option("--seed", default=0, show_default=True)
@click.option("--langs", help="CLG languages, comma-separated (default: all in the dataset).")
@click.option("--label-map", help="Dataset labels to logit indices, e.g. SUPPORTS=1,REFUTES=0.")
@click.option("--max-length", default=32, show_default=True)
@click.option("--locality-train-size", default=10_000, show_default=True)
@click.option("--memory-size", default=40_000, show_default=True, help="Training rows in T-Patcher's memory.")
@click.option("--data-seed", default=0, show_default=True, help="Seed of the locality/memory samples.")
@click.option("--no-cache", is_flag=True, help="Full path even for last-FFN editors.")
@click.option("--dropout", default="patch", type=click.Choice(["none", "patch", "model"]), show_default=True)
@click.option("--model-revision")
@click.option("--dataset-revision")
@click.option("--trust-remote-code", is_flag=True)
@click.option("--batch-size", default=64, show_default=True)
@click.option("--device", default="cpu", show_default=True)
@click.option("--cache-dir", help="On-disk cache of [CLS] vectors (keyed by revisions, split, max_length).")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@click.pass_context
def eval_command(ctx: click.Context, **params: Any) -> None:
    """Run the sequential-edit protocol and write results.json, steps.jsonl, rows.parquet."""
    from dataclasses import replace

    from harness.run import evaluate, run_dir_for

    config = build_config(ctx, params)
    run_dir = Path(params["out"]) / params["name"] if params["name"] else run_dir_for(params["out"], config)
    _prepare_run_dir(run_dir, params["overwrite"])
    result = evaluate(replace(config, out_dir=str(run_dir)))
    click.echo(render_summary(result))
    click.echo(f"wrote {run_dir}")


def render_summary(result: Any) -> str:
    from harness.metrics import metric_for

    langs = result.dataset.get("langs", [])
    lines = [f"{'metric':<24}{'original':>10}{'edited':>10}{'rows':>8}"]
    for key, entry in result.metrics.items():
        metric = metric_for(key, langs)
        scale = 100 if metric is None or metric.percent else 1
        orig = result.original.get(key, {}).get("value")
        cell = "" if orig is None else f"{orig * scale:.2f}"
        lines.append(f"{key:<24}{cell:>10}{entry['value'] * scale:>10.2f}{entry['n']:>8}")
    return "\n".join(lines)


@cli.command("leaderboard")
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(file_okay=False))
@click.option("--out", required=True, help="Folder for leaderboard.md, leaderboard.csv, clg_by_language.png.")
def leaderboard_command(run_dirs: tuple[str, ...], out: str) -> None:
    """Render the paper's Table 1 from finished run folders."""
    from harness.leaderboard import leaderboard

    paths = leaderboard(run_dirs, out)
    click.echo(Path(paths["md"]).read_text(encoding="utf-8"))
    click.echo("wrote " + ", ".join(str(p) for p in paths.values()))


def main(argv: list[str] | None = None) -> None:
    """Entry point: user errors become one line on stderr and exit status 2, no traceback."""
    try:
        code = cli.main(args=argv, prog_name="harness", standalone_mode=False)
    except click.exceptions.Abort:
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except XfeverError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    sys.exit(code if isinstance(code, int) else 0)
