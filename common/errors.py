"""The one error type both packages raise for what a user can fix, and its location helper.

`ToolkitError` is reported by the CLIs as one line (`error: ...`, exit status 1, no traceback);
`UsageError`, a malformed or contradictory command-line option or setting, exits with status 2 as
click does for its own usage errors. Messages name the file, line and field (or the option) at fault.
"""

from __future__ import annotations


class ToolkitError(Exception):
    """A user-facing error: the message names the file, line and field (or setting) at fault."""

    exit_code = 1


class UsageError(ToolkitError):
    """An option or setting that cannot be used as given (exit status 2)."""

    exit_code = 2


def at(path: object, line: int | None = None, field: str | None = None) -> str:
    """Location prefix for messages: `file.jsonl:12: field 'input':`."""
    where = str(path) + (f":{line}" if line is not None else "")
    return where + (f": field '{field}'" if field else "")
