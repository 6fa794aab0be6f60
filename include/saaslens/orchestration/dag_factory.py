"""One DAG per enabled connected app instance, generated from connected_apps.yaml.

Parse-time cost matters (the DAG processor re-parses often, and a deployment may have thousands
of instances), so this module imports only Airflow's SDK, pydantic and PyYAML, and, when Airflow
parses for a single task run, builds only that task's DAG.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from saaslens.config import ConnectedApps, InstanceConfig
from saaslens.connectors import registry
from saaslens.connectors.instances import load_connected_apps
from saaslens.orchestration.naming import dag_id, pool_name
from saaslens.vocabulary import Stage, upstream_of

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


def _doc(instance: InstanceConfig, stages: list[Stage]) -> str:
    spec = registry.app_spec(instance.app)
    capabilities = ", ".join(sorted(spec.capabilities))
    return (
        f"### {spec.title} instance `{instance.name}`\n\n"
        f"Scans {spec.title} through Airflow connection `{instance.conn_id}` into the saaslens lake.\n\n"
        f"- stages: {', '.join(stages)}\n- capabilities: {capabilities}\n- pool: `{pool_name(instance)}` "
        f"({instance.pool_slots} slots)\n"
    )


def instance_dag(instance: InstanceConfig) -> DAG:
    """The app's declared stages as tasks, wired by the vocabulary's edges (STAGE_UPSTREAM)."""
    from airflow.sdk import DAG, TriggerRule

    from saaslens.orchestration.assets import stage_outlets
    from saaslens.orchestration.operators import SaaslensStageOperator

    stages = registry.app_spec(instance.app).stage_names
    pool = pool_name(instance)
    with DAG(
        dag_id=dag_id(instance),
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
                task_id=str(stage),
                app=instance.app,
                instance_name=instance.name,
                stage=str(stage),
                pool=pool,
                # The tables it publishes: a success tells the compliance-reports DAG there is new data.
                outlets=stage_outlets(instance, stage),
                # A skipped stage (permission missing) must not skip the stages after it.
                trigger_rule=TriggerRule.ALL_SUCCESS if stage == Stage.AUTHENTICATE else TriggerRule.NONE_FAILED,
            )
            for stage in stages
        }
        present = set(stages)
        for stage, task in tasks.items():
            for upstream in upstream_of(stage, present):
                tasks[upstream] >> task
    return dag


def build_dags(config: Path | str | None = None, *, only_dag_id: str | None = None) -> dict[str, DAG]:
    """DAGs for every enabled, valid instance (or only `only_dag_id`). Invalid entries are left
    out here and reported by `config_errors()` so they break only themselves."""
    apps = load_connected_apps(config)
    dags = {}
    for instance in apps.instances:
        if not instance.enabled:
            continue
        if only_dag_id and dag_id(instance) != only_dag_id:
            continue
        dags[dag_id(instance)] = instance_dag(instance)
    return dags


def dags_for_current_parse(config: Path | str | None = None) -> dict[str, DAG]:
    from airflow.sdk import get_parsing_context

    return build_dags(config, only_dag_id=get_parsing_context().dag_id)


def config_errors(config: Path | str | None = None) -> ConnectedApps:
    return load_connected_apps(config)
