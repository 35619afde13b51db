"""Errors that the CLI reports as a clear message and a non-zero exit (no traceback)."""

from __future__ import annotations


class ToolkitError(Exception):
    """A user-facing error: the message names the file, line and field (or setting) at fault."""


def at(path: object, line: int | None = None, field: str | None = None) -> str:
    """Location prefix for messages: `file.jsonl:12: field 'input':`."""
    where = str(path) + (f":{line}" if line is not None else "")
    return where + (f": field '{field}'" if field else "")
