"""`harness`: thin click commands over the library, one module per group of commands.

Each command parses its options (read from the settings dataclasses by `common.cli`), builds one
config, calls one library function and renders what it returns. Exit statuses and the `error:` line
are `common.cli.run`'s.
"""

from __future__ import annotations

import click

from common.cli import Group, run


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="xfever", prog_name="harness")
def cli() -> None:
    """Evaluate model editors (FT, T-Patcher, MPN) on XFEVER / XNLI with the MPN paper's protocol."""


def _register() -> None:
    from harness.cli import demo, evaluate, report, reproduce, sweep, testbed, train

    for module in (evaluate, report, train, reproduce, sweep, demo, testbed):
        for command in module.COMMANDS:
            cli.add_command(command)


_register()


def main(argv: list[str] | None = None) -> None:
    """Entry point (`harness`)."""
    run(cli, argv, "harness")
