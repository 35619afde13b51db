"""`harness eval`, `leaderboard`, `train-base`, `compare`, `reproduce`: parse flags, build one config,
call the library, render."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from common.errors import ToolkitError

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
    "subset": "subset",
    "memory_data": "memory_data",
    "bootstrap_resamples": "bootstrap_resamples",
    "bootstrap_seed": "bootstrap_seed",
    "checkpoint_every": "checkpoint_every",
}


XNLI_ALIAS = "xnli"  # --dataset xnli: facebook/xnli with --task xnli


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
        raise ToolkitError(f"{path}{line}: not valid YAML ({exc})") from exc
    if not isinstance(data, dict):
        raise ToolkitError(f"{path}: expected a mapping of settings")
    data = {k.replace("-", "_"): v for k, v in data.items()}
    if "editor_opts" in data:
        data["editor_options"] = data.pop("editor_opts")
    return data


def build_config(ctx: click.Context, params: dict[str, Any]) -> Any:
    """File settings first, then every flag given on the command line (flags win)."""
    from harness.config import EvalConfig
    from harness.editors.options import parse_options
    from harness.model.loading import parse_label_map

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
    _xnli_defaults(ctx, settings)
    for required in ("model", "dataset"):
        if not settings.get(required):
            raise ToolkitError(f"--{required}: required (flag or config file)")
    try:
        return EvalConfig.from_dict(settings)
    except TypeError as exc:
        raise ToolkitError(f"config: {exc}") from exc


def _xnli_defaults(ctx: click.Context, settings: dict[str, Any]) -> None:
    """`--dataset xnli` (not a folder) is facebook/xnli with --task xnli; --task xnli alone loads
    facebook/xnli; XNLI encodes pairs at Table 4's max_length 128 unless --max-length is given."""
    from harness.data.xnli import XNLI_ID

    dataset = settings.get("dataset")
    if dataset in (XNLI_ALIAS, XNLI_ID) and not Path(dataset).is_dir():
        settings["dataset"], settings["task"] = XNLI_ID, "xnli"
    if settings.get("task") == "xnli":
        settings["dataset"] = settings.get("dataset") or XNLI_ID
        if ctx.get_parameter_source("max_length") == click.core.ParameterSource.DEFAULT:
            settings["max_length"] = 128


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
@click.option("--subset", type=click.Choice(["all-wrong"]), help="Table 3: rows the original gets wrong.")
@click.option(
    "--memory-data",
    help="XNLI: T-Patcher memory rows (default nyu-mll/multi_nli train; 'locality': the locality set).",
)
@click.option("--bootstrap-resamples", default=1000, show_default=True, help="Resamples of 95 % intervals.")
@click.option("--bootstrap-seed", default=0, show_default=True)
@click.option(
    "--checkpoint-every",
    default=50,
    show_default=True,
    help="Checkpoint every K edit rows (and after each folder); 0: after folders only.",
)
@click.option("--quiet", is_flag=True, help="No progress bars.")
@click.pass_context
def eval_command(ctx: click.Context, **params: Any) -> None:
    """Run the sequential-edit protocol and write results.json, steps.jsonl, rows.parquet."""
    from dataclasses import replace

    from harness.protocol.run import evaluate, run_dir_for

    config = build_config(ctx, params)
    if params["quiet"]:  # also the bars and info logs of datasets / transformers
        from common.progress import quiet_libraries

        quiet_libraries()
    run_dir = Path(params["out"]) / params["name"] if params["name"] else run_dir_for(params["out"], config)
    from harness.protocol.checkpoint import prepare_run_dir

    state = prepare_run_dir(run_dir, replace(config, out_dir=str(run_dir)), params["overwrite"])
    if state == "complete":
        click.echo(f"{run_dir}: already complete with these settings; nothing to do (--overwrite reruns it)")
        return
    if state == "resume":
        click.echo(f"resuming {run_dir} from its checkpoint", err=True)
    result = evaluate(replace(config, out_dir=str(run_dir)))
    click.echo(render_summary(result))
    click.echo(f"wrote {run_dir}")


def render_summary(result: Any) -> str:
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


@cli.command("leaderboard")
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(file_okay=False))
@click.option("--out", required=True, help="Folder for leaderboard.md, leaderboard.csv, clg_by_language.png.")
@click.option("--compare-paper", is_flag=True, help="Add the paper's rows (marked) next to ours.")
@click.option("--table", type=click.IntRange(1, 3), help="Paper table to compare with (default: by dataset).")
@click.option(
    "--allow-mixed",
    is_flag=True,
    help="Render runs that scored different things (rows, languages, model...) in one table marked as mixed.",
)
def leaderboard_command(
    run_dirs: tuple[str, ...], out: str, compare_paper: bool, table: int | None, allow_mixed: bool
) -> None:
    """Render the paper's Table 1 (XFEVER), 2 (XNLI) or 3 (all-wrong subset) from finished runs."""
    from harness.report.leaderboard import leaderboard

    paths = leaderboard(run_dirs, out, compare_paper=compare_paper, table=table, allow_mixed=allow_mixed)
    click.echo(Path(paths["md"]).read_text(encoding="utf-8"))
    click.echo("wrote " + ", ".join(str(p) for p in paths.values()))


@cli.command("publish-results")
@click.argument("paths", nargs=-1, required=True, type=click.Path(file_okay=False))
@click.option("--repo-id", required=True, help="Hub dataset repo ORG/NAME (created if missing).")
@click.option("--private", is_flag=True, help="Create the repo private.")
@click.option("--path-in-repo", help="Folder in the repo to upload under (default: its root).")
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


@cli.command("demo")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Empty or new folder.")
@click.option("--seed", default=0, show_default=True, help="Shuffle, model and editing seed.")
@click.option("--max-edits", type=click.IntRange(min=1), default=20, show_default=True, help="Edit rows.")
@click.option("--overwrite", is_flag=True, help="Replace a non-empty --out folder.")
@click.option("--quiet", is_flag=True, help="No progress bars or phase lines.")
def demo_command(out: str, seed: int, max_edits: int | None, overwrite: bool, quiet: bool) -> None:
    """Offline demo: stand-in models, real build + eval of 5 editors on the bundled FEVER sample."""
    import logging

    from harness.demo import STAND_IN_WARNING, next_steps, run_demo
    from common.progress import quiet_libraries

    if quiet:
        quiet_libraries()
    else:
        logging.basicConfig(format="%(message)s")
        logging.getLogger("harness.demo").setLevel(logging.INFO)
    result = run_demo(out, quiet=quiet, seed=seed, max_edits=max_edits, overwrite=overwrite)
    click.echo(result.leaderboard["md"].read_text(encoding="utf-8"))
    click.echo(f"NOTE: {STAND_IN_WARNING}")
    click.echo(f"leaderboard: {result.leaderboard['md']} (plot {result.leaderboard['png']})")
    click.echo(next_steps())


TRAIN_FLAGS = (
    "epochs", "batch_size", "lr", "max_length", "weight_decay", "warmup_steps", "label_smoothing",
    "seed", "device", "eval_every", "max_steps",
)  # fmt: skip


@cli.command("train-base")
@click.option("--task", default="fever", type=click.Choice(["fever", "xnli"]), show_default=True)
@click.option("--model", required=True, help="Hub id or folder of the pretrained model.")
@click.option("--data", help="fever: XFEVER Hub id or folder; xnli: MultiNLI (default nyu-mll/multi_nli).")
@click.option("--validation-data", help="xnli: XNLI id or folder (default facebook/xnli).")
@click.option("--revision", help="Revision of --data.")
@click.option("--validation-revision", help="Revision of --validation-data.")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="New folder for the checkpoint.")
@click.option("--epochs", type=int, help="Table 4: 20 (fever), 3 (xnli).")
@click.option("--batch-size", type=int, help="Table 4: 128 (fever), 64 (xnli).")
@click.option("--lr", type=float, help="Table 4: 3e-5.")
@click.option("--max-length", type=int, help="Table 4: 32 (fever), 128 (xnli).")
@click.option("--weight-decay", type=float, help="Table 4: 0.01.")
@click.option("--warmup-steps", type=int, help="Table 4: 500.")
@click.option("--label-smoothing", type=float, help="Table 4: 0.1.")
@click.option("--seed", type=int, help="Default 0.")
@click.option("--device", help="auto (default: cuda when available), cpu, cuda, cuda:1 ...")
@click.option("--eval-every", type=int, help="Optimizer steps between validations (default: each epoch).")
@click.option("--max-steps", type=int, help="Stop after N optimizer steps (smoke runs).")
@click.option("--quiet", is_flag=True, help="No progress bars.")
def train_base_command(**params: Any) -> None:
    """Fine-tune the original model (paper Table 4 settings as defaults); keep the best on validation."""
    from harness.train.data import load_task_data
    from harness.train.base import TrainSettings, train_classifier

    given = {k: params[k] for k in TRAIN_FLAGS if params[k] is not None}
    settings = TrainSettings.for_task(params["task"], progress=not params["quiet"], **given)
    data = load_task_data(
        params["task"],
        params["data"],
        revision=params["revision"],
        validation_data=params["validation_data"],
        validation_revision=params["validation_revision"],
    )
    result = train_classifier(
        params["model"],
        data.train,
        data.validation,
        params["out"],
        settings,
        label_names=data.label_names,
        data=data.info,
    )
    click.echo(
        f"validation accuracy {result.initial_accuracy:.4f} untrained -> {result.best_accuracy:.4f} "
        f"(step {result.best_step}, epoch {result.best_epoch:g}, {result.device}, {result.seconds:.1f} s)"
    )
    click.echo(f"wrote {result.out_dir}")


@cli.command("compare")
@click.argument("run_a", type=click.Path(file_okay=False))
@click.argument("run_b", type=click.Path(file_okay=False))
@click.option("--out", default="compare", show_default=True, help="Folder for compare.json and compare.md.")
@click.option("--n-resamples", default=1000, show_default=True)
@click.option("--seed", default=0, show_default=True)
def compare_command(run_a: str, run_b: str, out: str, n_resamples: int, seed: int) -> None:
    """Per-metric B - A deltas of two runs on the same rows, with paired-bootstrap p-values."""
    from harness.report.compare import compare_runs, render_markdown, write_compare

    if n_resamples < 1:
        raise ToolkitError(f"--n-resamples: must be >= 1, got {n_resamples}")
    report = compare_runs(run_a, run_b, n_resamples=n_resamples, seed=seed)
    paths = write_compare(report, out)
    click.echo(render_markdown(report))
    click.echo("wrote " + ", ".join(str(p) for p in paths.values()))


@cli.command("reproduce")
@click.option("--table", required=True, type=click.IntRange(1, 3), help="1: XFEVER, 2: XNLI, 3: all-wrong.")
@click.option("--model", required=True, help="Hub id or folder of the original model (`harness train-base`).")
@click.option("--dataset", help="XFEVER id or folder (Tables 1, 3); XNLI (Table 2, default facebook/xnli).")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Folder for runs/, the table.")
@click.option("--editors", help="Comma-separated editors (default: the paper's rows of the table).")
@click.option("--editor-opt", multiple=True, metavar="KEY=VALUE", help="Option of every editor (repeatable).")
@click.option("--folders", default=20, show_default=True)
@click.option("--max-edits", type=int, help="Only the first N edit rows (quick runs).")
@click.option("--seed", default=0, show_default=True)
@click.option("--langs", help="CLG languages, comma-separated (default: all in the dataset).")
@click.option("--train-langs", help="MPN trains on these languages only (seen / held-out CLG columns).")
@click.option("--label-map", help="Dataset labels to logit indices, e.g. SUPPORTS=1,REFUTES=0.")
@click.option("--max-length", type=int, help="Default 32 (XFEVER), 128 (XNLI).")
@click.option("--memory-data", help="Table 2: T-Patcher memory rows (default nyu-mll/multi_nli train).")
@click.option("--batch-size", default=64, show_default=True)
@click.option("--device", default="cpu", show_default=True)
@click.option("--cache-dir", help="On-disk cache of [CLS] vectors, shared by the runs.")
@click.option("--bootstrap-resamples", default=1000, show_default=True)
@click.option("--overwrite", is_flag=True, help="Replace existing run folders.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
def reproduce_command(**params: Any) -> None:
    """Run the table's editors (ft, tpatcher, mpn[, mpn-all]) and write it beside the paper's."""
    from harness.editors.options import parse_options
    from harness.model.loading import parse_label_map
    from harness.protocol.reproduce import reproduce, table_config

    settings: dict[str, Any] = {
        "editor_options": parse_options(params["editor_opt"]),
        "progress": not params["quiet"],
    }
    for key in ("folders", "max_edits", "seed", "max_length", "memory_data", "batch_size", "device"):
        if params[key] is not None:
            settings[key] = params[key]
    settings |= {"cache_dir": params["cache_dir"], "bootstrap_resamples": params["bootstrap_resamples"]}
    if params["langs"]:
        settings["langs"] = tuple(x.strip() for x in params["langs"].split(",") if x.strip())
    if params["label_map"]:
        settings["label_map"] = parse_label_map(params["label_map"])
    base = table_config(params["table"], params["model"], _dataset_arg(params["dataset"]), **settings)
    editors = [x.strip() for x in params["editors"].split(",") if x.strip()] if params["editors"] else None
    train_langs = [x.strip() for x in (params["train_langs"] or "").split(",") if x.strip()] or None
    paths = reproduce(
        params["table"],
        base,
        params["out"],
        editors=editors,
        overwrite=params["overwrite"],
        train_langs=train_langs,
    )
    click.echo(Path(paths["md"]).read_text(encoding="utf-8"))
    click.echo("wrote " + ", ".join(str(p) for p in paths.values()))


def _dataset_arg(dataset: str | None) -> str | None:
    from harness.data.xnli import XNLI_ID

    return XNLI_ID if dataset == XNLI_ALIAS and not Path(dataset).is_dir() else dataset


def main(argv: list[str] | None = None) -> None:
    """Entry point: user errors become one line on stderr and exit status 2, no traceback."""
    try:
        code = cli.main(args=argv, prog_name="harness", standalone_mode=False)
    except click.exceptions.Abort as exc:
        if exc.__cause__ is not None and str(exc.__cause__):  # harness.protocol.checkpoint.RunInterrupted
            click.echo(f"{exc.__cause__}", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except ToolkitError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    sys.exit(code if isinstance(code, int) else 0)
