"""Editor presets: `fast` (the harness's default) and `reference` (the public T-Patcher code).

`--editor-opt preset=reference` sets every option of an editor to the reference's behaviour at once;
explicit options override the preset's values. Each behaviour is also its own named option of the
editor (`TPatcherSettings`, `FTSettings`) or of the run (`EvalConfig`: `dropout`, `head_dropout`,
`edit_rows`, `folder_order`). A built-in editor declares the run settings its preset needs
(`run_settings()`); the run resolves its `auto` values from them and records where each came from
(results.json `run_settings`). What the reference does, and where it was read:
docs/protocol.md ("Reference behaviours and presets") and the README section "Editor presets".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from common.errors import UsageError

PRESETS = ("fast", "reference")
DEFAULT_PRESET = "fast"

# The run-level behaviours of each preset. `fast`: today's harness (dropout on the patch input only,
# every edit row, contiguous folders in dataset order). `reference`: every layer in train mode and
# no dropout before the classifier (the reference's BertClassifier), edit rows without rephrases
# dropped (FeverEditData), folders as random splits in random order (random_split, shuffle=True).
RUN_PRESETS: dict[str, dict[str, str]] = {
    "fast": {"dropout": "patch", "head_dropout": "on", "edit_rows": "all", "folder_order": "contiguous"},
    "reference": {
        "dropout": "model",
        "head_dropout": "off",
        "edit_rows": "rephrased",
        "folder_order": "random",
    },
}
RUN_DEFAULTS = RUN_PRESETS[DEFAULT_PRESET]  # for editors that declare nothing


def preset_options(cls: type, options: Mapping[str, Any], editor: str) -> dict[str, Any]:
    """`options` on top of the preset's values (`cls.PRESET_VALUES[preset]`), with `preset` kept."""
    options = dict(options)
    preset = options.get("preset", DEFAULT_PRESET)
    if preset not in PRESETS:
        raise UsageError(f"editor {editor}: option preset: expected one of {PRESETS}, got {preset!r}")
    values: dict[str, Any] = dict(getattr(cls, "PRESET_VALUES", {}).get(preset, {}))
    return values | options | {"preset": preset}


def run_settings_for(preset: str) -> dict[str, str]:
    return dict(RUN_PRESETS.get(preset, RUN_DEFAULTS))
