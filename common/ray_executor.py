"""The Ray executor (extra `dist`): jobs as Ray tasks or actor calls, on a laptop or a cluster.

`--ray-address` picks the cluster: none starts a private local Ray in this process (all its cores);
`auto` joins the cluster this machine is part of (`ray start --head` / `ray start --address=...`);
`HOST:PORT` joins that head node. A Ray already initialised in this process is used as it is (and
left running). Ray is imported when the executor is made, never by `common.executor` itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from common.errors import ToolkitError
from common.executor import Executor, Job, OnDone, OnFailed

log = logging.getLogger(__name__)

# Per worker process: share() handles already fetched, so a worker fetches each object once.
_FETCHED: dict[str, Any] = {}
_KEEP = 4  # objects kept per worker (one per run of a sweep in flight, roughly)


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ToolkitError(
            "--executor ray: Ray is not installed; install the extra: pip install 'xfever[dist]' "
            "(or pip install 'ray[default]')"
        ) from None
    return ray


class RayHandle:
    """A `share()`d object: the object-store reference, wrapped in a list so that Ray passes the
    reference to the task instead of resolving it for every task."""

    def __init__(self, ref: Any) -> None:
        self.refs = [ref]

    def get(self) -> Any:
        ref = self.refs[0]
        key = ref.hex()
        if key not in _FETCHED:
            while len(_FETCHED) >= _KEEP:
                _FETCHED.pop(next(iter(_FETCHED)))
            _FETCHED[key] = _ray().get(ref)
        return _FETCHED[key]


def _call(fn: Callable[..., Any], *args: Any) -> Any:
    return fn(*args)


class _Worker:
    """An actor: builds its state once with `factory`, then runs methods of it."""

    def __init__(self, factory: Callable[[], Any]) -> None:
        self.state = factory()

    def call(self, method: str, *args: Any) -> Any:
        return getattr(self.state, method)(*args)


class RayExecutor(Executor):
    name = "ray"

    def __init__(self, *, address: str | None = None, gpus_per_task: float = 0.0, retries: int = 0) -> None:
        super().__init__(retries)
        if gpus_per_task < 0:
            raise ToolkitError(f"--gpus-per-task: must be >= 0, got {gpus_per_task}")
        ray = _ray()
        self.ray, self.gpus = ray, float(gpus_per_task)
        self.address = address if address not in (None, "", "local") else None
        self.owned = not ray.is_initialized()
        if self.owned:
            try:
                ray.init(address=self.address, log_to_driver=True, include_dashboard=False)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise ToolkitError(
                    f"--ray-address {address}: cannot join the Ray cluster ({exc}); start one with "
                    "`ray start --head` (and `ray start --address=HEAD:6379` on the workers)"
                ) from exc

    def describe(self) -> dict[str, Any]:
        kind = "local" if self.address is None else ("auto" if self.address == "auto" else "host:port")
        return {
            "name": "ray",
            "ray_version": self.ray.__version__,
            "address": kind,
            "nodes": len([n for n in self.ray.nodes() if n.get("Alive")]),
            "workers": self.workers(),
            "gpus_per_task": self.gpus,
        }

    def workers(self) -> int:
        """Jobs that can run at once: CPUs (or GPUs / gpus_per_task) of the cluster."""
        res = self.ray.cluster_resources()
        if self.gpus > 0:
            return max(1, int(res.get("GPU", 0) // self.gpus))
        return max(1, int(res.get("CPU", 1)))

    def share(self, obj: Any, by_value: Sequence[Any] = ()) -> RayHandle:
        for module in by_value:
            self.ray.cloudpickle.register_pickle_by_value(module)
        return RayHandle(self.ray.put(obj))

    def _options(self) -> dict[str, Any]:
        return {"num_cpus": 1, "num_gpus": self.gpus, "max_retries": self.retries, "retry_exceptions": True}

    def run(self, jobs: Sequence[Job], on_done: OnDone, on_failed: OnFailed) -> None:
        remote = self.ray.remote(_call).options(**self._options())
        pending = {remote.remote(job.fn, *job.args): job for job in jobs}
        self._gather(pending, on_done, on_failed)

    def run_stateful(
        self, factory: Callable[[], Any], jobs: Sequence[Job], on_done: OnDone, on_failed: OnFailed
    ) -> None:
        if not jobs:
            return
        opts = {"num_cpus": 1, "num_gpus": self.gpus, "max_restarts": self.retries}
        actor = self.ray.remote(_Worker).options(**opts, max_task_retries=self.retries)
        workers = [actor.remote(factory) for _ in range(min(self.workers(), len(jobs)))]
        queue, pending = list(jobs), {}

        def refill(worker: Any) -> None:  # a worker that finished a job takes the next one
            if queue:
                job = queue.pop(0)
                pending[worker.call.remote(str(job.fn), *job.args)] = (job, worker)

        try:
            for worker in workers:
                refill(worker)
            self._gather(pending, on_done, on_failed, refill)
        finally:
            for worker in workers:
                self.ray.kill(worker)

    def _gather(self, pending: dict, on_done: OnDone, on_failed: OnFailed, refill: Any = None) -> None:
        ray = self.ray
        try:
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1)
                entry = pending.pop(ready[0])
                job, worker = entry if isinstance(entry, tuple) else (entry, None)
                try:
                    value = ray.get(ready[0])
                except ray.exceptions.RayTaskError as exc:
                    on_failed(job, _cause(exc))
                except (ray.exceptions.RayError, ToolkitError) as exc:  # a worker or node died
                    on_failed(job, exc)
                else:
                    on_done(job, value)
                if refill is not None and worker is not None:
                    refill(worker)
        except BaseException:  # Ctrl-C or a failing callback: stop what still runs
            for ref in pending:
                try:
                    ray.cancel(ref, force=refill is None)  # actor tasks cannot be force-cancelled
                except Exception:  # noqa: BLE001 - best effort: the error being raised matters
                    pass
            raise

    def close(self) -> None:
        if self.owned and self.ray.is_initialized():
            self.ray.shutdown()


def _cause(exc: Any) -> BaseException:
    """The job's own exception out of Ray's wrapper (its message names folder and edit id)."""
    cause = getattr(exc, "cause", None)
    return cause if isinstance(cause, BaseException) else exc
