"""SaaslensStageOperator: one stage of one connected app instance.

The operator is a thin shell: `execute` builds the client from the Airflow Connection inside the
task (nothing secret crosses XCom), calls the same runner `saaslens sync` uses, and translates
outcomes into Airflow's vocabulary: a denied permission skips, rejected credentials fail without
retries, anything else fails and is retried with backoff.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseOperator


class SaaslensStageOperator(BaseOperator):
    template_fields = ()
    ui_color = "#dbeafe"

    def __init__(self, *, app: str, instance_name: str, stage: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.app = app
        self.instance_name = instance_name
        self.stage = stage

    def execute(self, context: Any) -> dict[str, Any]:
        from saaslens.orchestration.tasks import execute_stage

        return execute_stage(self.app, self.instance_name, self.stage, context)
