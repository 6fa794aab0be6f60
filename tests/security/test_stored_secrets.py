"""Issue 10, item 12: a registered secret echoed inside provider data (a display name, a file title,
an event's target) is masked at the lake writer's boundary, in every table written."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from saaslens.http import redaction
from saaslens.lake.writer import Lake, snapshot_id_for
from saaslens.runner import RunContext, run_stage
from saaslens_sandbox.core import SandboxServer, TenantSpec
from saaslens_sandbox.hostile import Attack, HostileConfig
from tests.e2e.okta_helpers import ANCHOR, instance, ssws

SECRET = "stored-secret-0123456789abcdef"
NOW = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture
def registered():
    redaction.register_secret(SECRET)
    yield SECRET
    with redaction._lock:
        redaction._secrets.discard(SECRET)


def _stored(root: Path) -> list[tuple[Path, bytes]]:
    found = []
    for path in root.rglob("*"):
        if path.is_file():
            found.append((path, path.read_bytes()))
            if path.suffix == ".parquet":  # pages are compressed: search the decoded values too
                found.append((path, json.dumps(pq.read_table(path).to_pylist(), default=str).encode()))
    return found


def test_a_secret_in_snapshot_and_event_values_is_masked(tmp_path, registered):
    lake = Lake(tmp_path)
    with lake.snapshot_writer("accounts", "okta", "a", snapshot_id_for(NOW), resumable=True) as writer:
        writer.write(
            [
                {
                    "account_id": f"id-{SECRET}",
                    "display_name": f"Mallory {SECRET} Jones",
                    "status": "active",
                    "account_type": "member",
                    "is_admin": False,
                    "raw": json.dumps({"name": SECRET}),
                },
                {"account_id": "u2", "display_name": "Plain", "status": "active", "account_type": "member"},
            ]
        )
        writer.publish()
    events = lake.event_writer("activities", "okta", "a", "r")
    event = {
        "event_id": "e1",
        "occurred_at": NOW - timedelta(hours=1),
        "category": "file",
        "action": "file.rename",
        "outcome": "success",
        "target_name": f"{SECRET}.txt",
    }
    assert events.write(events.to_arrow([event])) == 1
    for path, data in _stored(tmp_path):
        assert SECRET.encode() not in data, path
    accounts = {r["account_id"]: r for r in lake.read_snapshot("accounts", "okta", "a").to_pylist()}
    assert accounts["id-***"]["display_name"] == "Mallory *** Jones"
    assert accounts["u2"]["display_name"] == "Plain"  # rows without a secret are untouched
    assert lake.read_events("activities", "okta", "a").column("target_name").to_pylist() == ["***.txt"]


@pytest.mark.integration
def test_a_provider_echoing_the_api_token_in_a_name_does_not_get_it_stored(tmp_path):
    spec = TenantSpec(app="okta", name="echo", seed=9, users=12, options={"anchor": ANCHOR.isoformat()})
    lake = Lake(tmp_path / "lake")
    with SandboxServer([spec]) as server:
        connection = ssws(server, "echo")
        ctx = RunContext(run_id="echo", snapshot_id=snapshot_id_for(datetime.now(UTC)))
        inst = instance("echo")
        assert run_stage(inst, "authenticate", ctx, lake, connection=connection).status == "success"
        server.personality("okta", "echo").set_hostile(
            HostileConfig(attack=Attack.ECHO_SECRET, secret=connection.password)
        )
        result = run_stage(inst, "users", ctx, lake, connection=connection)
    assert result.status == "success", result
    assert lake.read_snapshot("accounts", "okta", "echo").num_rows == 12
    for path, data in _stored(lake.root):
        assert connection.password.encode() not in data, path
