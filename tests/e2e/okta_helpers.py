"""Helpers for running Okta instances against the sandbox in tests."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from saaslens.config import InstanceConfig
from saaslens.connections import ConnectionInfo
from saaslens.lake.writer import Lake, snapshot_id_for
from saaslens.runner import RunContext, StageResult, run_stage

STAGES = ["authenticate", "users", "groups", "privileges", "app_permissions", "activities"]
# Anchor the generated history in the past so no event falls inside the connector's lag.
ANCHOR = (datetime.now(UTC) - timedelta(minutes=10)).replace(microsecond=0)


def rsa_keypair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def instance(name: str, **options: Any) -> InstanceConfig:
    return InstanceConfig(
        app="okta",
        name=name,
        conn_id=f"okta_{name}",
        options={"max_workers": 4, "retry_initial_backoff_seconds": 0.05, **options},
    )


def ssws(server, tenant: str, token: str | None = None) -> ConnectionInfo:
    return ConnectionInfo(
        conn_id=f"okta_{tenant}",
        conn_type="http",
        host=server.tenant_url("okta", tenant),
        password=token or f"sandbox-okta-{tenant}-admin",
        extra={"auth": "ssws"},
    )


def sync(
    inst: InstanceConfig, connection: ConnectionInfo, lake: Lake, stages=STAGES, moment: datetime | None = None
) -> dict[str, StageResult]:
    moment = moment or datetime.now(UTC)
    ctx = RunContext(run_id=f"test-{moment:%H%M%S%f}", snapshot_id=snapshot_id_for(moment))
    return {stage: run_stage(inst, stage, ctx, lake, connection=connection) for stage in stages}


def assert_lake_equals_ground_truth(lake: Lake, name: str, truth: dict[str, Any]) -> None:
    accounts = lake.read_snapshot("accounts", "okta", name).to_pylist()
    assert len(accounts) == len({a["account_id"] for a in accounts}), "duplicate accounts"
    expected_users = {u["id"]: u["status"] for u in truth["users"]}
    assert {a["account_id"]: a["provider_status"] for a in accounts} == expected_users
    admins = {r["user_id"] for r in truth["role_assignments"]}
    assert {a["account_id"] for a in accounts if a["is_admin"]} == admins

    groups = lake.read_snapshot("groups", "okta", name).to_pylist()
    assert sorted(g["group_id"] for g in groups) == sorted(g["id"] for g in truth["groups"])
    members = lake.read_snapshot("group_members", "okta", name).to_pylist()
    pairs = Counter((m["group_id"], m["account_id"]) for m in members)
    assert max(pairs.values(), default=1) == 1, "duplicate memberships"
    assert set(pairs) == {(m["group_id"], m["user_id"]) for m in truth["memberships"]}

    privileges = lake.read_snapshot("privileges", "okta", name).to_pylist()
    assert sorted((p["account_id"], p["privilege_id"]) for p in privileges) == sorted(
        (r["user_id"], r["role_id"]) for r in truth["role_assignments"]
    )

    grants = lake.read_snapshot("app_permissions", "okta", name).to_pylist()
    assert sorted(g["grant_id"] for g in grants) == sorted(g["id"] for g in truth["grants"])

    events = lake.read_events("activities", "okta", name).column("event_id").to_pylist()
    assert len(events) == len(set(events)), f"{len(events) - len(set(events))} duplicated events"
    assert set(events) == {e["uuid"] for e in truth["log_events"]}
