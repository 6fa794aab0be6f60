"""Okta end to end: every stage through the runner against the sandbox, lake == ground truth."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from saaslens.connections import ConnectionInfo
from saaslens.lake.writer import Lake
from saaslens.runner import CredentialsRejected, RunContext, StageFailed, run_stage
from saaslens_sandbox.core import FaultConfig, RateLimitConfig, SandboxServer, TenantSpec
from tests.e2e.okta_helpers import (
    ANCHOR,
    STAGES,
    assert_lake_equals_ground_truth,
    instance,
    rsa_keypair,
    ssws,
    sync,
)

pytestmark = pytest.mark.integration
PRIVATE_KEY, PUBLIC_KEY = rsa_keypair()
LIMITED_CLIENT = "0oalimitedscopes0001"
FULL_CLIENT = "0oafullscopes0000001"
NO_ROLES_CLIENT = "0oanorolesscope00001"


@pytest.fixture(scope="module")
def server():
    oauth_clients = [
        {
            "client_id": LIMITED_CLIENT,
            "public_key_pem": PUBLIC_KEY,
            "scopes": ["okta.users.read", "okta.groups.read", "okta.roles.read"],
        },
        {
            "client_id": FULL_CLIENT,
            "public_key_pem": PUBLIC_KEY,
            "scopes": ["okta.users.read", "okta.groups.read", "okta.roles.read", "okta.logs.read"],
        },
        {"client_id": NO_ROLES_CLIENT, "public_key_pem": PUBLIC_KEY, "scopes": ["okta.users.read", "okta.groups.read"]},
    ]
    specs = [
        TenantSpec(
            app="okta",
            name="acme",
            seed=11,
            users=260,
            options={"anchor": ANCHOR.isoformat(), "oauth_clients": oauth_clients},
        ),
        TenantSpec(app="okta", name="globex", seed=12, users=90, options={"anchor": ANCHOR.isoformat()}),
        # Short rate-limit windows: an injected 429 says "wait for the reset", which is seconds here.
        TenantSpec(
            app="okta",
            name="flaky",
            seed=13,
            users=60,
            options={"anchor": ANCHOR.isoformat()},
            rate_limits=RateLimitConfig(window_seconds=2),
        ),
    ]
    with SandboxServer(specs) as running:
        yield running


def truth(server, tenant):
    return server.personality("okta", tenant).ground_truth()


def test_two_orgs_side_by_side_equal_ground_truth_and_resync_adds_nothing(server, lake_root):
    lake = Lake(lake_root)
    for tenant in ("acme", "globex"):
        results = sync(instance(tenant), ssws(server, tenant), lake)
        assert {s: r.status for s, r in results.items()} == dict.fromkeys(STAGES, "success")
        assert_lake_equals_ground_truth(lake, tenant, truth(server, tenant))
    # the second sync is incremental for events and a new snapshot for the rest
    later = datetime.now(UTC) + timedelta(seconds=1)
    results = sync(instance("acme"), ssws(server, "acme"), lake, moment=later)
    assert results["activities"].records == 0
    assert len(lake.snapshot_ids("accounts", "okta", "acme")) == 2
    assert_lake_equals_ground_truth(lake, "acme", truth(server, "acme"))
    runs = lake.read_snapshot("instance_permissions", "okta", "acme").to_pylist()
    assert {r["name"] for r in runs if r["kind"] == "stage" and r["granted"]} >= set(STAGES[1:])


def test_429s_5xx_resets_and_bad_bodies_still_end_equal_to_ground_truth(server, lake_root):
    server.personality("okta", "flaky").set_faults(
        FaultConfig(
            rate_429=0.08, rate_5xx=0.08, rate_reset=0.03, rate_html_error=0.03, rate_truncated=0.03, burst_429=3
        )
    )
    try:
        lake = Lake(lake_root)
        results = sync(instance("flaky", retry_max_attempts=12), ssws(server, "flaky"), lake)
        assert {s: r.status for s, r in results.items()} == dict.fromkeys(STAGES, "success")
        assert sum(r.metrics["retries"] for r in results.values()) > 0
        assert sum(r.metrics["throttled"] for r in results.values()) >= 3
    finally:
        server.personality("okta", "flaky").set_faults(FaultConfig())
    assert_lake_equals_ground_truth(lake, "flaky", truth(server, "flaky"))


def test_oauth_private_key_jwt_with_all_scopes(server, lake_root):
    lake = Lake(lake_root)
    connection = ssws(server, "acme")
    connection = type(connection)(
        conn_id="okta_oauth", host=connection.host, extra={"client_id": FULL_CLIENT, "private_key": PRIVATE_KEY}
    )
    results = sync(instance("acme"), connection, lake)
    assert all(r.status == "success" for r in results.values())
    permissions = lake.read_snapshot("instance_permissions", "okta", "acme").to_pylist()
    assert {p["name"] for p in permissions if p["kind"] == "permission"} >= {"okta.logs.read", "okta.users.read"}
    assert_lake_equals_ground_truth(lake, "acme", truth(server, "acme"))


def test_denied_capability_skips_that_stage_with_the_reason(server, lake_root):
    lake = Lake(lake_root)
    connection = ssws(server, "acme")
    connection = type(connection)(
        conn_id="okta_limited",
        host=connection.host,
        extra={
            "client_id": LIMITED_CLIENT,
            "private_key": PRIVATE_KEY,
            "scopes": ["okta.users.read", "okta.groups.read", "okta.roles.read"],
        },
    )
    results = sync(instance("acme"), connection, lake)
    assert results["activities"].status == "skipped"
    assert "okta.logs.read" in results["activities"].detail and "E0000006" in results["activities"].detail
    assert all(results[s].status == "success" for s in STAGES if s != "activities")
    assert lake.read_events("activities", "okta", "acme").num_rows == 0
    runs = {r["stage"]: r for r in _runs(lake)}
    assert runs["activities"]["status"] == "skipped" and "okta.logs.read" in runs["activities"]["error"]


def test_without_roles_scope_accounts_are_stored_with_admin_unknown(server, lake_root):
    """is_admin is null when the credentials cannot read roles: the snapshot must still pass the
    gate (unknown is not "no"), and the privileges stage says why it did not run."""
    lake = Lake(lake_root)
    connection = ConnectionInfo(
        conn_id="okta_no_roles",
        host=ssws(server, "acme").host,
        extra={
            "client_id": NO_ROLES_CLIENT,
            "private_key": PRIVATE_KEY,
            "scopes": ["okta.users.read", "okta.groups.read"],
        },
    )
    results = sync(instance("acme"), connection, lake, stages=["authenticate", "users", "privileges"])
    assert results["users"].status == "success", results["users"].detail
    accounts = lake.read_snapshot("accounts", "okta", "acme").to_pylist()
    assert len(accounts) == len(truth(server, "acme")["users"])
    assert {a["is_admin"] for a in accounts} == {None}
    assert results["privileges"].status == "skipped" and "okta.roles.read" in results["privileges"].detail


def _runs(lake: Lake) -> list[dict]:
    import pyarrow.parquet as pq

    files = sorted((lake.root / "scan_runs").glob("app=okta/instance=acme/*/*.parquet"))
    return [row for f in files for row in pq.read_table(f).to_pylist()]


def test_rejected_credentials_fail_at_once_without_retries_or_secret(server, lake_root):
    lake = Lake(lake_root)
    bad = ssws(server, "acme", token="00wrong-token-value-123456")
    ctx = RunContext(run_id="bad", snapshot_id="20261127T000000000000Z")
    with pytest.raises(CredentialsRejected) as info:
        run_stage(instance("acme"), "authenticate", ctx, lake, connection=bad)
    assert "E0000011" in str(info.value) and "00wrong-token" not in str(info.value)
    (run,) = _runs(lake)
    assert run["requests"] == 1 and run["status"] == "failed"
    assert lake.snapshot_ids("instance_permissions", "okta", "acme") == []


def test_missing_connection_names_it(lake_root, monkeypatch):
    monkeypatch.setenv("SAASLENS_AIRFLOW_SETTINGS", str(lake_root / "none.yaml"))
    ctx = RunContext(run_id="x", snapshot_id="20261127T000000000000Z")
    with pytest.raises(CredentialsRejected, match=r"'okta_nowhere'.*not found"):
        run_stage(instance("nowhere"), "users", ctx, Lake(lake_root))


def test_malformed_pages_fail_clearly_and_keep_the_previous_snapshot(server, lake_root):
    lake = Lake(lake_root)
    sync(instance("globex"), ssws(server, "globex"), lake, stages=["users"])
    before = lake.snapshot_ids("accounts", "okta", "globex")
    server.personality("okta", "globex").set_faults(FaultConfig(rate_truncated=1.0))
    try:
        ctx = RunContext(run_id="broken", snapshot_id="20991231T000000000000Z")
        with pytest.raises(StageFailed, match="not valid JSON"):
            run_stage(instance("globex", retry_max_attempts=2), "users", ctx, lake, connection=ssws(server, "globex"))
    finally:
        server.personality("okta", "globex").set_faults(FaultConfig())
    assert lake.snapshot_ids("accounts", "okta", "globex") == before
    assert not any((lake.root / "_staging").iterdir())
