"""One content-inspection (DLP) DAG per enabled instance of an app whose file contents saaslens can
read (`AppSpec.contents`): `saaslens_<instance>_dlp`.

Why a DAG of its own rather than a stage after files: inspection downloads every new or changed
file, which can take far longer than listing them, and must neither hold the instance's scan pool
nor delay the next scan; it runs on its own schedule (include/dlp_policies.yaml `scanning.schedule`,
default every 12 hours) in its own pool (`saaslens_<instance>_dlp`, one slot), and also whenever the
instance's files task announces files its activities named as created, edited or shared (an asset
event on `saaslens://<app>/<instance>/file_changes`): then it scans just those. docs/dlp.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from saaslens.config import InstanceConfig
from saaslens.connectors import registry
from saaslens.connectors.instances import load_connected_apps
from saaslens.orchestration.naming import content_dag_id, content_pool_name

if TYPE_CHECKING:
    from airflow.sdk import DAG


DEFAULT_SCHEDULE = "0 */12 * * *"


def content_schedule(path: Path | None = None) -> str:
    """The periodic schedule, `scanning.schedule` of the policies file. Read with PyYAML alone: the
    DAG processor must not import the detectors (detect-secrets, python-stdnum) to parse a DAG file;
    the task validates the whole file when it runs and fails naming the field at fault."""
    import os

    import yaml

    from saaslens import settings

    where = path or Path(os.environ.get("SAASLENS_DLP_POLICIES", settings.INCLUDE_DIR / "dlp_policies.yaml"))
    try:
        document = yaml.safe_load(where.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        return DEFAULT_SCHEDULE
    scanning = document.get("scanning") if isinstance(document, dict) else None
    schedule = scanning.get("schedule") if isinstance(scanning, dict) else None
    return schedule if isinstance(schedule, str) and schedule.strip() else DEFAULT_SCHEDULE


def content_dag(instance: InstanceConfig, schedule: str) -> DAG | None:
    spec = registry.app_spec(instance.app)
    if spec.contents is None:
        return None
    from airflow.sdk import DAG, AssetOrTimeSchedule
    from airflow.timetables.trigger import CronTriggerTimetable

    from saaslens.orchestration.assets import file_changes_asset
    from saaslens.orchestration.dag_factory import DEFAULT_ARGS, START_DATE
    from saaslens.orchestration.operators import SaaslensContentScanOperator

    timetable = CronTriggerTimetable(schedule, timezone="UTC")
    with DAG(
        dag_id=content_dag_id(instance),
        description=f"saaslens content inspection (DLP) of {instance.app} instance {instance.name}",
        # Airflow 3.3 types the timetable as its SDK base class, which core timetables do not declare yet.
        schedule=AssetOrTimeSchedule(timetable=timetable, assets=[file_changes_asset(instance)])  # type: ignore[arg-type]
        if spec.contents.change_events
        else timetable,
        start_date=START_DATE,
        catchup=False,
        # Two scans of one instance would inspect the same files twice; an event waits for the running scan.
        max_active_runs=1,
        default_args=DEFAULT_ARGS,
        tags=["saaslens", "dlp", f"app:{instance.app}", f"instance:{instance.name}"],
        doc_md=(
            f"### Content inspection of {spec.title} instance `{instance.name}`\n\n"
            f"Downloads new and changed files through `{instance.conn_id}`, extracts their text and runs the "
            f"detectors and policies of include/dlp_policies.yaml into `file_scans` and `dlp_matches`.\n\n"
            f"- schedule: `{schedule}` (UTC) and on file changes from the instance's activities\n"
            f"- pool: `{content_pool_name(instance)}`\n"
        ),
    ) as dag:
        SaaslensContentScanOperator.for_instance(
            task_id="inspect_contents", app=instance.app, instance_name=instance.name, pool=content_pool_name(instance)
        )
    return dag


def build_content_dags(config: Path | str | None = None, *, only_dag_id: str | None = None) -> dict[str, DAG]:
    apps = load_connected_apps(config)
    chosen = [i for i in apps.instances if i.enabled and (only_dag_id is None or content_dag_id(i) == only_dag_id)]
    if not chosen:
        return {}
    schedule = content_schedule()
    dags = {}
    for instance in chosen:
        dag = content_dag(instance, schedule)
        if dag is not None:
            dags[content_dag_id(instance)] = dag
    return dags


def content_dags_for_current_parse(config: Path | str | None = None) -> dict[str, DAG]:
    from airflow.sdk import get_parsing_context

    return build_content_dags(config, only_dag_id=get_parsing_context().dag_id)
