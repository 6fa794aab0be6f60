"""Airflow Assets for what the instance DAGs publish: one per (app, instance, table).

A stage task declares the tables it publishes as outlets, so Airflow records an asset event each
time a snapshot (or a batch of events) goes live, and the compliance-reports DAG runs on them.
Only names are built here; Airflow's Asset class is imported by the caller at DAG build time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from saaslens.connectors import registry
from saaslens.vocabulary import STAGE_TABLES, Stage

if TYPE_CHECKING:
    from airflow.sdk import Asset, AssetAlias

    from saaslens.config import InstanceConfig

SCHEME = "saaslens"
# The report reads these; instance_permissions (what the credentials may do) changes no finding.
REPORTED_TABLES = frozenset(
    table for stage, tables in STAGE_TABLES.items() if stage != Stage.AUTHENTICATE for table in tables
)


def table_uri(app: str, instance: str, table: str) -> str:
    return f"{SCHEME}://{app}/{instance}/{table}"


# Not a table: the files an activity log named as created, edited or shared, which the instance's
# content-inspection DAG scans at once (saaslens.orchestration.content_dag).
FILE_CHANGES = "file_changes"


def file_changes_uri(app: str, instance: str) -> str:
    return table_uri(app, instance, FILE_CHANGES)


def file_changes_alias(instance: InstanceConfig) -> str:
    return f"{SCHEME}-{instance.key}-file-changes"


def stage_outlets(instance: InstanceConfig, stage: Stage) -> list[Asset | AssetAlias]:
    """The assets a stage task updates when it succeeds. The files stage of an app whose contents
    are inspected also names an alias through which it emits a file-changes event, only when the
    run's activities named changed files (an outlet Asset would fire on every success)."""
    from airflow.sdk import Asset, AssetAlias

    outlets: list[Asset | AssetAlias] = [
        Asset(table_uri(instance.app, instance.name, t), group=SCHEME) for t in STAGE_TABLES[stage]
    ]
    contents = registry.app_spec(instance.app).contents
    if stage == Stage.FILES and contents is not None and contents.change_events:
        outlets.append(AssetAlias(file_changes_alias(instance), group=SCHEME))
    return outlets


def file_changes_asset(instance: InstanceConfig) -> Asset:
    from airflow.sdk import Asset

    return Asset(file_changes_uri(instance.app, instance.name), group=SCHEME)


def report_trigger_assets(instances: list[InstanceConfig]) -> list[Asset]:
    """Every reported table of every enabled instance whose connector has the stage that publishes it."""
    from airflow.sdk import Asset

    assets = []
    for instance in instances:
        if not instance.enabled:
            continue
        for stage in registry.app_spec(instance.app).stage_names:
            for table in STAGE_TABLES[stage]:
                if table in REPORTED_TABLES:
                    assets.append(Asset(table_uri(instance.app, instance.name, table), group=SCHEME))
    return assets
