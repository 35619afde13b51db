"""The executor abstraction without Ray: the local executor, retries, progress lines, and that the
default path imports no Ray."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest

from common.errors import UsageError
from common.executor import Executor, Job, make_executor, resolve
from common.task_progress import TaskProgress


def test_local_executor_retries_then_reports_and_keeps_the_others() -> None:
    calls: dict[str, int] = {}

    def work(name: str) -> str:
        calls[name] = calls.get(name, 0) + 1
        if name == "bad" or (name == "flaky" and calls[name] == 1):
            raise RuntimeError(f"{name} failed")
        return name.upper()

    jobs = [Job(n, work, (n,)) for n in ("a", "flaky", "bad", "b")]
    done, failed = [], []
    Executor(retries=1).run(jobs, lambda j, v: done.append(v), lambda j, e: failed.append((j.label, str(e))))
    assert done == ["A", "FLAKY", "B"]
    assert failed == [("bad", "bad failed")]
    assert calls == {"a": 1, "flaky": 2, "bad": 2, "b": 1}


def test_local_stateful_builds_one_worker() -> None:
    built = []

    class Worker:
        def __init__(self) -> None:
            built.append(1)

        def square(self, x: int) -> int:
            return x * x

    done = []
    jobs = [Job(str(i), "square", (i,)) for i in range(4)]
    Executor().run_stateful(Worker, jobs, lambda j, v: done.append(v), lambda j, e: pytest.fail(str(e)))
    assert done == [0, 1, 4, 9] and built == [1]


def test_share_and_resolve_locally_is_the_object() -> None:
    obj = {"x": 1}
    assert resolve(Executor().share(obj)) is obj


def test_bad_executor_and_retries() -> None:
    with pytest.raises(UsageError, match="--executor: expected one of"):
        make_executor("dask")
    with pytest.raises(UsageError, match="--retries: must be >= 0"):
        make_executor("local", retries=-1)


def test_local_path_imports_no_ray() -> None:
    code = (
        "import sys; import common.executor, harness.protocol.run, harness.protocol.distributed, "
        "xfever.build; print('ray' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_task_progress_lines_off_a_tty() -> None:
    stream = io.StringIO()
    bar = TaskProgress(3, 30, resumed=10, stream=stream)
    bar.done(Job("run folder 1", print, cost=10), edits=4)
    bar.failed(Job("run folder 2", print, cost=10), "run folder 2: edit id 'x': boom")
    bar.close()
    text = stream.getvalue()
    assert "[1/3 folders, 00:00] done: run folder 1 (4 edits)" in text
    assert "[2/3 folders, 00:00] FAILED: run folder 2: edit id 'x': boom" in text
    assert "editing: 30/30 row (100%) (10 resumed)" in text and "folders=2/3" in text
    assert "failed=1" in text
