"""What runs inside an Airflow task (imported only at execution time, never at parse time)."""

from __future__ import annotations

import logging
from typing import Any

from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from saaslens import settings
from saaslens.config import ConfigError, InstanceConfig
from saaslens.connectors import registry
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
    if stage == "files":
        announce_file_changes(instance, context, Lake(settings.lake_root()))
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


def announce_file_changes(instance: InstanceConfig, context: Any, lake: Lake) -> None:
    """After the files snapshot is live: tell the instance's content-inspection DAG which files this
    run's activities named as created, edited or shared (an asset event through the files task's
    alias), so it scans them now with their new metadata. Nothing is emitted when none changed."""
    from airflow.sdk import AssetAlias

    from saaslens.orchestration.assets import file_changes_alias, file_changes_asset
    from saaslens.runner.content_scan import changed_files

    contents = registry.app_spec(instance.app).contents
    if contents is None or not contents.change_events:
        return
    since = context["dag_run"].start_date
    changed = changed_files(lake, instance, since)
    if changed == []:
        return
    extra: dict[str, Any] = {"file_ids": changed} if changed is not None else {"all_changed": True}
    context["outlet_events"][AssetAlias(file_changes_alias(instance))].add(file_changes_asset(instance), extra=extra)
    log.info(
        "%s/%s: %s changed file(s) announced for inspection", instance.app, instance.name, len(changed or []) or "many"
    )


def execute_content_scan(app: str, instance_name: str, context: Any) -> dict[str, Any]:
    """The DLP DAG's task: the files named by the asset events that triggered the run, or, on the
    schedule, every file whose content changed since its last scan (saaslens.runner.content_scan)."""
    from saaslens.runner.content_scan import scan_contents
    from saaslens.runner.scope import StageSkipped

    try:
        instance = load_connected_apps().get(f"{app}/{instance_name}")
    except ConfigError as exc:
        raise AirflowFailException(str(exc)) from None
    if not instance.enabled:
        raise AirflowSkipException(f"{app}/{instance_name} is disabled in {settings.config_path()}")
    file_ids, everything = _triggering_files(context)
    trigger = "event" if file_ids or everything else "periodic"
    ctx = run_context_from_airflow(context)
    try:
        result = scan_contents(
            instance,
            Lake(settings.lake_root()),
            run_id=ctx.run_id,
            attempt=ctx.attempt,
            trigger=trigger,
            file_ids=None if everything or not file_ids else file_ids,
            inside_airflow=True,
        )
    except StageSkipped as exc:
        raise AirflowSkipException(str(exc)) from None
    except CredentialsRejected as exc:
        raise AirflowFailException(str(exc)) from None
    log.info(
        "%s/%s content scan (%s): %d considered, %d scanned, %d unreadable, %d skipped, %d failed, %d matches",
        app,
        instance_name,
        trigger,
        result.considered,
        result.scanned,
        result.unreadable,
        result.skipped,
        result.failed,
        result.matches,
    )
    return result.as_dict()


def _triggering_files(context: Any) -> tuple[list[str], bool]:
    """File ids carried by the asset events that triggered this run (none for a scheduled run), and
    whether one of them said there were too many to list."""
    events = context.get("triggering_asset_events") or {}
    file_ids: list[str] = []
    everything = False
    for asset_events in events.values():
        for event in asset_events:
            extra = getattr(event, "extra", None) or {}
            everything = everything or bool(extra.get("all_changed"))
            file_ids += [str(f) for f in extra.get("file_ids") or [] if isinstance(f, str | int)]
    return sorted(set(file_ids)), everything
