"""Session-scoped fixtures shared by the test modules: real data sample, tiny models built on the spot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from xfever.data import sample_path


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread():
    """Tiny models gain nothing from torch's thread pool, and on a busy 2-core machine it made them
    5-20x slower (measured); restored when the session ends."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def fever_sample() -> Path:
    """The bundled 239 real FEVER dev claims (KILT shape, no rephrases)."""
    return sample_path()


@pytest.fixture(scope="session")
def fever_claims(fever_sample: Path) -> list[str]:
    return [json.loads(line)["input"] for line in fever_sample.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="session")
def ray_local():
    """One private Ray for the `ray`-marked tests (2 CPUs, as on CI), shut down when they end."""
    ray = pytest.importorskip("ray", reason="the `dist` extra (ray) is not installed")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The longest group (the findings on the testbed) first, so the two workers of
    `-n 2 --dist loadgroup` finish together instead of one waiting for it at the end."""
    items.sort(key=lambda item: item.get_closest_marker("xdist_group") is None)
