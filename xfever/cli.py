"""`xfever build | validate | publish`: a thin click layer over xfever.build / validate / publish.

Heavy libraries load inside the commands, so `xfever --help` answers at once. Every ToolkitError is
shown as `Error: <message>` with exit code 1 (usage errors: 2), without a traceback.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from common.errors import ToolkitError


def _user_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ToolkitError as err:
            raise click.ClickException(str(err)) from None

    return wrapper


def _pairs(option: str, values: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    pairs = {}
    for value in values:
        lang, sep, target = value.partition("=")
        if not sep or not lang.strip():
            raise click.BadParameter(f"expected LANG=VALUE, got {value!r}", param_hint=option)
        pairs[lang.strip()] = target.strip()
    return tuple(sorted(pairs.items()))


def _langs(value: str) -> tuple[str, ...]:
    return tuple(lang.strip() for lang in value.split(",") if lang.strip())


def _logging(quiet: bool) -> None:
    logging.basicConfig(
        level=logging.WARNING if quiet else logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="xfever")
def main() -> None:
    """Build, validate and publish the XFEVER cross-lingual model-editing dataset."""


@main.command()
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Output folder (Hub layout).")
@click.option(
    "--langs", default="de,fr,es,zh,ar", show_default=True, help="Comma-separated target languages."
)
@click.option(
    "--train", help="Split mode: KILT FEVER train (.jsonl path or Hub id, e.g. facebook/kilt_tasks)."
)
@click.option("--dev", help="Split mode: KILT FEVER dev (.jsonl path or Hub id); becomes the test split.")
@click.option("--split-seed", type=int, default=None, help="Shuffle seed of the split mode (default 42).")
@click.option("--edit-file", help="Ready-made mode: the edit split (.jsonl).")
@click.option("--train-file", help="Ready-made mode: the train split (.jsonl).")
@click.option("--validation-file", help="Ready-made mode: the validation split (.jsonl).")
@click.option("--test-file", help="Ready-made mode: the test split (.jsonl).")
@click.option("--model", "models", multiple=True, metavar="LANG=ID_OR_PATH", help="MT model of a language.")
@click.option(
    "--target-token",
    "target_tokens",
    multiple=True,
    metavar="LANG=TOKEN",
    help="Target token of a multi-target model (e.g. zh='>>cmn_Hans<<'); LANG= for none.",
)
@click.option(
    "--engine", type=click.Choice(["transformers", "ct2"]), default="transformers", show_default=True
)
@click.option("--batch-size", type=click.IntRange(min=1), default=64, show_default=True)
@click.option(
    "--num-beams", type=click.IntRange(min=1), default=None, help="Default: the model's own config."
)
@click.option(
    "--max-len-ratio",
    type=click.FloatRange(min=0, min_open=True),
    default=3.0,
    show_default=True,
    help="Cap on new tokens per batch: ratio x longest source (tokens) + --max-len-extra.",
)
@click.option("--max-len-extra", type=click.IntRange(min=0), default=10, show_default=True)
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True)
@click.option(
    "--precision",
    type=click.Choice(["auto", "fp32", "fp16", "bf16", "int8", "int8_float16"]),
    default="auto",
    show_default=True,
)
@click.option("--translate-rephrases", is_flag=True, help="Also translate the edit rows' English rephrases.")
@click.option(
    "--shard-size", type=click.IntRange(min=1), default=512, show_default=True, help="Rows per resume shard."
)
@click.option("--overwrite", is_flag=True, help="Replace an output folder holding another build.")
@click.option("--cache-dir", help="Cache of Hub datasets and converted models.")
@click.option("--quiet", is_flag=True, help="No progress bars or info logs.")
@_user_errors
def build(**opts: Any) -> None:
    """Build the XFEVER dataset folder."""
    from xfever.build import build as run_build

    _logging(opts["quiet"])
    if opts["quiet"]:  # the libraries' own bars and info logs ("Loading weights", "Generating ...")
        from common.progress import quiet_libraries

        quiet_libraries()
    result = run_build(_build_config(opts))
    if result.up_to_date:
        click.echo(f"{result.out} already holds this build (fingerprint {result.fingerprint[:12]})")
        return
    for config, splits in result.counts.items():
        listed = ", ".join(f"{split} {rows}" for split, rows in splits.items())
        flagged = sum(q["flagged"] for q in result.qa.get(config, {}).values())
        click.echo(f"{config}: {listed}" + (f" (QA flagged {flagged})" if config in result.qa else ""))
    click.echo(
        f"wrote {result.out} in {result.timings.get('total', 0):.1f}s"
        + (" (resumed)" if result.resumed else "")
    )


def _build_config(opts: dict[str, Any]) -> Any:
    from xfever.config import DEFAULT_SPLIT_SEED, BuildConfig
    from xfever.translate.base import DecodeSettings

    decode = DecodeSettings(
        batch_size=opts["batch_size"],
        max_len_ratio=opts["max_len_ratio"],
        max_len_extra=opts["max_len_extra"],
        num_beams=opts["num_beams"],
        device=opts["device"],
        precision=opts["precision"],
    )
    langs = _langs(opts["langs"])
    # An override for a language not in --langs is refused by BuildConfig.check (not dropped here).
    models = _pairs("--model", opts["models"])
    tokens = _pairs("--target-token", opts["target_tokens"])
    return BuildConfig(
        out=opts["out"],
        langs=langs,
        train=opts["train"],
        dev=opts["dev"],
        edit_file=opts["edit_file"],
        train_file=opts["train_file"],
        validation_file=opts["validation_file"],
        test_file=opts["test_file"],
        split_seed=DEFAULT_SPLIT_SEED if opts["split_seed"] is None else opts["split_seed"],
        models=models,
        target_tokens=tokens,
        engine=opts["engine"],
        decode=decode,
        translate_rephrases=opts["translate_rephrases"],
        shard_size=opts["shard_size"],
        overwrite=opts["overwrite"],
        quiet=opts["quiet"],
        cache_dir=opts["cache_dir"],
    )


@main.command()
@click.argument("folder", type=click.Path(path_type=Path))
@_user_errors
def validate(folder: Path) -> None:
    """Check a build folder: card, configs, files, and load_dataset row counts."""
    from xfever.validate import validate as run_validate

    report = run_validate(folder)
    for config, splits in report.rows.items():
        click.echo(f"{config}: " + ", ".join(f"{split} {rows}" for split, rows in splits.items()))
    click.echo(f"{folder}: valid")


@main.command()
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--repo-id", required=True, help="ORG/NAME of the Hub dataset repo.")
@click.option("--private", is_flag=True, help="Create the repo private.")
@click.option("--tag", help="Tag the upload commit (e.g. v1.0).")
@click.option("--allow-stand-in", is_flag=True, help="Publish a build made with untrained stand-in models.")
@_user_errors
def publish(folder: Path, repo_id: str, private: bool, tag: str | None, allow_stand_in: bool) -> None:
    """Validate FOLDER, upload it to the Hub as a dataset repo in one commit (token: HF login/env)."""
    from xfever.publish import publish as run_publish

    _logging(quiet=False)
    result = run_publish(folder, repo_id, private=private, tag=tag, allow_stand_in=allow_stand_in)
    click.echo(
        f"published {result.repo_url} (commit {result.commit}"
        + (f", tag {result.tag})" if result.tag else ")")
    )


@main.command()
@click.argument("folder", type=click.Path(path_type=Path), required=False)
@click.option("--canonical", type=click.Path(path_type=Path), help="Write the canonical build's card.")
@click.option("--repo-id", default="ORG/xfever", show_default=True, help="Repo id of the loading snippet.")
@_user_errors
def card(folder: Path | None, canonical: Path | None, repo_id: str) -> None:
    """Re-render FOLDER/README.md from FOLDER/build.json, or write the canonical card (--canonical)."""
    from xfever.card import rerender, write_canonical

    if (folder is None) == (canonical is None):
        raise click.UsageError("give either FOLDER or --canonical PATH")
    path = write_canonical(canonical, repo_id=repo_id) if canonical else rerender(folder, repo_id=repo_id)
    click.echo(f"wrote {path}")


if __name__ == "__main__":
    main()
