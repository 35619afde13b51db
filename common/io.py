"""Files that are never half-written, and output folders that have one writer at a time.

Every output of both packages goes through these: write to a temporary name in the same folder,
then rename over the target (`os.replace` is atomic on POSIX and Windows), so a crash leaves either
the old file or the new one. `OutputLock` refuses a second process writing the same output.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from common.errors import ToolkitError


@cache
def _file_mode() -> int:
    """Mode of a newly created file under the process umask (mkstemp's 0600 would hide outputs)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_atomic(path: str | Path, write: Callable[[Path], Any]) -> Path:
    """Call `write(tmp)` on a temporary path beside `path`, then rename it over `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.chmod(tmp, _file_mode())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_bytes_atomic(path: str | Path, data: bytes) -> Path:
    return write_atomic(path, lambda tmp: tmp.write_bytes(data))


def write_text_atomic(path: str | Path, text: str) -> Path:
    return write_bytes_atomic(path, text.encode("utf-8"))


def to_json(data: Any, *, indent: int | None = 2) -> str:
    """The one JSON rendering of outputs: UTF-8 kept, unknown objects as strings, final newline."""
    return json.dumps(data, indent=indent, ensure_ascii=False, default=str) + "\n"


def write_json_atomic(path: str | Path, data: Any, *, indent: int | None = 2) -> Path:
    return write_text_atomic(path, to_json(data, indent=indent))


def write_parquet_atomic(path: str | Path, frame: Any) -> Path:
    """A pandas DataFrame or pyarrow Table as parquet (no pandas index)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = frame if isinstance(frame, pa.Table) else pa.Table.from_pandas(frame, preserve_index=False)
    return write_atomic(path, lambda tmp: pq.write_table(table, tmp))


def torch_save_atomic(path: str | Path, obj: Any) -> Path:
    import torch

    return write_atomic(path, lambda tmp: torch.save(obj, tmp))


def read_json(path: str | Path, what: str = "") -> Any:
    """JSON from `path`; an unreadable or malformed file is a ToolkitError naming it (and the line)."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ToolkitError(f"{path}:{exc.lineno}: not valid JSON{what} ({exc.msg})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ToolkitError(f"{path}: cannot read it{what} ({exc})") from None


class OutputLock:
    """An exclusive, advisory lock on an output folder (or a file's folder) for one process.

    A second writer gets a ToolkitError naming the folder and the holder's pid at once, instead of
    both running for minutes and then one crashing. The lock is an `fcntl.flock` on the hidden file
    `.<name>.lock` beside the folder, not inside it (outputs stay byte-identical, and an empty folder
    stays empty); the OS releases it when the process dies, so a killed run never blocks the next
    one. Where `fcntl` is missing (Windows) it is a no-op.
    """

    def __init__(self, folder: str | Path, what: str = "output folder") -> None:
        self.folder = Path(folder)
        self.what = what
        self._handle: Any = None

    @property
    def path(self) -> Path:
        return self.folder.parent / f".{self.folder.name}.lock"

    def acquire(self) -> OutputLock:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            handle = self.path.open("a+", encoding="utf-8")
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                handle.close()
                raise ToolkitError(
                    f"{self.folder}: this {self.what} is being written by {holder}; wait for it to "
                    "finish (or stop it) before running another command on the same output"
                ) from None
            # the holder before us may have removed the file after we opened it: lock the live one
            try:
                same = os.stat(self.path).st_ino == os.fstat(handle.fileno()).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            handle.close()
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}\n")
        handle.flush()
        self._handle = handle
        return self

    def release(self, *, remove: bool = True) -> None:
        if self._handle is None:
            return
        if remove:
            self.path.unlink(missing_ok=True)
        self._handle.close()  # closing releases the flock
        self._handle = None

    def __enter__(self) -> OutputLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
