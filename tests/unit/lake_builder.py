"""Small hand-built lakes for catalog and finding tests, written with the lake writer itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from saaslens.catalog.build import build_catalog, connect
from saaslens.lake.writer import Lake, snapshot_id_for

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)

_DEFAULTS: dict[str, dict[str, Any]] = {
    "accounts": {
        "login": None,
        "email": None,
        "display_name": None,
        "status": "active",
        "provider_status": None,
        "account_type": "member",
        "is_admin": False,
        "mfa_enabled": None,
        "created_at": None,
        "last_login_at": None,
        "updated_at": None,
        "raw": None,
    },
    "app_permissions": {
        "account_id": None,
        "client_id": "client",
        "client_name": None,
        "scopes": [],
        "status": None,
        "source": "user",
        "created_at": None,
        "raw": None,
    },
    "files": {
        "name": None,
        "path": None,
        "owner_id": None,
        "owner_email": None,
        "mime_type": None,
        "size_bytes": None,
        "created_at": None,
        "modified_at": None,
        "visibility": "private",
        "raw": None,
    },
    "file_shares": {"principal_id": None, "principal_email": None, "role": "reader", "is_external": False, "raw": None},
    "privileges": {"scope": None, "assignment_type": "direct", "via_group_id": None, "raw": None},
}


def row(table: str, **values: Any) -> dict[str, Any]:
    return {**_DEFAULTS.get(table, {}), **values}


class LakeBuilder:
    """Publishes snapshots and events into a lake under tmp_path, then opens its catalog."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.lake = Lake(root)

    def snapshot(
        self, table: str, app: str, instance: str, rows: list[dict[str, Any]], at: datetime = NOW
    ) -> LakeBuilder:
        with self.lake.snapshot_writer(table, app, instance, snapshot_id_for(at)) as writer:
            writer.write([row(table, **r) for r in rows])
            writer.publish()
        return self

    def accounts(self, app: str, instance: str, *rows: dict[str, Any], at: datetime = NOW) -> LakeBuilder:
        return self.snapshot("accounts", app, instance, list(rows), at)

    def events(self, app: str, instance: str, rows: list[dict[str, Any]]) -> LakeBuilder:
        defaults = {
            "category": "logon",
            "action": "user.session.start",
            "outcome": "success",
            "outcome_reason": None,
            "actor_id": None,
            "actor_login": None,
            "actor_type": None,
            "target_id": None,
            "target_name": None,
            "target_type": None,
            "ip": None,
            "user_agent": None,
            "country": None,
            "raw": None,
        }
        writer = self.lake.event_writer("activities", app, instance, "test")
        writer.write([{**defaults, **r} for r in rows])
        return self

    def catalog(self) -> duckdb.DuckDBPyConnection:
        build_catalog(self.root)
        return connect(self.root)


def ago(days: float = 0, hours: float = 0) -> datetime:
    return NOW - timedelta(days=days, hours=hours)
