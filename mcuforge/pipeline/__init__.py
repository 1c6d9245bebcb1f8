"""`mcuforge pipeline CONFIG.yaml`: the whole workflow in one command, from data to a verified, measured
firmware.

config.py (schema and checks) -> data.py (providers) -> model.py (zoo model, fit check, QAT layers) -> train.py
(float training, pruning, QAT) -> quantize.py (int8 graph, reference-interpreter evaluation) -> deploy.py (C
library, firmware, verification on QEMU, measurements) -> report.py (summary.json, table, HTML section); run.py
runs the stages in order. Importing this package imports neither PyTorch nor the apps."""

from mcuforge.pipeline.config import (
    ConfigError,
    PipelineConfig,
    load_config,
    parse_config,
)

__all__ = ["ConfigError", "PipelineConfig", "load_config", "parse_config", "run_pipeline"]


def __getattr__(name: str):
    if name == "run_pipeline":
        from mcuforge.pipeline.run import run_pipeline

        return run_pipeline
    raise AttributeError(f"module 'mcuforge.pipeline' has no attribute {name!r}")
