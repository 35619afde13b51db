"""A function editor: one patch neuron per edit, set by one gradient step and a line search.

Run it with `harness eval --editor examples/editors/one_step_patch.py:edit ...`. It shows the
smallest useful editor: read the edit's [CLS] vector, open a patch neuron in the last FFN
(`view.bank`), take the gradient of the cross-entropy with respect to the patch's value direction,
then scale the value up until the edit is predicted right (or give up after a few doublings). No
memory loss: compare its locality with T-Patcher's to see what that loss buys.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from harness.editors.base import LAST_FFN, EditRecord


def edit(view, request, memory) -> EditRecord:
    q = view.vectors(request.texts)  # (n, hidden) [CLS] inputs of the last FFN, no gradient
    key = q[0] / q[0].pow(2).sum()  # pre-activation 1 on the English example, as T-Patcher starts
    patch = view.bank.start(key, torch.zeros_like(key), amp=1.0)
    labels = torch.full((len(request.texts),), request.label, device=view.device)
    loss = F.cross_entropy(view.forward(view.encode(request.texts)).logits, labels)
    loss.backward()
    with torch.no_grad():  # the value points down the loss; its size is found by doubling
        patch["u"].copy_(-patch["u"].grad / (patch["u"].grad.norm() + 1e-12))
        patch["u"].grad = None
        steps = 1
        while steps < 12 and not bool((view.predict(request.texts) == request.label).all()):
            patch["amp"].mul_(2.0)
            steps += 1
    view.bank.commit()
    memory.add(q)  # later edits' editors may read it; this one does not
    return EditRecord(edited=True, patches_added=1, steps=steps, losses={"ce_before": float(loss.detach())})


edit.changes = LAST_FFN  # only the last FFN changes: the harness may run it on the cached path
