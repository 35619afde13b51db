"""`load_suite(config)`: the evaluation suite of a run, XFEVER or XNLI, with T-Patcher's memory."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING

from common.errors import ToolkitError, UsageError
from harness.data.sampling import sample
from harness.data.suite import EvalSuite

if TYPE_CHECKING:
    from harness.config import EvalConfig

log = logging.getLogger(__name__)


def load_suite(config: EvalConfig) -> EvalSuite:
    """The suite `config` asks for (`task`, `dataset`, `langs`, sizes and `data_seed`)."""
    if config.task == "xnli":
        from harness.data.xnli import load_xnli_suite

        suite = load_xnli_suite(config.dataset, langs=config.langs, revision=config.dataset_revision)
        return with_nli_memory(suite, config.memory_data, config.memory_size, config.data_seed)
    from harness.data.xfever import load_xfever_suite

    return load_xfever_suite(
        config.dataset,
        langs=config.langs,
        locality_train_size=config.locality_train_size,
        memory_size=config.memory_size,
        seed=config.data_seed,
        revision=config.dataset_revision,
    )


def with_nli_memory(suite: EvalSuite, memory_data: str | None, size: int, seed: int) -> EvalSuite:
    """XNLI: T-Patcher's memory from MultiNLI train (the base model's training data), sampled.

    MultiNLI shares no row with XNLI's locality set (English validation), so the draw is disjoint by
    construction. `memory_data="locality"` uses the locality set itself (then the memory loss protects
    exactly the rows locality is measured on: say so when comparing); without `memory_data`, a
    MultiNLI that cannot be loaded (offline) falls back to it with a warning."""
    from harness.data.xnli import MULTINLI_ID, load_multinli_examples

    locality = next(iter(suite.locality.values()), ())
    fallback = f"locality ({', '.join(suite.locality)}): the memory is the locality set itself"
    if memory_data == "locality":
        return replace(suite, memory=tuple(locality), memory_source=fallback)
    source = memory_data or MULTINLI_ID
    try:
        rows = load_multinli_examples(source, "train")
    except ToolkitError as exc:
        if memory_data:
            raise UsageError(f"--memory-data: {exc}") from None
        log.warning("T-Patcher memory: %s; using the locality set instead", exc)
        return replace(suite, memory=tuple(locality), memory_source=f"{fallback} ({source} not loadable)")
    memory = sample(rows, size, seed + 1)
    text = f"{source}:train (sample of {len(memory)} of {len(rows)} rows, seed {seed + 1})"
    return replace(suite, memory=memory, memory_source=text)
