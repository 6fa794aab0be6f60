"""Run one stage of one instance: the code behind every Airflow task and `saaslens sync`."""

from saaslens.runner.stage_run import (
    CredentialsRejected,
    RunContext,
    StageFailed,
    StageResult,
    StageRunner,
    StageSkipped,
    run_stage,
)

__all__ = [
    "CredentialsRejected",
    "RunContext",
    "StageFailed",
    "StageResult",
    "StageRunner",
    "StageSkipped",
    "run_stage",
]
