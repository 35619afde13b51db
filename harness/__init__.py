"""harness: the cross-lingual model-editing evaluation harness (MPN paper protocol).

from harness import EvalConfig, evaluate
result = evaluate(EvalConfig(model="path/or/id", dataset="org/xfever", editor="mpn", folders=20))
result.metrics["clg_avg"]["value"]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from common.provenance import package_version

__version__ = package_version()  # one version string for both packages: the distribution's

if TYPE_CHECKING:
    from harness.config import EvalConfig
    from harness.report.results import EvalResult


def evaluate(config: EvalConfig) -> EvalResult:
    """Run one evaluation (see `harness.protocol.run.evaluate`)."""
    from harness.protocol.run import evaluate as _evaluate

    return _evaluate(config)


def __getattr__(name: str) -> Any:  # lazy, so `import harness` stays light
    if name == "EvalConfig":
        from harness.config import EvalConfig

        return EvalConfig
    if name == "EvalResult":
        from harness.report.results import EvalResult

        return EvalResult
    raise AttributeError(f"module 'harness' has no attribute {name!r}")
