"""The `none` editor: changes nothing (the original model's row, and a smoke test of the protocol)."""

from __future__ import annotations

from typing import Any

from harness.editors.base import LAST_FFN, EditRecord


class NoEdit:
    changes = LAST_FFN

    def __init__(self, **options: Any) -> None:
        if options:
            from common.errors import ToolkitError

            raise ToolkitError(f"editor none: takes no options, got {sorted(options)}")

    def settings(self) -> dict[str, Any]:
        return {}

    def __call__(self, view: Any, request: Any, memory: Any) -> EditRecord:
        return EditRecord(edited=False)
