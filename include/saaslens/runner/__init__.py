"""Run one stage of one instance: the code behind every Airflow task and `saaslens sync`.

`run_stage` and `StageRunner` (stage_run.py) check and dispatch a stage; snapshots.py and
activities.py do the work; scope.py holds what a run shares and how a stage ends early."""

from saaslens.runner.scope import CredentialsRejected, RunContext, StageFailed, StageSkipped
from saaslens.runner.stage_run import StageResult, StageRunner, run_stage

__all__ = [
    "CredentialsRejected",
    "RunContext",
    "StageFailed",
    "StageResult",
    "StageRunner",
    "StageSkipped",
    "run_stage",
]
