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


# `--threads`: torch's intra-op threads. torch's default (one per core) stalled on a shared 2-core
# machine: one encoding pass took 678 s wall with 2 threads against 27 s with 1 (issue 15); the
# measurement behind the default is in benchmarks/RESULTS.md ("Threads").
DEFAULT_THREADS = 1
THREADS_HELP = "1 never stalls on a shared machine (benchmarks/RESULTS.md); more helps only on idle cores."


class torch_threads:
    """`with torch_threads(n):` torch uses n intra-op threads (0: leave torch's default), then the
    previous count again. `.used` is the count in effect inside (what results record)."""

    def __init__(self, n: int | None) -> None:
        self.n = int(n or 0)
        self.used = 0
        self.before = 0

    def __enter__(self) -> torch_threads:
        import torch

        self.before = torch.get_num_threads()
        if self.n > 0:
            torch.set_num_threads(self.n)
        self.used = torch.get_num_threads()
        return self

    def __exit__(self, *exc: object) -> None:
        import torch

        if self.n > 0:
            torch.set_num_threads(self.before)
