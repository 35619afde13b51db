"""`EvalConfig`: every setting of one evaluation run, as one frozen, JSON-round-trippable dataclass.

The defaults and help text live here, once: `harness eval` and `harness reproduce` read their options
from these fields (`common.cli`), `--config FILE.yaml` takes the same keys, and results.json records
`to_dict()`. The paper's values are the defaults where it has one (protocol: `harness/protocol/`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass, fields
from typing import Any

from common.device import DEFAULT_THREADS, DEVICE_HELP, THREADS_HELP
from common.errors import UsageError
from common.executor import EXECUTORS
from common.settings import csv_tuple, setting
from harness.data.xnli import XNLI_ID

DROPOUTS = ("none", "patch", "model")
AUTO = "auto"  # resolved from the editor's preset (harness.editors.presets.RUN_PRESETS)
HEAD_DROPOUTS = ("on", "off")
EDIT_ROWS = ("all", "rephrased")
FOLDER_ORDERS = ("contiguous", "random")
RUN_CHOICES = {
    "dropout": DROPOUTS,
    "head_dropout": HEAD_DROPOUTS,
    "edit_rows": EDIT_ROWS,
    "folder_order": FOLDER_ORDERS,
}
TASKS = ("xfever", "xnli")
SUBSETS = ("all-wrong",)
TASK_MAX_LENGTH = {"xfever": 32, "xnli": 128}  # Table 4
ENCODE_DTYPES = ("float32", "bfloat16")


def _editor_options(value: Any) -> dict[str, Any]:
    from harness.editors.options import parse_options

    if isinstance(value, dict):
        return dict(value)
    return parse_options([value] if isinstance(value, str) else list(value))


def _label_map(value: Any) -> dict[str, int] | None:
    from harness.model.loading import parse_label_map

    return parse_label_map(value)


@dataclass(frozen=True)
class EvalConfig:
    """Settings of `harness.evaluate`; each field's help is the CLI's help."""

    model: str = setting(help="Hub id (ID or ID@REVISION) or folder of a sequence classifier.")
    dataset: str | None = setting(
        None,
        help="XFEVER Hub id (ID or ID@REVISION) or folder written by `xfever build`; `xnli` for "
        "facebook/xnli (the default of --task xnli).",
        show="required for xfever",
    )
    editor: Any = setting(
        "tpatcher",
        help="Editor: an alias (none, ft, tpatcher, mpn, mpn-all, ft-mpn), MODULE:OBJECT or FILE.py:OBJECT "
        "(from Python also an editor object or function).",
    )
    editor_options: dict[str, Any] = setting(
        help="Editor option KEY=VALUE (repeatable; see the editor's settings).",
        factory=dict,
        flag="--editor-opt",
        multiple=True,
        metavar="KEY=VALUE",
        parse=_editor_options,
        aliases=("editor_opt", "editor_opts"),
    )
    task: str = setting("xfever", help="Suite: xfever or xnli.", choices=TASKS)
    folders: int = setting(20, help="Folders edited independently from the original model; 1 = lifelong.")
    max_edits: int | None = setting(None, help="Only the first N edit rows (quick runs).")
    seed: int = setting(0, help="Seed of every random choice of the editing.")
    langs: tuple[str, ...] | None = setting(
        None, help="CLG languages, comma-separated (default: all in the dataset).", parse=csv_tuple
    )
    label_map: dict[str, int] | None = setting(
        None, help="Dataset labels to logit indices, e.g. SUPPORTS=1,REFUTES=0.", parse=_label_map
    )
    force_label_map: bool = setting(
        False, help="Use --label-map even where it contradicts the head's own label names."
    )
    max_length: int | None = setting(
        None, help="Tokens per text; default the task's (Table 4: 32 XFEVER, 128 XNLI).", show="by task"
    )
    locality_train_size: int = setting(10_000, help="Rows of the locality-train subset of `train`.")
    memory_size: int = setting(40_000, help="Training rows in T-Patcher's memory (disjoint from locality).")
    data_seed: int = setting(0, help="Seed of the locality-train subset and the memory sample.")
    cache: bool = setting(
        True, help="The exact cached-[CLS] path for editors that change only the last FFN.", flag="--cache"
    )
    dropout: str = setting(
        AUTO,
        help="Dropout of the editors' training copies: none, patch (input of the patch only) or model "
        "(train mode, every layer; full path); auto: the editor preset's (fast: patch, reference: model).",
        choices=(AUTO, *DROPOUTS),
    )
    head_dropout: str = setting(
        AUTO,
        help="With --dropout model, the dropout before the classifier: on, or off as in the reference; "
        "auto: the editor preset's (fast: on, reference: off).",
        choices=(AUTO, *HEAD_DROPOUTS),
    )
    edit_rows: str = setting(
        AUTO,
        help="Edit rows: all, or rephrased (rows without rephrases dropped, as the reference's loader "
        "does); auto: the editor preset's (fast: all, reference: rephrased).",
        choices=(AUTO, *EDIT_ROWS),
    )
    folder_order: str = setting(
        AUTO,
        help="Folders: contiguous in dataset order, or random (random split, random order inside, "
        "seeded by --seed) as the reference; auto: the editor preset's (fast: contiguous, "
        "reference: random).",
        choices=(AUTO, *FOLDER_ORDERS),
    )
    model_revision: str | None = setting(None, help="Revision of --model (or write ID@REVISION).")
    dataset_revision: str | None = setting(None, help="Revision of --dataset (or write ID@REVISION).")
    trust_remote_code: bool = setting(False, help="Allow the model's own code from the Hub to run.")
    batch_size: int = setting(64, help="Texts per forward pass when encoding and scoring.")
    device: str = setting("auto", help=DEVICE_HELP)
    cache_dir: str | None = setting(None, help="On-disk cache of [CLS] vectors, shared between runs.")
    encode_dtype: str = setting(
        "float32",
        help="Precision of the one-time encoding: float32 (exact) or bfloat16 (faster on CPUs with "
        "AVX-512 BF16 / AMX and on GPUs; flips a few predictions: benchmarks/RESULTS.md).",
        choices=ENCODE_DTYPES,
    )
    threads: int = setting(
        DEFAULT_THREADS, help="CPU threads of torch (0: torch's default, one per core). " + THREADS_HELP
    )
    out_dir: str | None = setting(
        None, help="Run folder (default runs/EDITOR-fFOLDERS-sSEED).", flag="--out", cli=False
    )
    progress: bool = setting(True, help="Progress bars (the CLI's --quiet turns them off).", cli=False)
    checkpoint_every: int = setting(
        50, help="Checkpoint every K edit rows (and after each folder); 0: after folders only."
    )
    subset: str | None = setting(None, help="Table 3: all-wrong.", choices=SUBSETS)
    memory_data: str | None = setting(
        None, help="XNLI: T-Patcher memory rows (default nyu-mll/multi_nli train; 'locality')."
    )
    bootstrap_resamples: int = setting(1000, help="Resamples of every metric's 95 % interval.")
    bootstrap_seed: int = setting(0, help="Seed of the bootstrap intervals.")
    executor: str = setting(
        "local",
        help="Where folders run: local (this process) or ray (Ray tasks; extra `dist`).",
        choices=EXECUTORS,
    )
    ray_address: str | None = setting(
        None, help="Ray cluster: auto, HOST:PORT, or none for a private local Ray (--executor ray)."
    )
    gpus_per_task: float = setting(0.0, help="GPUs each Ray task reserves (fractions share a GPU).")
    retries: int = setting(1, help="Times a failed Ray task is retried before it is reported.")

    def __post_init__(self) -> None:
        self._resolve_ids()
        checks = {
            "--folders": (self.folders >= 1, "must be >= 1"),
            "--max-edits": (self.max_edits is None or self.max_edits >= 1, "must be >= 1"),
            "--max-length": (self.max_length is not None and self.max_length >= 2, "must be >= 2"),
            "--batch-size": (self.batch_size >= 1, "must be >= 1"),
            "--checkpoint-every": (self.checkpoint_every >= 0, "must be >= 0"),
            "--bootstrap-resamples": (self.bootstrap_resamples >= 1, "must be >= 1"),
            "--locality-train-size": (self.locality_train_size >= 0, "must be >= 0"),
            "--memory-size": (self.memory_size >= 0, "must be >= 0"),
            "--threads": (self.threads >= 0, "must be >= 0"),
            "--gpus-per-task": (self.gpus_per_task >= 0, "must be >= 0"),
            "--retries": (self.retries >= 0, "must be >= 0"),
        }
        for flag, (ok, rule) in checks.items():
            if not ok:
                value = getattr(self, flag[2:].replace("-", "_"))
                raise UsageError(f"{flag}: {rule}, got {value}")
        for name, allowed in RUN_CHOICES.items():
            value = getattr(self, name)
            if value != AUTO and value not in allowed:
                flag = "--" + name.replace("_", "-")
                raise UsageError(f"{flag}: expected one of {(AUTO, *allowed)}, got {value!r}")
        if self.encode_dtype not in ENCODE_DTYPES:
            raise UsageError(f"--encode-dtype: expected one of {ENCODE_DTYPES}, got {self.encode_dtype!r}")
        if self.executor not in EXECUTORS:
            raise UsageError(f"--executor: expected one of {EXECUTORS}, got {self.executor!r}")
        if self.task not in TASKS:
            raise UsageError(f"--task: expected xfever or xnli, got {self.task!r}")
        if self.subset is not None and self.subset not in SUBSETS:
            raise UsageError(f"--subset: expected one of {SUBSETS}, got {self.subset!r}")
        if self.langs is not None and not isinstance(self.langs, tuple):
            object.__setattr__(self, "langs", csv_tuple(self.langs))

    def _resolve_ids(self) -> None:
        """`--dataset xnli`, `ID@REVISION`, and the task's max_length: resolved once, here."""
        from pathlib import Path

        def put(name: str, value: Any) -> None:
            object.__setattr__(self, name, value)

        if self.dataset == "xnli" and not Path(self.dataset).is_dir():
            put("dataset", XNLI_ID)
            put("task", "xnli")
        if self.dataset is None:
            if self.task != "xnli":
                raise UsageError("--dataset: required (an XFEVER Hub id or a folder from `xfever build`)")
            put("dataset", XNLI_ID)
        for name in ("model", "dataset"):
            value, revision = getattr(self, name), getattr(self, f"{name}_revision")
            if isinstance(value, str) and "@" in value and not Path(value).exists():
                base, _, rev = value.rpartition("@")
                if revision is not None and revision != rev:
                    raise UsageError(f"--{name} {value}: revision {rev!r} but --{name}-revision {revision!r}")
                put(name, base)
                put(f"{name}_revision", rev)
        if self.max_length is None:
            put("max_length", TASK_MAX_LENGTH.get(self.task, 32))

    @property
    def editor_name(self) -> str:
        """The editor as results record it: the alias or import string, or an object's import path."""
        return editor_name(self.editor)

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["editor_options"] = dict(self.editor_options)
        data["editor"] = self.editor_name
        data["langs"] = list(self.langs) if self.langs is not None else None
        return asdict_safe(data)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvalConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise UsageError(f"config: unknown setting(s) {unknown}; known: {sorted(known)}")
        data = dict(data)
        if data.get("langs") is not None:
            data["langs"] = tuple(data["langs"])
        return cls(**data)

    def replace(self, **changes: Any) -> EvalConfig:
        return dataclasses.replace(self, **changes)

    def resolve_run_settings(
        self, declared: dict[str, str], editor: str
    ) -> tuple[EvalConfig, dict[str, Any]]:
        """This config with its `auto` run settings resolved from what the editor `declared` (its
        preset's needs, else the fast defaults); and, per setting, the value and where it came from."""
        from harness.editors.presets import RUN_DEFAULTS

        resolved, record = {}, {}
        for name in RUN_CHOICES:
            value = getattr(self, name)
            if value != AUTO:
                record[name] = {"value": value, "from": "explicit"}
                continue
            if name in declared:
                value, source = declared[name], f"editor {editor}"
            else:
                value, source = RUN_DEFAULTS[name], "default (fast)"
            resolved[name] = value
            record[name] = {"value": value, "from": source}
        return (self.replace(**resolved) if resolved else self), record


def editor_name(editor: Any) -> str:
    if isinstance(editor, str):
        return editor
    target = editor if callable(editor) and hasattr(editor, "__qualname__") else type(editor)
    return f"{getattr(target, '__module__', '?')}:{getattr(target, '__qualname__', repr(target))}"


def asdict_safe(data: dict[str, Any]) -> dict[str, Any]:
    """`data` with dataclass values turned into dicts (JSON-ready)."""
    return {
        k: asdict(v) if dataclasses.is_dataclass(v) and not isinstance(v, type) else v
        for k, v in data.items()
    }
