"""`EvalConfig`: everything one evaluation run needs, as one frozen, JSON-round-trippable dataclass."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from common.errors import ToolkitError
from harness.model.views import DROPOUTS


@dataclass(frozen=True)
class EvalConfig:
    """Settings of `harness.evaluate`; defaults are the paper's (protocol.md) where it has one."""

    model: str
    dataset: str
    editor: str = "tpatcher"
    editor_options: dict[str, Any] = field(default_factory=dict)
    task: str = "xfever"  # suite loader: xfever | xnli
    folders: int = 20  # each folder edited from the original model; 1 = one lifelong sequence
    max_edits: int | None = None  # first N edit rows only (quick runs)
    seed: int = 0  # every random choice of the editing (per-edit seeds derive from it)
    langs: tuple[str, ...] | None = None  # CLG languages; None = all in the dataset
    label_map: dict[str, int] | None = None
    max_length: int = 32
    locality_train_size: int = 10_000
    memory_size: int = 40_000  # training [CLS] vectors in T-Patcher's memory
    data_seed: int = 0  # fixes the locality-train subset and the memory sample
    cache: bool = True  # cached-[CLS] path for editors that change only the last FFN
    dropout: str = "patch"  # none | patch | model (model: full path only)
    model_revision: str | None = None
    dataset_revision: str | None = None
    trust_remote_code: bool = False
    batch_size: int = 64
    device: str = "cpu"
    cache_dir: str | None = None  # on-disk [CLS] vector cache
    out_dir: str | None = None  # run folder; per-folder results are written there as they finish
    progress: bool = True
    checkpoint_every: int = 50  # with out_dir: checkpoint every K edit rows (0: only after each folder)
    subset: str | None = None  # edit rows chosen from the original model's predictions (all-wrong)
    memory_data: str | None = None  # XNLI: T-Patcher memory rows (default nyu-mll/multi_nli train)
    bootstrap_resamples: int = 1000  # 95 % intervals over rows for every metric
    bootstrap_seed: int = 0

    def __post_init__(self) -> None:
        if self.folders < 1:
            raise ToolkitError(f"--folders: must be >= 1, got {self.folders}")
        if self.max_edits is not None and self.max_edits < 1:
            raise ToolkitError(f"--max-edits: must be >= 1, got {self.max_edits}")
        if self.dropout not in DROPOUTS:
            raise ToolkitError(f"--dropout: expected one of {DROPOUTS}, got {self.dropout!r}")
        if self.max_length < 2 or self.batch_size < 1:
            raise ToolkitError("--max-length must be >= 2 and --batch-size >= 1")
        if self.checkpoint_every < 0:
            raise ToolkitError(f"--checkpoint-every: must be >= 0, got {self.checkpoint_every}")
        if self.task not in ("xfever", "xnli"):
            raise ToolkitError(f"--task: expected xfever or xnli, got {self.task!r}")
        if self.bootstrap_resamples < 1:
            raise ToolkitError(f"--bootstrap-resamples: must be >= 1, got {self.bootstrap_resamples}")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["langs"] = list(self.langs) if self.langs is not None else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvalConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ToolkitError(f"config: unknown setting(s) {unknown}")
        data = dict(data)
        if data.get("langs") is not None:
            data["langs"] = tuple(data["langs"])
        return cls(**data)
