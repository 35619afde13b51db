"""A controlled cross-lingual testbed where the truth is known: synthetic languages, tiny model.

`build_testbed(out)` makes, in well under a minute on two CPU cores and deterministically from a
seed:

1. KILT FEVER files: the bundled 239 real FEVER claims (with templated English rephrases) beside
   templated synthetic claims whose truth comes from a generated fact table (`claims.py`);
2. the XFEVER folder, through the real `xfever build` with the `lexicon` engine: synthetic
   "close" languages (de, fr, es) and "far" ones (zh, ar), rephrases translated;
3. a tiny BERT pretrained with masked-language modelling on English and the synthetic languages
   (WordPiece tokenizer trained on that text; `pretrain.py`), so it has seen the languages, as mBERT
   has, before it is fine-tuned on English;
4. that model fine-tuned by the real `harness train-base` on the folder's English train split.

Everything written says "synthetic languages, tiny model" (testbed.json, the dataset card, the
model's record). The paper's findings are asserted on it by tests/harness/test_findings.py.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from common.errors import UsageError
from harness.report.standin import STAND_IN_FILE, TESTBED_MARK
from harness.testbed.claims import claim_records, fact_table, real_rephrases
from harness.testbed.pretrain import PretrainSettings, pretrain_mlm, pretraining_corpus, train_tokenizer

log = logging.getLogger(__name__)

LABEL = f"{TESTBED_MARK}, tiny model"  # the mark harness.report.standin recognises testbed runs by
LANGS = ("de", "fr", "es", "zh", "ar")
CLOSE, FAR = ("de", "fr", "es"), ("zh", "ar")
RECORD_FILE = "testbed.json"


@dataclass(frozen=True)
class TestbedSettings:
    """What decides a testbed; `seed` drives every random choice (facts, split, models)."""

    __test__ = False  # not a pytest test class, whatever its name

    seed: int = 0
    langs: tuple[str, ...] = LANGS
    people: int = 900  # synthetic people in train/validation/edit: two claims each
    test_people: int = 150  # synthetic people of the test split (KILT "dev")
    real_claims: bool = True  # the bundled 239 real FEVER claims beside the synthetic ones
    exception_rate: float = 0.15  # facts that break the rules the model can learn
    ratios: tuple[float, float, float] = (0.8, 0.08, 0.12)
    lexicon_seed: int = 0
    pretrain: PretrainSettings = field(default_factory=PretrainSettings)
    epochs: int = 4
    batch_size: int = 32
    lr: float = 5e-4
    warmup_steps: int = 30

    def __post_init__(self) -> None:
        # one seed for everything: the pretraining follows the testbed's
        if self.pretrain.seed != self.seed:
            from dataclasses import replace

            object.__setattr__(self, "pretrain", replace(self.pretrain, seed=self.seed))


@dataclass(frozen=True)
class Testbed:
    """Where the testbed lies: the XFEVER folder, the fine-tuned model, and the record of both."""

    __test__ = False

    out: Path
    dataset: Path
    model: Path
    pretrained: Path
    record: dict[str, Any]

    @property
    def label(self) -> str:
        return LABEL


def write_kilt(out: Path, s: TestbedSettings) -> dict[str, Path]:
    """KILT train (real + synthetic) and dev (synthetic, the test split) files; return their paths."""
    from xfever.data import sample_path

    rows: list[dict] = []
    if s.real_claims:
        for line in sample_path().read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                rows.append({**row, "rephrases": real_rephrases(row["input"])})
    people = fact_table(s.people + s.test_people, seed=s.seed, exception_rate=s.exception_rate)
    rows += claim_records(people[: s.people], seed=s.seed)
    dev = claim_records(people[s.people :], seed=s.seed, start=s.people)
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, part in (("train", rows), ("dev", dev)):
        paths[name] = out / f"testbed-{name}.kilt.jsonl"
        paths[name].write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in part), "utf-8")
    return paths


def build_dataset(kilt: dict[str, Path], out: Path, s: TestbedSettings) -> Path:
    """The real `xfever build --engine lexicon` (library call), rephrases translated."""
    from xfever.build import build
    from xfever.config import BuildConfig

    config = BuildConfig(
        out=out,
        langs=tuple(s.langs),
        train=str(kilt["train"]),
        dev=str(kilt["dev"]),
        split_seed=s.seed,
        ratios=s.ratios,
        engine="lexicon",
        models=tuple((lang, str(s.lexicon_seed)) for lang in s.langs),
        translate_rephrases=True,
        quiet=True,
    )
    return build(config).out


def _texts(dataset: Path) -> list[str]:
    import pyarrow.parquet as pq

    texts: list[str] = []
    for path in sorted(dataset.rglob("*.parquet")):
        table = pq.read_table(path)
        for column in ("claim", "rephrases"):
            if column in table.column_names:
                for value in table.column(column).to_pylist():
                    texts += value if isinstance(value, list) else [value]
    return [t for t in texts if t]


def train_model(dataset: Path, out: Path, s: TestbedSettings) -> tuple[Path, Path, dict[str, Any]]:
    """Tokenizer + MLM pretraining (`pretrain.py`), then the real train-base on English; paths, record."""
    from harness.train.base import TrainSettings, train_classifier
    from harness.train.data import load_task_data
    from xfever.translate.lexicon import synthesize

    data = load_task_data("xfever", str(dataset))
    english = [ex.text[0] for ex in data.train]
    synthetic = [synthesize(t, lang, str(s.lexicon_seed)) for lang in s.langs for t in english]
    pretrained = out / "tiny-mbert-pretrained"
    ps = s.pretrain
    tokenizer = train_tokenizer(_texts(dataset) + english + synthetic, pretrained, ps)
    corpus = pretraining_corpus(english, s.langs, s.seed, ps, str(s.lexicon_seed))
    mlm = pretrain_mlm(corpus, tokenizer, pretrained, ps)
    # read by harness.report.standin: every run on this model (and its fine-tuned child) says what it is
    (pretrained / STAND_IN_FILE).write_text(
        f"{LABEL}: a tiny BERT of the harness testbed\n", encoding="utf-8"
    )
    settings = TrainSettings(
        epochs=s.epochs,
        batch_size=s.batch_size,
        lr=s.lr,
        max_length=ps.max_length,
        warmup_steps=s.warmup_steps,
        seed=s.seed,
        device="cpu",
        progress=False,
    )
    model = out / "tiny-mbert-xfever"
    info = {**data.info, "note": f"{LABEL}: testbed data, see testbed.json"}
    result = train_classifier(pretrained, data.train, data.validation, model, settings, data=info)
    fit = {"validation_accuracy": result.best_accuracy, "best_epoch": result.best_epoch}
    return pretrained, model, {"pretrain": mlm, "train_base": fit, "train_settings": asdict(settings)}


def build_testbed(
    out: str | Path, settings: TestbedSettings | None = None, *, overwrite: bool = False
) -> Testbed:
    """Build the testbed into `out` (absent or empty unless `overwrite`); return its paths and record."""
    import shutil

    from common.io import write_json_atomic
    from common.provenance import provenance

    s = settings or TestbedSettings()
    unknown = sorted(set(s.langs) - set(LANGS))
    if unknown:
        raise UsageError(f"testbed langs: {unknown} not among {list(LANGS)}")
    root = Path(out)
    if root.exists() and any(root.iterdir()):
        if not overwrite:
            raise UsageError(f"--out {root}: exists and is not empty (choose another or --overwrite)")
        shutil.rmtree(root)
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    kilt = write_kilt(root / "kilt", s)
    timings["kilt"] = round(time.perf_counter() - clock, 2)
    dataset = build_dataset(kilt, root / "xfever-synthetic", s)
    timings["build"] = round(time.perf_counter() - clock - sum(timings.values()), 2)
    pretrained, model, fit = train_model(dataset, root, s)
    timings["model"] = round(time.perf_counter() - clock - sum(timings.values()), 2)
    record = {
        "kind": f"xfever testbed: {LABEL}",
        "warning": (
            "The languages are synthetic (xfever's lexicon engine), the model is a tiny BERT: the "
            "numbers test editors where the truth is known; they say nothing about real languages."
        ),
        "settings": asdict(s),
        "close_langs": [lang for lang in s.langs if lang in CLOSE],
        "far_langs": [lang for lang in s.langs if lang in FAR],
        "dataset": dataset.name,
        "model": model.name,
        "pretrained": pretrained.name,
        **fit,
        "build": json.loads((dataset / "build.json").read_text(encoding="utf-8"))["configs"],
        "timings_s": timings | {"total": round(time.perf_counter() - clock, 2)},
        "provenance": provenance(),
    }
    write_json_atomic(root / RECORD_FILE, record)
    return Testbed(root, dataset, model, pretrained, record)


__all__ = ["CLOSE", "FAR", "LABEL", "LANGS", "Testbed", "TestbedSettings", "build_testbed"]
