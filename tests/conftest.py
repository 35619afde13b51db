"""Session-scoped fixtures shared by the test modules: real data sample, tiny models built on the spot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from xfever.data import sample_path


@pytest.fixture(scope="session")
def fever_sample() -> Path:
    """The bundled 239 real FEVER dev claims (KILT shape, no rephrases)."""
    return sample_path()


@pytest.fixture(scope="session")
def fever_claims(fever_sample: Path) -> list[str]:
    return [json.loads(line)["input"] for line in fever_sample.read_text(encoding="utf-8").splitlines()]
