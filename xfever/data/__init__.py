"""Bundled data: a 239-claim sample of real FEVER dev claims (CC BY-SA 3.0, see README.md here)."""

from __future__ import annotations

from importlib.resources import as_file, files
from pathlib import Path

SAMPLE_NAME = "fever_dev_claims_sample.kilt.jsonl"


def sample_path() -> Path:
    """Path of the bundled FEVER sample (KILT shape, no rephrases)."""
    with as_file(files(__name__).joinpath(SAMPLE_NAME)) as path:
        return Path(path)
