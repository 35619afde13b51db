"""Process measurements the benchmarks share: resident memory now, and the bytes a run writes into
its checkpoint folder (counted where the harness commits files: `os.replace`, see common.io)."""

from __future__ import annotations

import os


def rss_bytes() -> int:
    """Resident set size of this process now (Linux: /proc/self/statm)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def count_checkpoint_bytes() -> dict[str, int]:
    """From now on, every file this process moves into a `checkpoint` folder adds its size to the
    returned counter's "bytes" (os.replace is wrapped for the rest of the process: benchmark
    children only)."""
    written = {"bytes": 0}
    real_replace = os.replace

    def counting_replace(src, dst, *a, **k):
        if f"{os.sep}checkpoint{os.sep}" in str(dst):
            written["bytes"] += os.path.getsize(src)
        return real_replace(src, dst, *a, **k)

    os.replace = counting_replace
    return written
