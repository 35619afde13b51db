"""A class editor with hooks: fine-tune the last FFN on the edit and a replay of the folder's edits.

Run it with `harness eval --editor examples/editors/replay_ft.py:ReplayFineTune
--editor-opt replay=4`. It shows every optional hook of the editor protocol
(`harness/editors/base.py`):

- `__init__(**options)`: `--editor-opt` values (recorded through `settings()`);
- `setup(view, suite)`: once per run (here: remember the label ids of the dataset's labels);
- `reset()`: at the start of every folder (here: forget the replay buffer, since the model is back
  to the original);
- `state_dict()` / `load_state_dict()`: what it keeps across edits, so that a killed run resumes
  exactly (`harness eval` checkpoints it with the model and RNG states).

Training rule: Adam on the last FFN's weights and biases (`view.ffn_parameters()`), cross-entropy on
the edit's examples plus the last `replay` edits of the folder (so earlier edits are not forgotten),
until every example of this edit is right or `max_steps`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F

from harness.editors.base import LAST_FFN, EditRecord


@dataclass(frozen=True)
class ReplaySettings:
    lr: float = 1e-3
    max_steps: int = 50
    replay: int = 4  # earlier edits of the folder trained on again with each new edit


class ReplayFineTune:
    changes = LAST_FFN

    def __init__(self, **options) -> None:
        self.s = ReplaySettings(**options)
        self.buffer: list[tuple[tuple[str, ...], int]] = []  # (text, label index) of earlier edits

    def settings(self) -> dict:
        return asdict(self.s)

    def setup(self, view, suite) -> None:
        self.labels = tuple(suite.label_names)

    def reset(self) -> None:
        self.buffer = []

    def state_dict(self) -> dict:
        return {"buffer": [[list(text), label] for text, label in self.buffer]}

    def load_state_dict(self, state: dict) -> None:
        self.buffer = [(tuple(text), int(label)) for text, label in state["buffer"]]

    def __call__(self, view, request, memory) -> EditRecord:
        replay = self.buffer[-self.s.replay :] if self.s.replay else []
        texts = list(request.texts) + [text for text, _ in replay]
        labels = torch.tensor([request.label] * len(request.texts) + [label for _, label in replay])
        batch, labels = view.encode(texts), labels.to(view.device)
        params = view.ffn_parameters()
        for p in params:
            p.requires_grad_(True)
        opt = torch.optim.Adam(params, lr=self.s.lr)
        steps, loss = 0, None
        try:
            for steps in range(1, self.s.max_steps + 1):
                if bool((view.predict(request.texts) == request.label).all()):
                    steps -= 1
                    break
                loss = F.cross_entropy(view.forward(batch, train=True).logits, labels)
                opt.zero_grad()
                loss.backward()
                opt.step()
        finally:
            for p in params:
                p.requires_grad_(False)
                p.grad = None
        self.buffer.append((request.text, request.label))
        losses = {"ce": loss.item()} if loss is not None else {}
        return EditRecord(edited=steps > 0, steps=steps, losses=losses)
