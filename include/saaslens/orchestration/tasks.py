"""What runs inside an Airflow task (imported only at execution time, never at parse time)."""

from __future__ import annotations

import logging
from typing import Any

from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from saaslens import settings
from saaslens.config import ConfigError
from saaslens.connectors.instances import load_connected_apps
from saaslens.lake.writer import Lake, snapshot_id_for
from saaslens.runner import CredentialsRejected, RunContext, StageFailed, run_stage

log = logging.getLogger(__name__)


def run_context_from_airflow(context: Any) -> RunContext:
    dag_run = context["dag_run"]
    ti = context["ti"]
    # run_after is fixed for a DAG run, so a retried or cleared task republishes the same
    # snapshot id (idempotent) instead of adding a second snapshot for one run.
    moment = getattr(dag_run, "run_after", None) or getattr(dag_run, "logical_date", None) or dag_run.start_date
    return RunContext(
        run_id=str(context["run_id"]),
        snapshot_id=snapshot_id_for(moment),
        attempt=int(getattr(ti, "try_number", 1) or 1),
        inside_airflow=True,
    )


def execute_stage(app: str, instance_name: str, stage: str, context: Any) -> dict[str, Any]:
    try:
        instance = load_connected_apps().get(f"{app}/{instance_name}")
    except ConfigError as exc:
        raise AirflowFailException(str(exc)) from None
    if not instance.enabled:
        raise AirflowSkipException(f"{app}/{instance_name} is disabled in {settings.config_path()}")
    ctx = run_context_from_airflow(context)
    try:
        result = run_stage(instance, stage, ctx, Lake(settings.lake_root()))
    except CredentialsRejected as exc:
        raise AirflowFailException(str(exc)) from None
    except StageFailed as exc:
        raise RuntimeError(str(exc)) from None
    if result.status == "skipped":
        raise AirflowSkipException(result.detail or "skipped")
    log.info(
        "%s %s: %d records, %d requests, %d retries, %d throttled",
        result.instance,
        stage,
        result.records,
        result.metrics.get("requests", 0),
        result.metrics.get("retries", 0),
        result.metrics.get("throttled", 0),
    )
    return result.as_dict()
