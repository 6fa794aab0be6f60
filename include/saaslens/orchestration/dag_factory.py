"""One DAG per enabled connected app instance, generated from connected_apps.yaml.

Parse-time cost matters (the DAG processor re-parses often, and a deployment may have thousands
of instances), so this module imports only Airflow's SDK, pydantic and PyYAML, and, when Airflow
parses for a single task run, builds only that task's DAG.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING

from saaslens.config import ConnectedApps, InstanceConfig, load_connected_apps
from saaslens.connectors import registry

if TYPE_CHECKING:
    from airflow.sdk import DAG

log = logging.getLogger(__name__)

START_DATE = datetime(2026, 1, 1)
DEFAULT_ARGS = {
    "owner": "saaslens",
    "retries": 3,
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(minutes=15),
    "execution_timeout": timedelta(hours=12),
}


def _doc(instance: InstanceConfig, stages: list[str]) -> str:
    connector = registry.connector_class(instance.app)
    capabilities = ", ".join(sorted(connector.capabilities))
    return (
        f"### {connector.title} instance `{instance.name}`\n\n"
        f"Scans {connector.title} through Airflow connection `{instance.conn_id}` into the saaslens lake.\n\n"
        f"- stages: {', '.join(stages)}\n- capabilities: {capabilities}\n- pool: `{instance.pool}` "
        f"({instance.pool_slots} slots)\n"
    )


def instance_dag(instance: InstanceConfig) -> DAG:
    from airflow.sdk import DAG, TriggerRule

    from saaslens.orchestration.assets import stage_outlets
    from saaslens.orchestration.operators import SaaslensStageOperator

    stages = registry.connector_class(instance.app).stages()
    with DAG(
        dag_id=instance.dag_id,
        description=f"saaslens scan of {instance.app} instance {instance.name}",
        schedule=instance.airflow_schedule,
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,  # two scans of one instance would race on its cursors
        default_args=DEFAULT_ARGS,
        tags=["saaslens", f"app:{instance.app}", f"instance:{instance.name}"],
        doc_md=_doc(instance, stages),
    ) as dag:
        tasks = {
            stage: SaaslensStageOperator.for_stage(
                task_id=stage,
                app=instance.app,
                instance_name=instance.name,
                stage=stage,
                pool=instance.pool,
                # The tables it publishes: a success tells the compliance-reports DAG there is new data.
                outlets=stage_outlets(instance, stage),
                # A skipped stage (permission missing) must not skip the stages after it.
                trigger_rule=TriggerRule.ALL_SUCCESS if stage == "authenticate" else TriggerRule.NONE_FAILED,
            )
            for stage in stages
        }
        spine = [s for s in ("authenticate", "users", "groups", "activities", "files") if s in tasks]
        for upstream, downstream in pairwise(spine):
            tasks[upstream] >> tasks[downstream]
        after_users = tasks.get("users", tasks["authenticate"])
        for stage in ("privileges", "app_permissions"):
            if stage in tasks:
                after_users >> tasks[stage]
    return dag


def build_dags(config: Path | str | None = None, *, only_dag_id: str | None = None) -> dict[str, DAG]:
    """DAGs for every enabled, valid instance (or only `only_dag_id`). Invalid entries are left
    out here and reported by `config_errors()` so they break only themselves."""
    apps = load_connected_apps(config)
    dags = {}
    for instance in apps.instances:
        if not instance.enabled:
            continue
        if only_dag_id and instance.dag_id != only_dag_id:
            continue
        dags[instance.dag_id] = instance_dag(instance)
    return dags


def dags_for_current_parse(config: Path | str | None = None) -> dict[str, DAG]:
    from airflow.sdk import get_parsing_context

    return build_dags(config, only_dag_id=get_parsing_context().dag_id)


def config_errors(config: Path | str | None = None) -> ConnectedApps:
    return load_connected_apps(config)
