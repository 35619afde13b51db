"""One progress display for both packages: a tqdm bar on a terminal, plain lines otherwise.

`progress(...)` gives one bar per phase (translation per language, encoding, editing, training):
with rate and ETA on a terminal; when stderr is not a TTY (CI logs, `nohup`, a pipe) it writes a
plain line every 10 % of the total and at least every 30 s while the phase runs, instead of
carriage-return redraws (rates and ETA count only the work done in this process); disabled
(`enabled=False`, the CLIs' `--quiet`) it shows nothing. Like tqdm, it writes to stderr: this is the
progress display, not a result. `quiet_libraries()` silences the bars and info logs of `datasets`,
`transformers` and `huggingface_hub` (model loading, "Generating ... split") for `--quiet`.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

LOG_EVERY_FRACTION = 0.1
LOG_EVERY_SECONDS = 30.0


def _is_tty(stream: Any) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (ValueError, OSError):  # a closed stream
        return False


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


class LineProgress:
    """The non-TTY display: `desc: n/total unit (pct) rate, elapsed, ETA` lines, throttled.

    A line comes every `every_fraction` of the total and at least every `every_seconds` while the
    phase runs, also when no unit finishes in between (a heartbeat thread writes it), so a log never
    goes quiet for long. Rate and ETA count only the work done in this process: units marked
    `resumed` (restored from a checkpoint or a previous run's shards) advance the count, not the rate.
    """

    def __init__(
        self,
        iterable: Iterable[Any] | None = None,
        *,
        total: int | None = None,
        desc: str = "",
        unit: str = "it",
        stream: TextIO | None = None,
        every_fraction: float = LOG_EVERY_FRACTION,
        every_seconds: float = LOG_EVERY_SECONDS,
        clock: Any = time.monotonic,
        heartbeat: bool = True,
    ) -> None:
        if total is None and iterable is not None and hasattr(iterable, "__len__"):
            total = len(iterable)  # type: ignore[arg-type]
        self.iterable, self.total, self.desc, self.unit = iterable, total, desc, unit
        self.stream = stream if stream is not None else sys.stderr
        self.every_fraction, self.every_seconds, self.clock = every_fraction, every_seconds, clock
        self.n = 0
        self.resumed = 0  # units not done by this process (excluded from rate and ETA)
        self.started = self.last_time = clock()
        self.last_n = 0
        self.closed = False
        self.postfix = ""
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None
        if heartbeat and every_seconds > 0:
            self._beat = threading.Thread(target=self._heartbeat, name=f"progress {desc}", daemon=True)
            self._beat.start()

    def _heartbeat(self) -> None:
        while not self._stop.wait(min(self.every_seconds, 5.0)):
            with self._lock:
                now = self.clock()
                if not self.closed and now - self.last_time >= self.every_seconds:
                    self._write(now)

    def update(self, n: int = 1, *, resumed: bool = False) -> None:
        with self._lock:
            self.n += n
            if resumed:
                self.resumed += n
            now = self.clock()
            step = self.every_fraction * self.total if self.total else None
            due_count = step is not None and self.n - self.last_n >= max(step, 1)
            if due_count or now - self.last_time >= self.every_seconds:
                self._write(now)

    def set_postfix(self, **values: Any) -> None:
        self.postfix = ", ".join(f"{k}={v}" for k, v in values.items())

    def set_description(self, desc: str) -> None:
        self.desc = desc

    def line(self, now: float | None = None) -> str:
        now = self.clock() if now is None else now
        elapsed = max(now - self.started, 1e-9)
        rate = (self.n - self.resumed) / elapsed
        count = f"{self.n}/{self.total}" if self.total else f"{self.n}"
        parts = [f"{self.desc}: {count} {self.unit}"]
        if self.total:
            parts[0] += f" ({100 * self.n / self.total:.0f}%)"
        if self.resumed:
            parts[0] += f" ({self.resumed} resumed)"
        parts.append(f"{rate:.2f} {self.unit}/s, elapsed {_duration(elapsed)}")
        if self.total and rate > 0 and self.n < self.total:
            parts.append(f"ETA {_duration((self.total - self.n) / rate)}")
        if self.postfix:
            parts.append(self.postfix)
        return ", ".join(parts)

    def _write(self, now: float) -> None:
        self.stream.write(self.line(now) + "\n")
        self.stream.flush()
        self.last_time, self.last_n = now, self.n

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            if not self.closed:
                self.closed = True
                if self.n != self.last_n or self.n == 0:
                    self._write(self.clock())

    def __iter__(self) -> Iterator[Any]:
        try:
            for item in self.iterable or ():
                yield item
                self.update(1)
        finally:
            self.close()

    def __enter__(self) -> LineProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class BarProgress:
    """The TTY display: tqdm's bar, with `resumed` units that move the bar but not the rate."""

    def __init__(self, bar: Any) -> None:
        self.bar = bar

    @property
    def n(self) -> int:
        return int(self.bar.n)

    def update(self, n: int = 1, *, resumed: bool = False) -> None:
        if resumed:  # tqdm's rate is (n - initial) / elapsed: count the restored units as initial
            self.bar.n += n
            self.bar.initial += n
            self.bar.last_print_n = self.bar.n
            self.bar.refresh()
        else:
            self.bar.update(n)

    def set_postfix(self, **values: Any) -> None:
        self.bar.set_postfix(**values)

    def set_description(self, desc: str) -> None:
        self.bar.set_description(desc)

    def close(self) -> None:
        self.bar.close()

    def __iter__(self) -> Iterator[Any]:
        yield from self.bar

    def __enter__(self) -> BarProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _NoProgress:
    """The disabled display: counts, shows nothing."""

    def __init__(self, iterable: Iterable[Any] | None = None, total: int | None = None) -> None:
        self.iterable, self.total, self.n = iterable, total, 0

    def update(self, n: int = 1, *, resumed: bool = False) -> None:
        self.n += n

    def set_postfix(self, **values: Any) -> None:
        pass

    def set_description(self, desc: str) -> None:
        pass

    def close(self) -> None:
        pass

    def __iter__(self) -> Iterator[Any]:
        yield from self.iterable or ()

    def __enter__(self) -> _NoProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def progress(
    iterable: Iterable[Any] | None = None,
    *,
    total: int | None = None,
    desc: str = "",
    unit: str = "it",
    enabled: bool = True,
    stream: TextIO | None = None,
) -> Any:
    """A progress display for one phase: tqdm (rate, ETA) on a TTY, plain lines otherwise, or nothing.

    Use it like tqdm: iterate over it, or `update(n)` and `close()` (also a context manager).
    """
    if not enabled:
        return _NoProgress(iterable, total)
    stream = stream if stream is not None else sys.stderr
    if not _is_tty(stream):
        return LineProgress(iterable, total=total, desc=desc, unit=unit, stream=stream)
    from tqdm.auto import tqdm

    return BarProgress(tqdm(iterable, total=total, desc=desc, unit=unit, file=stream, dynamic_ncols=True))


def quiet_libraries() -> None:
    """Silence the progress bars and info logs of datasets, transformers and huggingface_hub."""
    import os

    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    os.environ["TRANSFORMERS_NO_ADVISORY_WARNINGS"] = "1"
    import datasets
    import huggingface_hub.utils
    import transformers.utils.logging as tf_logging

    datasets.disable_progress_bars()
    datasets.logging.set_verbosity_error()
    tf_logging.disable_progress_bar()
    tf_logging.set_verbosity_error()
    huggingface_hub.utils.disable_progress_bars()
