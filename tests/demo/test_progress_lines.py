"""common.progress: plain throttled lines when stderr is not a TTY, tqdm on a TTY, nothing when quiet."""

from __future__ import annotations

import io

from common.progress import LineProgress, progress


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_not_a_tty_gives_line_progress():
    stream = io.StringIO()
    bar = progress(total=5, desc="x", stream=stream)
    assert isinstance(bar, LineProgress)
    assert list(progress([1, 2, 3], desc="y", enabled=False, stream=stream)) == [1, 2, 3]
    assert stream.getvalue() == ""  # disabled: nothing, and the LineProgress has not written yet


def test_lines_every_ten_percent_with_rate_and_eta():
    stream, clock = io.StringIO(), FakeClock()
    bar = LineProgress(total=100, desc="translate de", unit="sent", stream=stream, clock=clock)
    for _ in range(100):
        clock.now += 0.5
        bar.update(1)
    bar.close()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 10  # every 10 %, and close adds nothing new at 100 %
    assert lines[0] == "translate de: 10/100 sent (10%), 2.00 sent/s, elapsed 00:05, ETA 00:45"
    assert lines[-1].startswith("translate de: 100/100 sent (100%)") and "ETA" not in lines[-1]


def test_lines_every_thirty_seconds_when_slow():
    stream, clock = io.StringIO(), FakeClock()
    bar = LineProgress(total=1000, desc="editing", unit="row", stream=stream, clock=clock)
    for _ in range(3):
        clock.now += 31
        bar.update(1)
    bar.close()  # nothing new since the last line: no extra line
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3 and lines[0].startswith("editing: 1/1000 row (0%)")
    assert lines[0].endswith("ETA 8:36:09")
    bar = LineProgress(total=10, desc="train", unit="step", stream=stream, clock=clock)
    bar.set_postfix(val_acc="0.5")
    bar.update(1)
    assert stream.getvalue().splitlines()[-1].endswith("val_acc=0.5")


def test_iterating_without_total_and_context_manager():
    stream = io.StringIO()
    with LineProgress(iter(range(3)), desc="encoding", stream=stream) as bar:
        assert list(bar) == [0, 1, 2]
    assert stream.getvalue().splitlines()[-1].startswith("encoding: 3 it")


def test_tty_gives_tqdm():
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Tty()
    with progress(total=2, desc="tty", stream=stream) as bar:
        bar.update(2)
    import tqdm

    assert isinstance(bar.bar, tqdm.tqdm) and "tty" in stream.getvalue() and "2/2" in stream.getvalue()


def test_a_line_comes_while_work_runs_without_updates():
    """Off a TTY a line comes at least every `every_seconds` while the phase runs, also when no unit
    finishes in between (a long edit, one big translation shard)."""
    import time

    stream = io.StringIO()
    bar = LineProgress(total=10, desc="editing", unit="row", stream=stream, every_seconds=0.1)
    time.sleep(0.45)
    bar.close()
    lines = stream.getvalue().splitlines()
    assert len(lines) >= 3 and all(line.startswith("editing: 0/10 row") for line in lines)


def test_rate_and_eta_count_only_work_done_in_this_process():
    """After a resume, units restored from a checkpoint advance the count but not the rate: a run
    resumed at 1,000 of 1,010 rows and doing 10 rows in 10 s shows 1.00 row/s, not 101."""
    clock = iter([0.0, 0.0, 0.0] + [float(t) for t in range(1, 100)])
    stream = io.StringIO()
    bar = LineProgress(
        total=1010, desc="editing", unit="row", stream=stream, clock=lambda: next(clock), heartbeat=False
    )
    bar.update(1000, resumed=True)
    for _ in range(5):
        bar.update(1)
    line = bar.line(10.0)
    assert "1005/1010 row" in line and "(1000 resumed)" in line and "0.50 row/s" in line
    assert "ETA 00:10" in line
