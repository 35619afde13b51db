"""The command-line conventions both CLIs share: options read from the settings dataclasses, one
`--config FILE.yaml` option, and one way to end (exit status and `error:` line).

Defaults and help text live once, on the dataclass fields (`common.settings.setting`); `options(Cls)`
turns the fields into click options whose default is None ("not given"), so that
`common.settings.resolve` can merge, in this order: the dataclass default, the `--config` file, the
flags given. `--help`, the Python API and the results file therefore never disagree about a default.

Exit status: 0 done; 1 a runtime error (`ToolkitError`: bad data, a failed edit, a missing model);
2 a usage error (click's, or `UsageError`: an option or setting that cannot be used as given);
130 interrupted. Every error is one line on stderr starting with `error:`, without a traceback.
"""

from __future__ import annotations

import dataclasses
import logging
import sys
import types
import typing
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import click

from common.errors import ToolkitError
from common.settings import (
    MISSING,
    build,
    csv_tuple,
    default_of,
    read_config_file,
    resolve,
    setting,
    split_settings,
)

__all__ = ["build", "csv_tuple", "options", "read_config_file", "resolve", "run", "setting", "split_settings"]


def _base_type(annotation: Any) -> Any:
    """`int | None` -> int; `bool` -> bool; strings as written by `from __future__ import annotations`."""
    if isinstance(annotation, str):
        text = annotation.replace(" ", "")
        for name, kind in (("bool", bool), ("int", int), ("float", float), ("str", str)):
            if text in (name, f"{name}|None", f"None|{name}"):
                return kind
        return str
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _base_type(args[0]) if len(args) == 1 else str
    return annotation if annotation in (bool, int, float, str) else str


def _show(field: dataclasses.Field) -> str | None:
    if "show" in field.metadata:
        return field.metadata["show"]
    default = default_of(field)
    if default is MISSING or default is None or default == () or default == {}:
        return None
    if isinstance(default, bool):
        return "on" if default else "off"
    if isinstance(default, tuple):
        return ",".join(map(str, default))
    return str(default)


def option_for(field: dataclasses.Field) -> Callable[[Any], Any]:
    """The click option of one settings field (default None: "not given")."""
    meta = field.metadata
    name = field.name
    flag = meta.get("flag") or "--" + name.replace("_", "-")
    kind = _base_type(field.type)
    text = meta.get("help", "")
    shown = _show(field)
    if shown is not None:
        text = f"{text} [default: {shown}]".strip()
    kwargs: dict[str, Any] = {"default": None, "help": text, "show_default": False}
    if meta.get("metavar"):
        kwargs["metavar"] = meta["metavar"]
    if meta.get("multiple"):
        return click.option(flag, name, multiple=True, default=(), help=text, metavar=meta.get("metavar"))
    if kind is bool:
        negative = meta.get("negative") or "--no-" + flag[2:]
        return click.option(f"{flag}/{negative}", name, **kwargs)
    if meta.get("choices"):
        kwargs["type"] = click.Choice(list(meta["choices"]))
    elif kind in (int, float) and "parse" not in meta:
        kwargs["type"] = kind
    return click.option(flag, name, **kwargs)


def options(cls: type, *, skip: Iterable[str] = (), only: Iterable[str] | None = None) -> Callable:
    """A decorator adding the options of `cls`'s fields (those with `cli` not False), in field order."""
    skipped, wanted = set(skip), (list(only) if only is not None else None)
    chosen = [
        f
        for f in dataclasses.fields(cls)
        if f.metadata.get("cli", True) and f.name not in skipped and (wanted is None or f.name in wanted)
    ]

    def decorate(command: Callable) -> Callable:
        for field in reversed(chosen):  # click lists options in decorator order, innermost last
            command = option_for(field)(command)
        return command

    return decorate


def config_option(command: Callable) -> Callable:
    """`--config FILE.yaml`: settings of the command (keys as the flags, `-` or `_`); flags win."""
    return click.option(
        "--config",
        "config_file",
        type=click.Path(dir_okay=False, path_type=Path),
        help="YAML file of settings (keys as the long flags); flags given on the command line win.",
    )(command)


class ErrorExit(click.ClickException):
    """A ToolkitError on its way out of click: one `error:` line, the error's exit status."""

    def __init__(self, error: ToolkitError) -> None:
        super().__init__(str(error))
        self.exit_code = error.exit_code

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True, file=file)


class Group(click.Group):
    """A click group whose commands' ToolkitErrors end as one `error:` line with their exit status
    (also under click's test runner, not only through `run`)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ToolkitError as exc:
            raise ErrorExit(exc) from None


def run(group: click.Group, argv: list[str] | None, prog: str) -> None:
    """Run a click group with the shared exit statuses and one-line `error:` messages."""
    try:
        code = group.main(args=argv, prog_name=prog, standalone_mode=False)
    except click.exceptions.Abort as exc:
        cause = exc.__cause__
        message = str(cause) if cause is not None and str(cause) else "interrupted"
        click.echo(f"error: {message}", err=True)
        sys.exit(130)
    except KeyboardInterrupt as exc:
        click.echo(f"error: {exc or 'interrupted'}", err=True)
        sys.exit(130)
    except click.exceptions.NoArgsIsHelpError as exc:  # `harness` alone: the help, exit 0 as before
        click.echo(exc.ctx.get_help() if exc.ctx else str(exc))
        sys.exit(0)
    except click.UsageError as exc:
        if exc.ctx is not None:
            click.echo(exc.ctx.get_usage(), err=True)
        click.echo(f"error: {exc.format_message()}", err=True)
        sys.exit(2)
    except click.ClickException as exc:
        click.echo(f"error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except ToolkitError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    sys.exit(code if isinstance(code, int) else 0)


def quiet_option(command: Callable) -> Callable:
    """`--quiet`: no progress bars or info logs (also those of datasets / transformers / the Hub)."""
    return click.option("--quiet", is_flag=True, help="No progress bars or info logs.")(command)


class _StderrHandler(logging.Handler):
    """Log lines of the toolkit's loggers to the current `sys.stderr` (looked up at each line)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            prefix = f"{record.levelname.lower()}: " if record.levelno >= logging.WARNING else ""
            sys.stderr.write(prefix + self.format(record) + "\n")
        except Exception:  # noqa: BLE001 - logging must never break a run
            self.handleError(record)


def apply_quiet(quiet: bool) -> None:
    """`--quiet` or not: the toolkit's own info lines on stderr unless quiet, and the libraries' bars
    and info logs silenced when quiet. Warnings and errors always show."""
    for name in ("common", "xfever", "harness"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.WARNING if quiet else logging.INFO)
        if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
            logger.addHandler(_StderrHandler())
    if quiet:
        from common.progress import quiet_libraries

        quiet_libraries()
