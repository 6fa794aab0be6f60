"""Issue 10, item 5: the lake holds personal data, so everything saaslens writes there is private to
its owner (files 0600, directories 0700) whatever the process umask."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from saaslens.catalog.build import build_catalog
from saaslens.lake.writer import Lake, StateStore, snapshot_id_for

NOW = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture
def ordinary_umask():
    old = os.umask(0o022)  # the usual default: without care, files come out 0644 and dirs 0755
    yield
    os.umask(old)


def account(i: int, status: str = "active") -> dict:
    return {"account_id": f"u{i}", "status": status, "account_type": "member", "is_admin": False}


def event(i: int) -> dict:
    return {
        "event_id": f"e{i}",
        "occurred_at": NOW - timedelta(hours=i),
        "category": "logon",
        "action": "user.session.start",
        "outcome": "success",
    }


def _not_private(root: Path) -> list[str]:
    found = []
    for path in [root, *root.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        expected = 0o700 if path.is_dir() else 0o600
        if mode != expected:
            found.append(f"{path.relative_to(root.parent)}: {oct(mode)}")
    return found


def test_every_file_and_directory_a_fresh_lake_gets_is_private(tmp_path, ordinary_umask):
    root = tmp_path / "lake"
    lake = Lake(root)
    # A published snapshot with its cursor and quality verdict.
    with lake.snapshot_writer("accounts", "okta", "a", snapshot_id_for(NOW)) as writer:
        writer.write([account(1), account(2)])
        writer.publish(audit=lambda _data: {"summary": "ok"}, extra={"cursor.json": {"cursor": {"at": "x"}}})
    # An empty snapshot, and a resumable one a killed scan left staged (parts and key sidecars).
    with lake.snapshot_writer("groups", "okta", "a", snapshot_id_for(NOW)) as writer:
        writer.publish()
    with lake.snapshot_writer("accounts", "okta", "b", snapshot_id_for(NOW), resumable=True) as writer:
        writer.write([account(3)])
    # A quarantined snapshot and a quarantined event batch.
    with lake.snapshot_writer("accounts", "okta", "c", snapshot_id_for(NOW)) as writer:
        writer.write([account(4)])
        writer.quarantine({"success": False}, "refused")
    events = lake.event_writer("activities", "okta", "a", "run1")
    events.write([event(1), event(30)])
    events.quarantine(events.to_arrow([event(2)]), {"success": False}, "refused")
    lake.write_completeness("okta", "a", "system_log", "w1", [])
    lake.append_run(
        {
            "app": "okta",
            "instance": "a",
            "run_id": "r1",
            "stage": "users",
            "attempt": 1,
            "started_at": NOW,
            "ended_at": NOW,
            "status": "success",
        }
    )
    StateStore(lake).put("okta", "a", "activities.system_log", {"high_water": NOW.isoformat()})
    build_catalog(root)
    assert (root / "saaslens.duckdb").exists()
    assert _not_private(root) == []


def test_a_lake_root_made_by_someone_else_keeps_its_mode_but_what_saaslens_adds_is_private(tmp_path, ordinary_umask):
    root = tmp_path / "shared-lake"
    root.mkdir(mode=0o750)
    lake = Lake(root)
    with lake.snapshot_writer("accounts", "okta", "a", snapshot_id_for(NOW)) as writer:
        writer.write([account(1)])
        writer.publish()
    assert stat.S_IMODE(root.stat().st_mode) == 0o750
    assert [p for p in _not_private(root) if not p.startswith("shared-lake:")] == []
