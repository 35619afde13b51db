"""Provenance helpers: package version, git SHA, SHA-256 of inputs, atomic writes, timings."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any


def package_version() -> str:
    from xfever import __version__

    return __version__


@cache
def git_sha() -> str | None:
    """Commit of the checkout this package runs from (`+dirty` when it has local changes); None if none."""
    here = Path(__file__).resolve().parent
    try:
        sha = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(here), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return sha + ("+dirty" if dirty else "") if sha else None


_ENV_PACKAGES = ("torch", "transformers", "ctranslate2", "datasets", "pyarrow", "huggingface_hub")


def environment(devices: Iterable[str] = ()) -> dict[str, Any]:
    """Python, platform, versions of the libraries that shape the output, and the GPU if `devices` (the
    translators' resolved devices) used one."""
    import platform
    from importlib import metadata

    versions = {}
    for name in _ENV_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    env: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": f"{platform.system()} {platform.machine()}",
        "packages": versions,
    }
    used = sorted({str(d) for d in devices if str(d).startswith("cuda")})
    if used:
        env["gpu"] = _gpu_name(used[0])
    return env


def _gpu_name(device: str) -> str:
    try:
        import torch

        return torch.cuda.get_device_name(torch.device(device))
    except (AssertionError, RuntimeError, ValueError) as err:  # a torch without CUDA, with ct2 on a GPU
        return f"unknown ({type(err).__name__}: {err})"


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def public_location(location: str) -> str:
    """A Hub id as it is; a local file or folder by its name only (published files name no machine paths)."""
    path = Path(location).expanduser()
    if path.is_absolute() or location.startswith((".", "~")) or path.exists():
        return path.name
    return location


@cache
def _file_mode() -> int:
    """Mode of a newly created file under the process umask (mkstemp's 0600 would hide outputs)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    """Write to a temporary file in the same folder, then rename over `path` (usual file mode)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, _file_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path: str | Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: str | Path, data: Any) -> None:
    write_text_atomic(path, json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n")


class Timings:
    """Named wall-clock timings in seconds; only build.json holds them (never parquet or the card)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def time(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = round(self.seconds.get(name, 0.0) + time.perf_counter() - start, 3)
