"""The editor interface: what the harness hands an editor and what it gets back.

An editor is anything callable as `editor(view, request, memory) -> EditRecord` (a plain function is
one). A class may add optional hooks, called by the protocol when present:

- `setup(view, suite)`: once per run, before the first folder;
- `reset()`: at the start of every folder (the model is back to the original);
- `prepare(request) -> EditRequest`: choose the examples to train on and to decide on (the
  multilingual sampler of MPN uses it; default: the English example alone);
- `state_dict() -> dict` / `load_state_dict(state)`: state the editor keeps across edits of a folder
  (beyond the model, the patch bank and the memory, which the harness saves itself), for resumable
  runs (harness.protocol.checkpoint); tensors, numbers, strings, lists, tuples and dicts only;
- `changes: str`: what the editor modifies. `"last_ffn"` (the built-ins) lets the harness run it on
  the exact cached-[CLS] path; anything else, or no attribute, takes the full path.

The protocol asks for an edit only when some example of the (prepared) request is mispredicted.
An editor returns an `EditRecord` (or a mapping of its fields); anything else stops the run with the
editor and the edit id named. Two small editors to start from: `examples/editors/`.

What an editor sees: the view (`harness.model.views.ModelView`)
-------------------------------------------------------------
- `view.model`: the `transformers` classifier, in eval mode, every parameter frozen
  (`requires_grad=False`). To train some, set `requires_grad_(True)` on them, and back to False
  when done (the FT baseline does this with `view.ffn_parameters()`, the last FFN's weights and
  biases). The harness restores every changed weight at the start of each folder.
- `view.encode(texts) -> batch`: the inputs of `forward` (token ids on the full path, [CLS]
  vectors on the cached path); `view.repeat(batch, copies)` repeats each row.
- `view.forward(batch, train=False) -> Forward(logits, patch_pre)`: logits with gradient;
  `train=True` applies the run's dropout setting; `patch_pre` holds the patch neurons'
  pre-activations at [CLS] (batch, patches).
- `view.vectors(texts) -> (n, hidden)`: the [CLS] inputs to the last FFN (T-Patcher's keys and
  memory rows), without gradient.
- `view.predict(texts) -> (n,)`: predicted logit indices in eval mode (CPU tensor).
- `view.bank`: the patch neurons of the last FFN: `start(key, value_dir, amp)` opens one trainable
  patch, `commit()` keeps it, `discard()` drops it; `len(view.bank)` counts them.
- `view.device`, `view.tokenizer`, `view.max_length`, `view.dropout`, `view.path` ("cached" or
  "full"), `view.reseed(seed)` (the harness calls it with the request's seed before each edit).
- `request` (`EditRequest`): `texts`, `label` (logit index), `label_name`, `row` (the `EditRow`,
  with `rephrases` and `parallel` translations), `examples` ((lang, text) pairs), `seed`.
- `memory` (`Memory`): `vectors` (n, hidden), `add(vectors)`, `top_rows(key, k)`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from common.errors import ToolkitError
from harness.data.suite import EditRow, Text
from harness.editors.memory import Memory

if TYPE_CHECKING:
    from harness.model.views import ModelView

LAST_FFN = "last_ffn"
__all__ = ["LAST_FFN", "EditRecord", "EditRequest", "Editor", "EditorError", "Memory"]


@dataclass(frozen=True)
class EditRequest:
    """One edit: the English row, its label index, and the examples to train on (text, label index)."""

    id: str
    text: Text
    label: int
    label_name: str
    row: EditRow
    examples: tuple[tuple[str, Text], ...]  # (lang, text); all share `label`
    seed: int = 0  # per-edit seed derived from the run seed and the edit id

    @property
    def texts(self) -> list[Text]:
        return [text for _, text in self.examples]

    def with_examples(self, examples: tuple[tuple[str, Text], ...]) -> EditRequest:
        return replace(self, examples=examples)


@dataclass
class EditRecord:
    """What an editor did for one request (one line of steps.jsonl, plus harness fields)."""

    edited: bool = False
    patches_added: int = 0
    steps: int = 0
    losses: dict[str, float] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)


class EditorError(ToolkitError):
    """An editor failed on an edit (e.g. its loss became NaN)."""


@runtime_checkable
class Editor(Protocol):
    """`editor(view, request, memory) -> EditRecord`; hooks `setup`, `reset`, `prepare` are optional."""

    def __call__(self, view: ModelView, request: EditRequest, memory: Memory) -> EditRecord: ...


def editor_changes(editor: Any) -> str | None:
    return getattr(editor, "changes", None)


def settings_of(editor: Any) -> Mapping[str, Any]:
    """The settings an editor reports for the results file (`settings()` method or {})."""
    getter = getattr(editor, "settings", None)
    return dict(getter()) if callable(getter) else {}
