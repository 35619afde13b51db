"""The evaluation suite: what an editing run reads, whatever dataset it came from.

Loaders (`harness.data.xfever` for XFEVER, `harness.data.xnli` for XNLI) produce an `EvalSuite`; the protocol,
editors and metrics read only these types. Texts are tuples of one (claim) or two (premise,
hypothesis) segments, so that pair tasks are encoded as pairs by the tokenizer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Text = tuple[str, ...]  # one segment, or (premise, hypothesis) for pair tasks


@dataclass(frozen=True)
class Example:
    """An unrelated example for locality (and the editors' memory)."""

    id: str
    text: Text
    label: str


@dataclass(frozen=True)
class EditRow:
    """One edit request's data: the English example, its rephrases and its parallel translations."""

    id: str
    text: Text
    label: str
    rephrases: tuple[Text, ...] = ()
    parallel: dict[str, Text] = field(default_factory=dict)  # lang -> translated text
    parallel_rephrases: dict[str, tuple[Text, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class EvalSuite:
    """Edit rows plus locality sets, with the provenance a results file records."""

    name: str  # "xfever" | "xnli"
    dataset_id: str  # Hub id or local folder as given
    dataset_revision: str | None  # resolved commit SHA, or build id / content hash for a folder
    langs: tuple[str, ...]  # CLG languages, in column order
    label_names: tuple[str, ...]  # dataset label names
    edit: tuple[EditRow, ...]
    locality: dict[str, tuple[Example, ...]]  # e.g. {"train": ..., "test": ...}
    has_rephrases: bool = True  # False for XNLI: no MLG column
    info: dict[str, Any] = field(default_factory=dict)
    # T-Patcher's memory: unrelated training rows the patches must not fire on (disjoint from the
    # locality sets where the data allows; `memory_source` says where they come from and how drawn)
    memory: tuple[Example, ...] = ()
    memory_source: str = ""
    # the validation split: the reference T-Patcher's early-stop memory (empty when the data has none)
    validation: tuple[Example, ...] = ()
    validation_source: str = ""

    def summary(self) -> dict[str, Any]:
        """JSON-ready description for results files (ids, revision, sizes, how rows were drawn)."""
        import json

        info = {"name": self.name, "id": self.dataset_id, "revision": self.dataset_revision, **self.info}
        info |= {"langs": list(self.langs), "labels": list(self.label_names)}
        info |= {"memory_rows": len(self.memory), "memory_source": self.memory_source}
        if self.validation or self.validation_source:
            info |= {"validation_rows": len(self.validation), "validation_source": self.validation_source}
        return json.loads(json.dumps(info, default=str))
