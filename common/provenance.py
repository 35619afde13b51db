"""What produced an output: the toolkit's version and git SHA, the software and hardware, timings.

One implementation for both packages. `git_sha()` is the commit of the *toolkit* (not of whatever
repository the user runs it from): the `vcs_info` of an install from git (PEP 610
`direct_url.json`), else the git checkout that an editable install or a source tree points at, and
only when that checkout's top folder is the toolkit's own (a wheel installed into a virtualenv that
lives inside a user's repository records no SHA rather than the user's).
"""

from __future__ import annotations

import datetime
import json
import platform
import subprocess
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

DISTRIBUTION = "xfever"  # the one distribution that ships common, xfever and harness
_PACKAGES = (
    "torch", "transformers", "tokenizers", "datasets", "pyarrow", "huggingface_hub", "numpy",
    "ctranslate2", "ray",
)  # fmt: skip


@cache
def package_version() -> str:
    """The installed distribution's version (one version string for both CLIs and every output)."""
    from importlib import metadata

    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:  # imported from a source tree that was never installed
        return "0+unknown"


def _git(folder: Path, *args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(folder), *args], capture_output=True, text=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


def _direct_url() -> dict[str, Any]:
    from importlib import metadata

    try:
        text = metadata.distribution(DISTRIBUTION).read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        return {}
    try:
        return json.loads(text) if text else {}
    except ValueError:
        return {}


def source_tree() -> Path | None:
    """The folder the toolkit's source was installed from or runs from, if it is a git checkout's top."""
    url = _direct_url()
    candidates = []
    if url.get("url", "").startswith("file://") and url.get("dir_info", {}).get("editable"):
        candidates.append(Path(unquote(urlparse(url["url"]).path)))
    candidates.append(Path(__file__).resolve().parent.parent)  # the folder holding common/
    for folder in candidates:
        top = _git(folder, "rev-parse", "--show-toplevel")
        if top and Path(top).resolve() == folder.resolve():
            return folder
    return None


@cache
def git_sha() -> str | None:
    """The toolkit's commit, `+dirty` when its checkout has uncommitted changes; None when unknown."""
    vcs = _direct_url().get("vcs_info") or {}
    if vcs.get("commit_id"):
        return str(vcs["commit_id"])
    folder = source_tree()
    if folder is None:
        return None
    sha = _git(folder, "rev-parse", "HEAD")
    if not sha:
        return None
    dirty = _git(folder, "status", "--porcelain", "--untracked-files=no")
    return sha + ("+dirty" if dirty else "")


def _versions() -> dict[str, str | None]:
    from importlib import metadata

    versions: dict[str, str | None] = {}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment(devices: Iterable[str] = ()) -> dict[str, Any]:
    """Python, platform, CPU, torch threads, library versions, and the GPU (with CUDA and cuDNN
    versions) when one of `devices` (what actually ran: "cpu", "cuda", "cuda:1") is a GPU."""
    import os

    env: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": f"{platform.system()} {platform.machine()}",
        "cpu": _cpu_name(),
        "cpu_count": os.cpu_count(),
        "packages": _versions(),
    }
    try:
        import torch

        env["torch_threads"] = torch.get_num_threads()
        env["cuda"] = torch.version.cuda
    except ImportError:  # pragma: no cover - torch is a core dependency
        pass
    used = sorted({str(d) for d in devices if str(d).startswith("cuda")})
    if used:
        env["gpu"] = _gpu_name(used[0])
        try:
            import torch

            env["cudnn"] = torch.backends.cudnn.version()
        except (ImportError, RuntimeError):
            env["cudnn"] = None
    return env


def _gpu_name(device: str) -> str:
    try:
        import torch

        return torch.cuda.get_device_name(torch.device(device))
    except (AssertionError, RuntimeError, ValueError) as err:  # a torch without CUDA, with ct2 on a GPU
        return f"unknown ({type(err).__name__}: {err})"


def provenance(devices: Iterable[str] = ()) -> dict[str, Any]:
    """The header every output carries: version, git SHA, creation time, environment."""
    return {
        "package_version": package_version(),
        "git_sha": git_sha(),
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "environment": environment(devices),
    }


def public_location(location: str) -> str:
    """A Hub id as it is; a local file or folder by its name only (published files name no machine paths)."""
    path = Path(location).expanduser()
    if path.is_absolute() or location.startswith((".", "~")) or path.exists():
        return path.name
    return location


class Timings:
    """Named wall-clock timings in seconds, accumulated per name."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def time(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = round(self.seconds.get(name, 0.0) + time.perf_counter() - start, 3)
