"""`xfever build | validate | publish`: a thin click layer over xfever.build / validate / publish.

Heavy libraries load inside the commands, so `xfever --help` answers at once. Options and their
defaults come from `BuildConfig` and `DecodeSettings` (`common.cli`); errors end as one `error:` line
with exit status 1 (runtime) or 2 (usage), without a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from common.cli import (
    Group,
    apply_quiet,
    config_option,
    options,
    quiet_option,
    read_config_file,
    resolve,
    run,
    split_settings,
)
from common.cli import build as cli_build
from common.errors import UsageError
from xfever.config import BuildConfig
from xfever.translate.base import DecodeSettings


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="xfever", prog_name="xfever")
def main() -> None:
    """Build, validate and publish the XFEVER cross-lingual model-editing dataset."""


@main.command()
@options(BuildConfig)
@options(DecodeSettings)
@config_option
@quiet_option
def build(config_file: Path | None, quiet: bool, **params: Any) -> None:
    """Build the XFEVER dataset folder."""
    from xfever.build import build as run_build

    apply_quiet(quiet)  # the libraries' own bars and info logs ("Loading weights", "Generating ...")
    result = run_build(build_config(params, read_config_file(config_file), config_file, quiet=quiet))
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


def build_config(
    params: dict[str, Any],
    file_settings: dict[str, Any],
    file_name: Path | None = None,
    *,
    quiet: bool = False,
) -> BuildConfig:
    """BuildConfig from the flags and a --config file (flat keys, or decoding keys under `decode`)."""
    nested = file_settings.pop("decode", None) or {}
    build_file, decode_file, rest = split_settings(file_settings, BuildConfig, DecodeSettings)
    if rest:
        raise UsageError(f"--config {file_name}: unknown setting(s) {sorted(rest)}")
    decode = DecodeSettings(**resolve(DecodeSettings, params, nested | decode_file, file_name=file_name))
    settings = resolve(BuildConfig, params, build_file, file_name=file_name, extra={"decode": decode})
    # An override for a language not in --langs is refused by BuildConfig.check (not dropped here).
    return cli_build(BuildConfig, settings | {"quiet": quiet})


@main.command()
@click.argument("folder", type=click.Path(path_type=Path))
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
def publish(folder: Path, repo_id: str, private: bool, tag: str | None, allow_stand_in: bool) -> None:
    """Validate FOLDER, upload it to the Hub as a dataset repo in one commit (token: HF login/env)."""
    from xfever.publish import publish as run_publish

    apply_quiet(False)
    result = run_publish(folder, repo_id, private=private, tag=tag, allow_stand_in=allow_stand_in)
    click.echo(
        f"published {result.repo_url} (commit {result.commit}"
        + (f", tag {result.tag})" if result.tag else ")")
    )


@main.command()
@click.argument("folder", type=click.Path(path_type=Path), required=False)
@click.option("--canonical", type=click.Path(path_type=Path), help="Write the canonical build's card.")
@click.option("--repo-id", default="ORG/xfever", show_default=True, help="Repo id of the loading snippet.")
def card(folder: Path | None, canonical: Path | None, repo_id: str) -> None:
    """Re-render FOLDER/README.md from FOLDER/build.json, or write the canonical card (--canonical)."""
    from xfever.card import rerender, write_canonical

    if (folder is None) == (canonical is None):
        raise click.UsageError("give either FOLDER or --canonical PATH")
    path = write_canonical(canonical, repo_id=repo_id) if canonical else rerender(folder, repo_id=repo_id)
    click.echo(f"wrote {path}")


def cli_main(argv: list[str] | None = None) -> None:
    """Entry point (`xfever`): one `error:` line and exit status 1 (runtime) or 2 (usage) on errors."""
    run(main, argv, "xfever")


if __name__ == "__main__":
    cli_main()
