"""`harness testbed`: build the controlled cross-lingual testbed (synthetic languages, tiny model)."""

from __future__ import annotations

import click


@click.command("testbed")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="New or empty folder.")
@click.option("--seed", default=0, show_default=True, help="Seed of the facts, the split and the models.")
@click.option("--people", default=900, show_default=True, help="Synthetic people (two claims each).")
@click.option(
    "--quick",
    is_flag=True,
    help="A smoke-test testbed: 64 wide, 60 MLM steps, 2 epochs (seconds; the findings do not hold on it).",
)
@click.option("--overwrite", is_flag=True, help="Replace a non-empty --out folder.")
def testbed_command(out: str, seed: int, people: int, quick: bool, overwrite: bool) -> None:
    """Synthetic-language XFEVER folder (xfever build --engine lexicon) + a tiny pretrained BERT."""
    from harness.testbed import LABEL, TestbedSettings, build_testbed
    from harness.testbed.pretrain import PretrainSettings

    settings = TestbedSettings(seed=seed, people=people)
    if quick:
        small = PretrainSettings(hidden_size=64, intermediate_size=128, steps=60)
        settings = TestbedSettings(seed=seed, people=people, pretrain=small, epochs=2, lr=1e-3)
    testbed = build_testbed(out, settings, overwrite=overwrite)
    record = testbed.record
    click.echo(f"testbed ({LABEL}) in {record['timings_s']['total']:.1f}s:")
    click.echo(f"  dataset {testbed.dataset}  ({record['build']['en']})")
    click.echo(
        f"  model   {testbed.model}  (validation accuracy {record['train_base']['validation_accuracy']:.4f})"
    )
    click.echo(
        f"next: harness eval --model {testbed.model} --dataset {testbed.dataset} --editor mpn-all "
        f"--out {testbed.out}/runs/mpn-all"
    )


COMMANDS = (testbed_command,)
