"""MPN (paper §3.3): a multilingual sampler in front of any editor.

MPN changes only the inputs: for each English edit example it adds one sampled parallel example
(`mode="one"`, "MPN (only)") or every parallel example (`mode="all"`, "MPN (all)"). The edit decision
and the loss use all of them: a row is edited when any is mispredicted. `train_langs` restricts the
languages it may train on (held-out-language CLG). Wrapping T-Patcher gives `mpn` / `mpn-all`, wrapping
FT gives `ft-mpn`; any editor takes it with `--editor-opt multilingual=one`.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from common.errors import UsageError
from harness.editors.base import EditRecord, EditRequest, Memory, editor_changes, settings_of

MODES = ("one", "all")


def parse_langs(value: Any) -> tuple[str, ...] | None:
    if value is None or value == "":
        return None
    items = value.split(",") if isinstance(value, str) else list(value)
    return tuple(str(item).strip() for item in items if str(item).strip())


class MultilingualSampler:
    """Adds parallel examples to each request, then hands it to the wrapped editor."""

    def __init__(self, inner: Any, mode: str = "one", train_langs: Sequence[str] | str | None = None) -> None:
        if mode not in MODES:
            raise UsageError(f"option multilingual: expected one of {MODES}, got {mode!r}")
        self.inner = inner
        self.mode = mode
        self.train_langs = parse_langs(train_langs)
        self.langs: tuple[str, ...] = ()
        self.changes = editor_changes(inner)

    def settings(self) -> dict[str, Any]:
        langs = list(self.train_langs) if self.train_langs else None
        return {"multilingual": self.mode, "train_langs": langs, **settings_of(self.inner)}

    def run_settings(self) -> dict[str, str]:
        getter = getattr(self.inner, "run_settings", None)
        return dict(getter()) if callable(getter) else {}

    def report(self) -> dict[str, Any]:
        getter = getattr(self.inner, "report", None)
        return dict(getter()) if callable(getter) else {}

    def setup(self, view: Any, suite: Any) -> None:
        self.langs = tuple(suite.langs)
        missing = sorted(set(self.train_langs or ()) - set(self.langs))
        if missing:
            raise UsageError(f"option train_langs: {missing} not among the dataset's languages {self.langs}")
        if hasattr(self.inner, "setup"):
            self.inner.setup(view, suite)

    def reset(self) -> None:
        if hasattr(self.inner, "reset"):
            self.inner.reset()

    def state_dict(self) -> dict[str, Any]:
        """The sampler's draws derive from each request's seed; only the inner editor may keep state."""
        getter = getattr(self.inner, "state_dict", None)
        return {"inner": getter()} if callable(getter) else {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if "inner" in state and hasattr(self.inner, "load_state_dict"):
            self.inner.load_state_dict(state["inner"])

    def prepare(self, request: EditRequest) -> EditRequest:
        pool = self.train_langs or self.langs or tuple(request.row.parallel)
        langs = [lang for lang in pool if lang in request.row.parallel]
        if self.mode == "one" and langs:
            langs = [random.Random(request.seed).choice(langs)]
        extra = tuple((lang, request.row.parallel[lang]) for lang in langs)
        return request.with_examples(request.examples + extra)

    def __call__(self, view: Any, request: EditRequest, memory: Memory) -> EditRecord:
        return self.inner(view, request, memory)
