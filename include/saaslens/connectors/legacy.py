"""TEMPORARY (issue 11 transition): an AppSpec derived from a connector class that still declares
itself through class attributes (stage_permissions, resumable_stages, scan_* methods). Deleted once
every built-in connector declares an AppSpec in its folder."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from saaslens.connectors.kit import (
    ActivityStage,
    ActivityWindow,
    AppSpec,
    Batch,
    Incremental,
    SnapshotStage,
)
from saaslens.vocabulary import STAGE_TABLES, TARGET_CAPABILITY, Capability, Stage

_OLD_STAGE_CAPABILITIES = {
    Stage.USERS: {Capability.LIST_ACCOUNTS},
    Stage.GROUPS: {Capability.LIST_GROUPS},
    Stage.PRIVILEGES: {Capability.LIST_PRIVILEGES},
    Stage.APP_PERMISSIONS: {Capability.VIEW_APP_PERMISSIONS},
    Stage.ACTIVITIES: {Capability.LOGON_ACTIVITY, Capability.USER_ACTIVITY, Capability.ADMIN_ACTIVITY},
    Stage.FILES: {Capability.DLP_PERIODIC_SCAN, Capability.FILE_GOVERNANCE, Capability.SHARING_CONTROL},
}
_CONNECTOR = "_legacy_connector"
_ACTION_CAPABILITIES = set(TARGET_CAPABILITY.values())


def _normalise(item: Any, table: str) -> Batch:
    from saaslens.connectors.base import ChangeBatch, EventBatch, SnapshotBatch

    if isinstance(item, Batch):
        return item
    if isinstance(item, SnapshotBatch):
        return Batch(item.table, item.rows, item.checkpoint)
    if isinstance(item, ChangeBatch):
        return Batch(item.table, item.upserts, None, list(item.removed), dict(item.children), item.cursor)
    if isinstance(item, EventBatch):
        return Batch("activities", item.rows, item.resume.to_state() if item.resume is not None else None)
    if isinstance(item, tuple):
        return Batch(item[0], item[1])
    return Batch(table, item)


def _snapshot(stage: Stage, resumable: bool) -> Any:
    def scan(connector: Any, resume: dict[str, Any] | None) -> Iterator[Batch]:
        method = getattr(connector, f"scan_{stage}")
        items = method(resume=resume) if resumable else method()
        for item in items:
            yield _normalise(item, STAGE_TABLES[stage][0])

    return scan


def _activities(connector: Any, stream: str, window: ActivityWindow, resume: dict[str, Any] | None) -> Iterator[Batch]:
    from saaslens.http.pagination import PageRequest

    request = PageRequest.from_state(resume) if resume is not None else None
    for item in connector.scan_activities(stream, window, request):
        yield _normalise(item, "activities")


def _incremental(stage: Stage) -> Incremental[Any]:
    def changes(connector: Any, cursor: dict[str, Any]) -> Iterator[Batch]:
        for item in connector.scan_changes(str(stage), cursor):
            batch = _normalise(item, STAGE_TABLES[stage][0])
            batch.context[_CONNECTOR] = connector  # transition only: the old merge is a method
            yield batch

    def merge(table: str, previous: Any, changed: Any, context: Any) -> Any:
        return context[_CONNECTOR].merge_incremental(table, previous, changed)

    return Incremental(start_cursor=lambda c: c.start_cursor(str(stage)), changes=changes, merge=merge)


def legacy_app_spec(cls: Any) -> AppSpec:
    stages: list[Any] = []
    for stage, needs in _OLD_STAGE_CAPABILITIES.items():
        if not needs & set(cls.capabilities):
            continue
        permission = cls.stage_permissions.get(str(stage))
        if stage == Stage.ACTIVITIES:
            stages.append(ActivityStage(streams=tuple(cls.activity_streams), scan=_activities, permission=permission))
            continue
        stages.append(
            SnapshotStage(
                stage=stage,
                scan=_snapshot(stage, stage in cls.resumable_stages),
                permission=permission,
                resumable=stage in cls.resumable_stages,
                incremental=_incremental(stage) if stage in cls.incremental_stages else None,
            )
        )
    import importlib

    folder = cls.__module__.rsplit(".", 1)[0]
    ocsf = importlib.import_module(f"{folder}.ocsf")
    identity = importlib.import_module(f"{folder}.identity")
    scopes = importlib.import_module(f"{folder}.scopes")
    return AppSpec(
        ocsf=ocsf.MAPPINGS,
        identity_keys=identity.KEYS,
        identity_provider=identity.IDENTITY_PROVIDER,
        broad_scopes=scopes.BROAD,
        app=cls.app,
        title=cls.title,
        connector=cls,
        stages=tuple(stages),
        api_capabilities=frozenset(set(cls.capabilities) - _ACTION_CAPABILITIES),
    )
