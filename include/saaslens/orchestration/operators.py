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
    """Build it with :meth:`for_stage`. Airflow wraps every operator class's own ``__init__`` to
    merge default_args, so an ``__init__`` here would merge them twice per task: a tenth of the
    DAG file's parse time at a thousand instances (bench/dag_parse.py)."""

    template_fields = ()
    ui_color = "#dbeafe"
    app: str
    instance_name: str
    stage: str

    @classmethod
    def for_stage(cls, *, app: str, instance_name: str, stage: str, **kwargs: Any) -> SaaslensStageOperator:
        operator = cls(**kwargs)
        operator.app = app
        operator.instance_name = instance_name
        operator.stage = stage
        return operator

    def execute(self, context: Any) -> dict[str, Any]:
        from saaslens.orchestration.tasks import execute_stage

        return execute_stage(self.app, self.instance_name, self.stage, context)


class SaaslensContentScanOperator(BaseOperator):
    """The content-inspection task of an instance's DLP DAG (saaslens.orchestration.content_dag).
    Like SaaslensStageOperator, built by a classmethod so default_args are merged once."""

    template_fields = ()
    ui_color = "#fde68a"
    app: str
    instance_name: str

    @classmethod
    def for_instance(cls, *, app: str, instance_name: str, **kwargs: Any) -> SaaslensContentScanOperator:
        operator = cls(**kwargs)
        operator.app = app
        operator.instance_name = instance_name
        return operator

    def execute(self, context: Any) -> dict[str, Any]:
        from saaslens.orchestration.tasks import execute_content_scan

        return execute_content_scan(self.app, self.instance_name, context)
