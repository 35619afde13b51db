"""Length-sorted batching with the original order restored, and the per-batch output-length cap."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from xfever.translate.base import DecodeSettings

T = TypeVar("T")
R = TypeVar("R")

log = logging.getLogger(__name__)


def length_sorted_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Indices grouped into batches of similar length, longest first (so memory errors show at once).

    Ties keep input order, so the batches are a deterministic function of the lengths.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    return [order[start : start + batch_size] for start in range(0, len(order), batch_size)]


def restore_order(batches: Sequence[Sequence[int]], outputs: Sequence[Sequence[T]]) -> list[T]:
    """Put per-batch outputs back at the input positions the batches were made from."""
    total = sum(len(batch) for batch in batches)
    result: list[T | None] = [None] * total
    for batch, batch_out in zip(batches, outputs, strict=True):
        if len(batch) != len(batch_out):
            raise ValueError(f"batch of {len(batch)} inputs produced {len(batch_out)} outputs")
        for index, item in zip(batch, batch_out, strict=True):
            result[index] = item
    return result  # type: ignore[return-value]


def map_sorted(rows: Sequence[Sequence[T]], batch_size: int, run: Callable[[list], list[R]]) -> list[R]:
    """`run` over length-sorted batches of `rows`; the outputs come back in input order."""
    if not rows:
        return []
    batches = length_sorted_batches([len(row) for row in rows], batch_size)
    outputs = []
    for number, batch in enumerate(batches, 1):
        outputs.append(run([rows[i] for i in batch]))
        log.debug("batch %d/%d done (%d rows)", number, len(batches), len(batch))
    return restore_order(batches, outputs)


def max_new_tokens(
    settings: DecodeSettings, longest_source_tokens: int, model_limit: int | None = None
) -> int:
    """Cap on generated tokens for a batch: `ceil(ratio * longest source) + extra`, within the model.

    Source length counts the tokenizer's ids (target token and `</s>` included). The cap keeps a row
    that starts looping from stalling its whole batch up to the model's 512 positions.
    """
    cap = math.ceil(settings.max_len_ratio * longest_source_tokens) + settings.max_len_extra
    if model_limit:
        cap = min(cap, model_limit)
    return max(cap, 1)


def cap_rule(settings: DecodeSettings) -> str:
    """The cap as a readable rule for provenance records."""
    return f"ceil({settings.max_len_ratio:g} * longest_source_tokens) + {settings.max_len_extra}"


def decoding_record(
    settings: DecodeSettings,
    *,
    num_beams: int,
    model_limit: int,
    batching: str,
    source_limit: int | None = None,
    overrides: tuple[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The decoding settings an engine actually used, for `EngineInfo.decoding`."""
    record: dict[str, Any] = {
        "batch_size": settings.batch_size,
        "num_beams": num_beams,
        "num_beams_from": "settings" if settings.num_beams else "model generation config",
        "max_new_tokens": cap_rule(settings) + f", at most {model_limit}",
        "batching": batching,
    }
    if source_limit is not None:
        record["max_source_tokens"] = source_limit
    if overrides and overrides[1]:
        record[overrides[0]] = overrides[1]
    return record
