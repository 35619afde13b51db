"""Where independent units of work run: in this process (`local`, the default) or as Ray tasks (`ray`).

Both packages hand their embarrassingly parallel work to an `Executor`: the harness its folders
(each starts from the original model), the builder its (language x shard) translation units. The
driver keeps every file write: a unit returns its result and the driver writes it, so the output
folder is written by one process exactly as the local path writes it, and a cluster needs no
shared filesystem.

- `share(obj)`: data every unit of a group reads (the suite, the model view with its encoded [CLS]
  cache). Local: the object itself. Ray: put into the object store once; each worker process
  fetches it once and keeps it for the next units (`resolve`).
- `run(jobs, on_done, on_failed)`: run every job, calling `on_done(job, value)` / `on_failed(job,
  error)` in the driver as each finishes, in completion order. A failed job is retried `retries`
  times, then reported; the other jobs still run.
- `run_stateful(factory, jobs, ...)`: jobs run by a few long-lived workers built once by `factory`
  (local: one; Ray: one actor per worker slot), e.g. one translation model load per worker.

`make_executor("local")` imports no Ray; `make_executor("ray", ...)` needs the `dist` extra.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from common.errors import UsageError

EXECUTORS = ("local", "ray")


@dataclass
class Job:
    """One unit of work: `fn(*args)` (or `worker.method(*args)` for `run_stateful`), named by `label`
    in progress lines and errors (e.g. 'run tpatcher-s0 folder 3')."""

    label: str
    fn: Callable[..., Any] | str
    args: tuple[Any, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict)  # the caller's own bookkeeping (run, index)
    cost: int = 1  # units of work (edit rows, sentences) for the progress display


OnDone = Callable[[Job, Any], None]
OnFailed = Callable[[Job, BaseException], None]


class Executor:
    """The local executor: every job in this process, one after the other (today's code path)."""

    name = "local"

    def __init__(self, retries: int = 0) -> None:
        if retries < 0:
            raise UsageError(f"--retries: must be >= 0, got {retries}")
        self.retries = retries

    def describe(self) -> dict[str, Any]:
        """What ran the work, for the outputs' provenance."""
        return {"name": self.name, "workers": 1}

    def workers(self) -> int:
        return 1

    def share(self, obj: Any, by_value: Sequence[Any] = ()) -> Any:
        """`by_value`: modules the workers cannot import (a FILE.py editor), shipped with `obj`."""
        return obj

    def run(self, jobs: Sequence[Job], on_done: OnDone, on_failed: OnFailed) -> None:
        for job in jobs:
            value, error = _attempt(lambda job=job: job.fn(*job.args), self.retries)
            if error is None:
                on_done(job, value)
            else:
                on_failed(job, error)

    def run_stateful(
        self, factory: Callable[[], Any], jobs: Sequence[Job], on_done: OnDone, on_failed: OnFailed
    ) -> None:
        worker = None
        for job in jobs:
            if worker is None:
                worker = factory()
            call = getattr(worker, str(job.fn))
            value, error = _attempt(lambda call=call, job=job: call(*job.args), self.retries)
            if error is None:
                on_done(job, value)
            else:
                on_failed(job, error)

    def close(self) -> None:
        pass


def _attempt(call: Callable[[], Any], retries: int) -> tuple[Any, BaseException | None]:
    error: BaseException | None = None
    for _ in range(retries + 1):
        try:
            return call(), None
        except Exception as exc:  # noqa: BLE001 - reported to the caller, with the job's label
            error = exc
    return None, error


def resolve(handle: Any) -> Any:
    """Inside a job: the object behind a `share()` handle (fetched once per worker process)."""
    from common.ray_executor import RayHandle

    if isinstance(handle, RayHandle):
        return handle.get()
    return handle


def make_executor(
    name: str = "local", *, address: str | None = None, gpus_per_task: float = 0.0, retries: int = 0
) -> Executor:
    """The executor `name` (local | ray); Ray is imported only for `ray`."""
    if name == "local":
        return Executor(retries)
    if name == "ray":
        from common.ray_executor import RayExecutor

        return RayExecutor(address=address, gpus_per_task=gpus_per_task, retries=retries)
    raise UsageError(f"--executor: expected one of {EXECUTORS}, got {name!r}")
