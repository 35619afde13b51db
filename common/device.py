"""`--device`: one reading of auto / cpu / cuda / cuda:N for every command."""

from __future__ import annotations

from collections.abc import Callable

from common.errors import UsageError

DEVICE_HELP = "auto (a GPU when there is one, else the CPU), cpu, cuda or cuda:N."


def resolve_device(requested: str, cuda_count: Callable[[], int] | None = None) -> str:
    """`auto` -> `cuda` when a GPU is visible, else `cpu`; `cpu`, `cuda`, `cuda:N` as given.

    `cuda_count` says how many GPUs the engine sees (default: torch's); a GPU that is asked for but
    not there, or a malformed name, is a UsageError naming `--device`.
    """
    if cuda_count is None:

        def cuda_count() -> int:
            import torch

            return torch.cuda.device_count() if torch.cuda.is_available() else 0

    name = str(requested).strip().lower()
    if name == "auto":
        return "cuda" if cuda_count() > 0 else "cpu"
    if name == "cpu":
        return "cpu"
    kind, _, index = name.partition(":")
    if kind != "cuda" or (index and not index.isdigit()):
        raise UsageError(f"--device: expected {DEVICE_HELP.rstrip('.')}; got {requested!r}")
    available = cuda_count()
    if available == 0:
        raise UsageError(f"--device {requested}: no CUDA device is available")
    if index and int(index) >= available:
        raise UsageError(f"--device {requested}: only {available} CUDA device(s) are available")
    return name
