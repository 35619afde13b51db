"""The command-line conventions both CLIs share: options read from the settings dataclasses, one
`--config FILE.yaml` reader, and one way to end (exit status and `error:` line).

Defaults and help text live once, on the dataclass fields (`setting(...)`); `options(Cls)` turns the
fields into click options whose default is None ("not given"), so that `resolve(Cls, params, file)`
can merge, in this order: the dataclass default, the `--config` file, the flags given. `--help`, the
Python API and the results file therefore never disagree about a default.

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
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import click

from common.errors import ToolkitError, UsageError

_MISSING = dataclasses.MISSING


def setting(default: Any = _MISSING, help: str = "", **meta: Any) -> Any:  # noqa: A002
    """A dataclass field with its help text and CLI hints in `metadata`.

    Hints: `flag` (option name, default `--field-name`), `choices`, `parse` (str or tuple of str ->
    value), `multiple` (repeatable option), `metavar`, `cli=False` (no option), `factory` (a default
    factory instead of a default), `show` (how --help shows the default), `aliases` (other keys a
    --config file may use).
    """
    factory = meta.pop("factory", None)
    metadata = {"help": help, **meta}
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def _default_of(field: dataclasses.Field) -> Any:
    if field.default is not _MISSING:
        return field.default
    if field.default_factory is not _MISSING:  # type: ignore[misc]
        return field.default_factory()  # type: ignore[misc]
    return _MISSING


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
    default = _default_of(field)
    if default is _MISSING or default is None or default == () or default == {}:
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


def read_config_file(path: str | Path | None) -> dict[str, Any]:
    """The settings mapping of a YAML file; a missing, unreadable or malformed file is a UsageError."""
    if path is None:
        return {}
    import yaml

    path = Path(path)
    if not path.is_file():
        raise UsageError(f"--config {path}: no such file")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise UsageError(f"--config {path}{line}: not valid YAML ({exc})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--config {path}: cannot read it ({exc})") from None
    if not isinstance(data, dict):
        raise UsageError(f"--config {path}: expected a mapping of settings, got {type(data).__name__}")
    return {str(k).replace("-", "_"): v for k, v in data.items()}


def parse_field(field: dataclasses.Field, value: Any, where: str) -> Any:
    """A flag's or file's value as the field wants it (through the field's `parse` when it has one)."""
    parse = field.metadata.get("parse")
    if parse is None:
        return value
    try:
        return parse(value)
    except ToolkitError:
        raise
    except (TypeError, ValueError) as exc:
        raise UsageError(f"{where}: {exc}") from None


def resolve(
    cls: type,
    params: Mapping[str, Any],
    file_settings: Mapping[str, Any] | None = None,
    *,
    file_name: str | Path | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Keyword arguments for `cls`: the file's settings, overlaid by the flags given, plus `extra`.

    Keys of the file that are no field of `cls` are a UsageError naming the file and the key (pass
    the leftovers of one file through several classes with `split_settings`)."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    aliases = {a: f.name for f in fields.values() for a in f.metadata.get("aliases", ())}
    settings: dict[str, Any] = {}
    for key, value in (file_settings or {}).items():
        key = aliases.get(key, key)
        if key not in fields:
            known = ", ".join(sorted(n for n, f in fields.items() if f.metadata.get("cli", True)))
            raise UsageError(f"--config {file_name}: unknown setting {key!r} (known: {known})")
        settings[key] = parse_field(fields[key], value, f"--config {file_name}: setting {key!r}")
    for name, field in fields.items():
        if name not in params:
            continue
        value = params[name]
        if value is None or (field.metadata.get("multiple") and value == ()):
            continue
        flag = field.metadata.get("flag") or "--" + name.replace("_", "-")
        value = parse_field(field, value, flag)
        if isinstance(value, dict) and isinstance(settings.get(name), dict):  # --editor-opt on a file's
            value = {**settings[name], **value}
        settings[name] = value
    settings.update(extra or {})
    return settings


def split_settings(settings: Mapping[str, Any], *classes: type) -> list[dict[str, Any]]:
    """One file's settings cut by class (first class that has the field wins); leftovers last."""
    parts: list[dict[str, Any]] = [{} for _ in range(len(classes) + 1)]
    names = [
        {f.name for f in dataclasses.fields(c)}
        | {a for f in dataclasses.fields(c) for a in f.metadata.get("aliases", ())}
        for c in classes
    ]
    for key, value in settings.items():
        index = next((i for i, n in enumerate(names) if key in n), len(classes))
        parts[index][key] = value
    return parts


def build(cls: type, kwargs: Mapping[str, Any]) -> Any:
    """`cls(**kwargs)`; a missing required setting or a constructor's TypeError is a UsageError."""
    required = [
        f.name for f in dataclasses.fields(cls) if _default_of(f) is _MISSING and f.name not in kwargs
    ]
    if required:
        flags = ", ".join("--" + n.replace("_", "-") for n in required)
        raise UsageError(f"{flags}: required (as a flag or in --config)")
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise UsageError(str(exc)) from None


def csv_tuple(value: str | Iterable[str] | None) -> tuple[str, ...] | None:
    """`"de, fr"` or `["de", "fr"]` -> `("de", "fr")`; None stays None."""
    if value is None:
        return None
    items = value.split(",") if isinstance(value, str) else list(value)
    return tuple(str(item).strip() for item in items if str(item).strip())


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
