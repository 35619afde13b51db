"""What a `harness train-base` checkpoint says about itself: its model card and provenance."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.train.base import TrainResult


def render_card(result: TrainResult) -> str:
    """The model card (README.md) from `cards/model_card.md`."""
    from huggingface_hub import ModelCard, ModelCardData

    import cards

    s, data = result.settings, result.data
    task = {"fever": "xfever"}.get(data.get("task", "xfever"), data.get("task", "xfever"))
    card_data = ModelCardData(
        base_model=None if Path(result.base_model).exists() else result.base_model,
        datasets=[d for d in (data.get("dataset"),) if d and not Path(d).exists()] or None,
        library_name="transformers",
        pipeline_tag="text-classification",
        tags=["model-editing", "xfever" if task == "xfever" else "xnli", "mpn-original-model"],
        metrics=["accuracy"],
    )
    card = ModelCard.from_template(
        card_data,
        template_str=cards.template("model_card.md"),
        model_name=data.get("model_name") or Path(result.out_dir).name,
        base_model=result.base_model,
        base_revision=result.provenance.get("model_revision"),
        task_title="FEVER claim-verification" if task == "xfever" else "natural-language-inference",
        stand_in=result.provenance.get("stand_in"),
        id2label=list(enumerate(result.label_names)),
        input_description="a claim" if task == "xfever" else "a (premise, hypothesis) pair",
        train_data=data.get("train", "(in-memory examples)"),
        validation_data=data.get("validation", "(in-memory examples)"),
        data_licence=data.get("licence"),
        n_train=result.n_train,
        n_validation=result.n_validation,
        settings=s,
        settings_rows=[(k, v) for k, v in asdict(s).items() if k != "progress"],
        eval_when=f"every {s.eval_every} steps" if s.eval_every else "after every epoch",
        initial_accuracy=f"{100 * result.initial_accuracy:.2f} %",
        best_accuracy=f"{100 * result.best_accuracy:.2f} %",
        best_step=result.best_step,
        best_epoch=result.best_epoch,
        steps=result.steps,
        seconds=result.seconds,
        device=result.device,
        **{k: result.provenance.get(k) for k in ("package_version", "git_sha", "created")},
    )
    return str(card)


def provenance(model: str | Path | None = None) -> dict[str, Any]:
    """Package version, git SHA, time, and for a model its revision and stand-in note if any."""
    from common.provenance import provenance as header

    record: dict[str, Any] = header()
    if model is not None:
        record |= _model_revision(model)
    return record


def _model_revision(model: str | Path) -> dict[str, Any]:
    folder = Path(model)
    if folder.is_dir():
        stand_in = folder / "STAND_IN.txt"
        return {
            "model_revision": None,
            "stand_in": stand_in.read_text(encoding="utf-8").strip() if stand_in.exists() else None,
        }
    try:
        from transformers.utils.hub import cached_file, extract_commit_hash

        # The Hub snapshot that from_pretrained resolved (its cache path holds the commit SHA).
        revision = extract_commit_hash(cached_file(str(model), "config.json"), None)
    except Exception:  # private or unreachable: the id alone is recorded
        revision = None
    return {"model_revision": revision, "stand_in": None}
