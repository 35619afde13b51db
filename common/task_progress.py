"""Progress over an executor's jobs: one bar of work units (edit rows, sentences) with rate and ETA,
`folders done/total` beside it, and off a terminal a line per finished or failed job.

Units of jobs finished by an earlier, interrupted run count as `resumed` (they move the count, not
the rate). Like `common.progress`, everything goes to stderr; `enabled=False` shows nothing.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from common.progress import _duration, _is_tty, progress


class TaskProgress:
    def __init__(
        self,
        jobs: int,
        total_units: int,
        *,
        resumed: int = 0,
        desc: str = "editing",
        unit: str = "row",
        task: str = "folder",
        enabled: bool = True,
        stream: TextIO | None = None,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled, self.jobs, self.task = enabled, jobs, task
        self.finished = self.failures = self.edits = 0
        self.lines = enabled and not _is_tty(self.stream)
        self.started = time.monotonic()
        self.bar = progress(total=total_units, desc=desc, unit=unit, enabled=enabled, stream=self.stream)
        if resumed:
            self.bar.update(resumed, resumed=True)
        self._postfix()

    def _postfix(self) -> None:
        values = {f"{self.task}s": f"{self.finished + self.failures}/{self.jobs}"}
        if self.edits:
            values["edits"] = self.edits
        if self.failures:
            values["failed"] = self.failures
        self.bar.set_postfix(**values)

    def _line(self, text: str) -> None:
        if self.lines:
            elapsed = _duration(time.monotonic() - self.started)
            count = f"{self.finished + self.failures}/{self.jobs} {self.task}s"
            self.stream.write(f"[{count}, {elapsed}] {text}\n")
            self.stream.flush()

    def done(self, job: Any, edits: int = 0) -> None:
        self.finished += 1
        self.edits += edits
        self._postfix()
        self.bar.update(job.cost)
        self._line(f"done: {job.label}" + (f" ({edits} edits)" if edits else ""))

    def failed(self, job: Any, message: str) -> None:
        self.failures += 1
        self._postfix()
        self.bar.update(job.cost)
        self._line(f"FAILED: {message}")

    def close(self) -> None:
        self.bar.close()
