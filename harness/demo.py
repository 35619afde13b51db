"""`run_demo(out_dir)`: the whole pipeline offline in minutes, on tiny stand-in models.

Phases: tiny MarianMT stand-ins (one per language) -> KILT train/dev files from the bundled sample
of real FEVER dev claims (shuffled; some rows get synthetic English rephrases so MLG exists) -> the
real `xfever build` (library call, rephrases translated) -> a tiny multilingual BERT stand-in,
trained briefly -> the real `harness` evaluation for each editor -> leaderboard + CLG plot.

The translation models and the classifier are UNTRAINED / barely trained stand-ins for opus-mt and
mBERT: the "translations" are random token strings, so the CLG numbers mean nothing. Every file the
demo writes says so (DEMO.md, demo.json, the build card's engines, the models' STAND_IN.txt).
"""

from __future__ import annotations

import json
import logging
import random
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from common.errors import UsageError

log = logging.getLogger(__name__)

DEMO_LANGS = ("de", "fr", "es", "zh", "ar")
DEMO_EDITORS = ("none", "ft", "tpatcher", "mpn", "mpn-all")
# Multi-target opus-mt models need a target token (docs/builder.md); the stand-ins imitate them.
TARGET_TOKENS = {"zh": (">>cmn_Hans<<", ">>cmn_Hant<<"), "ar": (">>ara<<", ">>arz<<")}
# Short editor budgets: the tiny model edits in a few steps, and the demo must stay under 3 minutes.
EDITOR_OPTIONS: dict[str, dict[str, Any]] = {
    "none": {},
    "ft": {"lr": 1e-3, "max_steps": 20},
    "tpatcher": {"max_steps": 40},
    # The stand-in translations are random strings that one patch can rarely fit, so MPN runs to its
    # step cap on most edits: a small cap keeps the demo in its time budget.
    "mpn": {"max_steps": 20},
    "mpn-all": {"max_steps": 20},
}
DEMO_MAX_EDITS = 20  # of the 59 edit rows: enough rows to see the editors differ, fast on 2 CPU cores
DEV_ROWS = 40  # held out as KILT "dev" (the build's test split); the rest is cut 55/15/30
RATIOS = (0.55, 0.15, 0.3)
STAND_IN_WARNING = (
    "The translation models and the classifier are untrained stand-ins (random tiny MarianMT for "
    "opus-mt, a tiny BERT trained for seconds for mBERT): translations are random token strings, so "
    "CLG numbers mean nothing. The English rephrases are synthetic (templates), not FEVER's."
)
DEMO_FILE = "demo.json"
NOTE_FILE = "DEMO.md"


@dataclass(frozen=True)
class DemoResult:
    """Where the demo wrote its parts, and how long each phase took (seconds)."""

    out: Path
    dataset: Path
    model: Path
    runs: dict[str, Path]
    leaderboard: dict[str, Path]
    timings: dict[str, float] = field(default_factory=dict)
    warning: str = STAND_IN_WARNING

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        return json.loads(json.dumps(data, default=str))


def synthetic_rephrases(claim: str, index: int) -> list[str]:
    """Deterministic English 'rephrases' (templates): two for most rows, none for every third."""
    if index % 3 == 2:
        return []
    body = claim.rstrip(".")
    return [f"It is claimed that {body[:1].lower()}{body[1:]}.", f"Reportedly, {body}."]


def write_kilt(sample: Path, out: Path, seed: int) -> dict[str, Path]:
    """Shuffle the bundled sample (sorted by label) with `seed`; write KILT train/dev `.jsonl` files."""
    rows = [json.loads(line) for line in sample.read_text(encoding="utf-8").splitlines() if line.strip()]
    random.Random(seed).shuffle(rows)
    for index, row in enumerate(rows):
        row["rephrases"] = synthetic_rephrases(row["input"], index)
    parts = {"train": rows[DEV_ROWS:], "dev": rows[:DEV_ROWS]}
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, part in parts.items():
        paths[name] = out / f"fever-{name}.kilt.jsonl"
        paths[name].write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in part), "utf-8")
    return paths


def make_translators(claims: list[str], out: Path, langs: tuple[str, ...], seed: int) -> dict[str, Path]:
    """One tiny random MarianMT per language (opus-mt file layout; see xfever.tiny)."""
    from xfever.tiny import make_tiny_marian

    return {
        lang: make_tiny_marian(
            out / f"opus-mt-en-{lang}-STAND-IN",
            claims,
            claims,
            target_tokens=TARGET_TOKENS.get(lang, ()),
            vocab_size=200,
            seed=seed + i,
        )
        for i, lang in enumerate(langs)
    }


def build_dataset(kilt: dict[str, Path], models: dict[str, Path], out: Path, *, quiet: bool) -> Path:
    """The real `xfever build` in split mode, rephrases translated."""
    from xfever.build import build
    from xfever.config import BuildConfig
    from xfever.translate.base import DecodeSettings

    tokens = tuple((lang, TARGET_TOKENS[lang][0]) for lang in models if lang in TARGET_TOKENS)
    config = BuildConfig(
        out=out,
        langs=tuple(models),
        train=str(kilt["train"]),
        dev=str(kilt["dev"]),
        ratios=RATIOS,
        models=tuple((lang, str(path)) for lang, path in models.items()),
        target_tokens=tokens,
        # Greedy and short: the random stand-ins rarely emit </s>, so every output runs to the cap.
        decode=DecodeSettings(batch_size=64, num_beams=1, max_len_ratio=0.6, max_len_extra=2, device="cpu"),
        translate_rephrases=True,
        quiet=quiet,
    )
    return build(config).out


def _built_texts(dataset: Path) -> list[str]:
    """Every text of the built folder (English splits, translations), for the classifier's vocabulary."""
    import pyarrow.parquet as pq

    texts: list[str] = []
    for path in sorted(dataset.rglob("*.parquet")):
        table = pq.read_table(path)
        for column in ("claim", "claim_en", "rephrases"):
            if column in table.column_names:
                for value in table.column(column).to_pylist():
                    texts += value if isinstance(value, list) else [value]
    return [t for t in texts if t]


def train_model(dataset: Path, out: Path, *, seed: int, quiet: bool, epochs: int = 8) -> Path:
    """A tiny BERT stand-in for mBERT, fitted to the train split (not collapsed to one class)."""
    from harness.model.tiny import make_tiny_bert
    from harness.train.base import TrainSettings, train_classifier
    from harness.train.data import load_fever_examples

    base = make_tiny_bert(
        out / "mbert-STAND-IN-untrained",
        _built_texts(dataset),
        seed=seed,
        hidden_size=128,
        intermediate_size=256,
    )
    train = load_fever_examples(str(dataset), "train")
    # lr 1e-3 collapses this model to the majority class, and then T-Patcher cannot edit (every
    # [CLS] alike). Selecting the checkpoint on the train rows keeps the best-fitted one: locality
    # near 1.0 (so damage shows) and a share of edit rows mispredicted (so there is something to edit).
    settings = TrainSettings(
        epochs=epochs,
        batch_size=16,
        lr=3e-3,
        warmup_steps=0,
        label_smoothing=0.0,
        seed=seed,
        progress=not quiet,
        device="cpu",
    )
    target = out / "mbert-STAND-IN-demo-trained"
    data = {"train": "demo xfever:en/train", "note": STAND_IN_WARNING}
    train_classifier(base, train, train, target, settings, data=data)
    return target


def evaluate_editors(
    model: Path,
    dataset: Path,
    runs: Path,
    editors: tuple[str, ...],
    *,
    seed: int,
    folders: int,
    max_edits: int | None,
    quiet: bool,
) -> dict[str, Path]:
    """The real evaluation (`harness eval` as a library call), one run folder per editor."""
    import torch

    from harness.config import EvalConfig
    from harness.protocol.run import evaluate

    out = {}
    for editor in editors:
        run_dir = runs / f"{editor}-f{folders}-s{seed}"
        run_dir.mkdir(parents=True)
        log.info("demo: evaluating editor %s", editor)
        config = EvalConfig(
            model=str(model),
            dataset=str(dataset),
            editor=editor,
            editor_options=dict(EDITOR_OPTIONS.get(editor, {})),
            folders=folders,
            max_edits=max_edits,
            seed=seed,
            out_dir=str(run_dir),
            progress=not quiet,
            threads=torch.get_num_threads(),  # the threads in effect (`harness demo --threads`)
        )
        evaluate(config)
        out[editor] = run_dir
    return out


def _check_out(out: Path, overwrite: bool) -> None:
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out: {out} exists and is not a folder")
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise UsageError(f"--out: folder {out} exists and is not empty (choose another or --overwrite)")
        shutil.rmtree(out)


def run_demo(
    out_dir: str | Path,
    *,
    quiet: bool = False,
    seed: int = 0,
    langs: tuple[str, ...] = DEMO_LANGS,
    editors: tuple[str, ...] = DEMO_EDITORS,
    folders: int = 2,
    max_edits: int | None = DEMO_MAX_EDITS,
    epochs: int = 8,
    overwrite: bool = False,
) -> DemoResult:
    """Run the offline demo into `out_dir` (must be absent or empty); on failure nothing is left."""
    from harness.editors.registry import load_editor

    out = Path(out_dir)
    for editor in editors:  # a misspelt editor fails now, not after minutes of building
        load_editor(editor, EDITOR_OPTIONS.get(editor, {}))
    _check_out(out, overwrite)
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    try:
        return _run_phases(out, quiet, seed, tuple(langs), tuple(editors), folders, max_edits, epochs)
    except BaseException:
        if created:
            shutil.rmtree(out, ignore_errors=True)
        else:
            for child in out.iterdir():
                shutil.rmtree(child, ignore_errors=True) if child.is_dir() else child.unlink()
        raise


def _run_phases(out, quiet, seed, langs, editors, folders, max_edits, epochs) -> DemoResult:
    from harness.report.leaderboard import leaderboard
    from xfever.data import sample_path

    timings: dict[str, float] = {}

    def phase(name: str, message: str, fn, *args, **kwargs):
        log.info("demo: %s", message)
        clock = time.perf_counter()
        value = fn(*args, **kwargs)
        timings[name] = round(time.perf_counter() - clock, 2)
        return value

    kilt = phase(
        "kilt",
        "writing KILT files from the bundled FEVER sample",
        write_kilt,
        sample_path(),
        out / "kilt",
        seed,
    )
    claims = [json.loads(line)["input"] for line in kilt["train"].read_text("utf-8").splitlines()]
    models = phase(
        "translators",
        f"building stand-in MT models for {', '.join(langs)}",
        make_translators,
        claims,
        out / "models",
        langs,
        seed,
    )
    dataset = phase(
        "build",
        "xfever build (stand-in translations)",
        build_dataset,
        kilt,
        models,
        out / "xfever",
        quiet=quiet,
    )
    model = phase(
        "train",
        "training the stand-in classifier",
        train_model,
        dataset,
        out / "models",
        seed=seed,
        quiet=quiet,
        epochs=epochs,
    )
    runs = phase(
        "eval",
        f"evaluating editors {', '.join(editors)}",
        evaluate_editors,
        model,
        dataset,
        out / "runs",
        editors,
        seed=seed,
        folders=folders,
        max_edits=max_edits,
        quiet=quiet,
    )
    board = phase(
        "leaderboard", "leaderboard and plot", leaderboard, list(runs.values()), out / "leaderboard"
    )
    result = DemoResult(out, dataset, model, runs, board, timings)
    _describe(
        out,
        result,
        seed=seed,
        langs=langs,
        editors=editors,
        folders=folders,
        max_edits=max_edits,
        epochs=epochs,
    )
    return result


def _describe(out: Path, result: DemoResult, **settings: Any) -> None:
    """demo.json (self-describing record) and DEMO.md (what this folder is), written atomically."""
    from common.io import write_json_atomic, write_text_atomic
    from common.provenance import provenance

    record = {
        "kind": "xfever-harness offline demo",
        "warning": STAND_IN_WARNING,
        "settings": {k: list(v) if isinstance(v, tuple) else v for k, v in settings.items()},
        "data": "bundled sample of real FEVER dev claims (CC BY-SA 3.0), shuffled with the seed",
        "provenance": provenance(),
        "result": {k: v for k, v in result.to_dict().items() if k != "out"},
    }
    write_json_atomic(out / DEMO_FILE, record)
    board = (result.leaderboard["md"]).read_text(encoding="utf-8")
    note = f"# Offline demo (stand-in models)\n\n**{STAND_IN_WARNING}**\n\n{board}\n{next_steps()}\n"
    write_text_atomic(out / NOTE_FILE, note)


def next_steps() -> str:
    """The 'what next' lines: the real build and the real evaluation."""
    return "\n".join(
        [
            "What next (real opus-mt and mBERT, needs the Hub; a GPU helps):",
            "  xfever build --train facebook/kilt_tasks --dev facebook/kilt_tasks --out xfever",
            "  harness train-base --model google-bert/bert-base-multilingual-uncased --data xfever"
            " --out mbert",
            "  harness eval --model mbert --dataset xfever --editor mpn --out runs",
        ]
    )
