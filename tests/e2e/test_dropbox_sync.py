"""Dropbox end to end: every stage through the runner against the sandbox, lake == ground truth."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from saaslens.config import InstanceConfig
from saaslens.connections import ConnectionInfo
from saaslens.lake.writer import Lake, snapshot_id_for
from saaslens.runner import CredentialsRejected, RunContext, StageResult, run_stage
from saaslens_sandbox.core import FaultConfig, RateLimitConfig, SandboxServer, TenantSpec
from tests.oracles import dropbox as oracle

pytestmark = pytest.mark.integration

STAGES = ["authenticate", "users", "groups", "privileges", "app_permissions", "activities"]
# The generated history ends in the past, so no event falls inside the connector's lag.
ANCHOR = (datetime.now(UTC) - timedelta(minutes=10)).replace(microsecond=0)


def tenant(name: str, seed: int, users: int, window_seconds: int = 60, **options: Any) -> TenantSpec:
    return TenantSpec(
        app="dropbox",
        name=name,
        seed=seed,
        users=users,
        options={"anchor": ANCHOR.isoformat(), **options},
        # short windows so a throttled test waits seconds, not a minute
        rate_limits=RateLimitConfig(window_seconds=window_seconds),
    )


@pytest.fixture(scope="module")
def server():
    specs = [
        tenant("acme", 41, 240, window_seconds=5),
        tenant("globex", 42, 90, window_seconds=2, events=900),
        tenant("flaky", 43, 60, window_seconds=1, events=400),
    ]
    with SandboxServer(specs) as running:
        yield running


def truth(server: SandboxServer, name: str) -> dict[str, Any]:
    return server.personality("dropbox", name).ground_truth()


def instance(name: str, **options: Any) -> InstanceConfig:
    return InstanceConfig(
        app="dropbox",
        name=name,
        conn_id=f"dropbox_{name}",
        options={"max_workers": 4, "retry_initial_backoff_seconds": 0.05, **options},
    )


def connection(server: SandboxServer, name: str, token: str = "scanner", secret: str | None = None) -> ConnectionInfo:
    """As docs/connectors/dropbox.md has the admin fill it: app key, app secret, refresh token."""
    credentials = truth(server, name)["credentials"]
    return ConnectionInfo(
        conn_id=f"dropbox_{name}",
        conn_type="http",
        host=server.tenant_url("dropbox", name),
        login=credentials["client_id"],
        password=secret or credentials["client_secret"],
        extra={"refresh_token": credentials["refresh_tokens"][token]["token"]},
    )


def sync(inst: InstanceConfig, conn: ConnectionInfo, lake: Lake, stages=STAGES) -> dict[str, StageResult]:
    moment = datetime.now(UTC)
    ctx = RunContext(run_id=f"test-{moment:%H%M%S%f}", snapshot_id=snapshot_id_for(moment))
    return {stage: run_stage(inst, stage, ctx, lake, connection=conn) for stage in stages}


def snapshot(lake: Lake, table: str, name: str) -> list[dict[str, Any]]:
    return lake.read_snapshot(table, "dropbox", name).to_pylist()


def assert_lake_equals_ground_truth(
    lake: Lake, name: str, truth: dict[str, Any], *, removed: bool = False, events: bool = True, grants: bool = True
) -> None:
    expected = oracle.accounts(truth, include_removed=removed)
    accounts = snapshot(lake, "accounts", name)
    assert len(accounts) == len({a["account_id"] for a in accounts}), "duplicate accounts"
    stored = {a["account_id"]: {column: a[column] for column in next(iter(expected.values()))} for a in accounts}
    assert stored == expected

    privileges = Counter(
        (p["account_id"], p["privilege_id"], p["privilege_name"]) for p in snapshot(lake, "privileges", name)
    )
    assert max(privileges.values(), default=1) == 1, "duplicate privileges"
    assert set(privileges) == oracle.privileges(truth, include_removed=removed)

    groups = snapshot(lake, "groups", name)
    assert {g["group_id"]: (g["name"], g["group_type"]) for g in groups} == oracle.groups(truth)
    assert len(groups) == len(oracle.groups(truth))
    members = Counter((m["group_id"], m["account_id"], m["member_role"]) for m in snapshot(lake, "group_members", name))
    assert max(members.values(), default=1) == 1, "duplicate memberships"
    assert set(members) == oracle.memberships(truth)

    if grants:
        rows = snapshot(lake, "app_permissions", name)
        assert len(rows) == len({r["grant_id"] for r in rows}), "duplicate grants"
        assert {
            (r["account_id"], r["client_id"]): {
                "scopes": r["scopes"],
                "client_name": r["client_name"],
                "created_at": r["created_at"],
            }
            for r in rows
        } == oracle.grants(truth)

    activities = lake.read_events("activities", "dropbox", name).to_pylist()
    assert len(activities) == len({e["event_id"] for e in activities}), "duplicate events"
    if not events:
        assert activities == []
        return
    raw = Counter(orjson.dumps(orjson.loads(e["raw"]), option=orjson.OPT_SORT_KEYS) for e in activities)
    assert raw == oracle.events(truth)
    failures = {(e["actor_login"], e["occurred_at"]) for e in activities if e["outcome"] == "failure"}
    assert failures == oracle.failed_sign_ins(truth) and failures


# -- the tests ---------------------------------------------------------------------------------


def test_two_teams_side_by_side_equal_ground_truth_and_resync_adds_no_events(server, lake_root):
    lake = Lake(lake_root)
    # globex pages seven at a time (many /continue pages, empty event pages with has_more) and
    # lists removed members too
    instances = {
        "acme": instance("acme"),
        "globex": instance("globex", page_size=7, include_removed_members=True),
    }
    for name, inst in instances.items():
        results = sync(inst, connection(server, name), lake)
        assert {s: r.status for s, r in results.items()} == dict.fromkeys(STAGES, "success"), results
        assert_lake_equals_ground_truth(lake, name, truth(server, name), removed=name == "globex")
    globex = oracle.accounts(truth(server, "globex"), include_removed=True)
    assert "deprovisioned" in {a["status"] for a in globex.values()}, "the seed plants no removed member"
    permissions = {p["name"] for p in snapshot(lake, "instance_permissions", "acme") if p["kind"] == "permission"}
    assert {"team_info.read", "members.read", "groups.read", "sessions.list", "events.read"} <= permissions
    again = sync(instances["acme"], connection(server, "acme"), lake)
    assert again["activities"].records == 0 and again["activities"].status == "success"
    assert len(lake.snapshot_ids("accounts", "dropbox", "acme")) == 2
    assert_lake_equals_ground_truth(lake, "acme", truth(server, "acme"))


def test_429s_5xx_resets_expired_tokens_and_bad_bodies_still_end_equal_to_ground_truth(server, lake_root):
    flaky = server.personality("dropbox", "flaky")
    flaky.set_faults(
        FaultConfig(
            rate_429=0.08,
            rate_5xx=0.08,
            rate_reset=0.03,
            rate_html_error=0.03,
            rate_truncated=0.03,
            burst_429=3,
            token_max_requests=15,
        )
    )
    try:
        lake = Lake(lake_root)
        results = sync(instance("flaky", retry_max_attempts=12, page_size=20), connection(server, "flaky"), lake)
        assert {s: r.status for s, r in results.items()} == dict.fromkeys(STAGES, "success"), results
        assert sum(r.metrics["retries"] for r in results.values()) > 0
        assert sum(r.metrics["throttled"] for r in results.values()) >= 3
        assert flaky.stats()["faults_injected"]["token_expired"] > 0
    finally:
        flaky.set_faults(FaultConfig())
    assert_lake_equals_ground_truth(lake, "flaky", truth(server, "flaky"))


def test_a_token_without_events_read_skips_only_activities(server, lake_root):
    lake = Lake(lake_root)
    results = sync(instance("acme"), connection(server, "acme", token="no-events"), lake)
    assert results["activities"].status == "skipped"
    assert "missing_scope" in results["activities"].detail and "events.read" in results["activities"].detail
    assert all(results[s].status == "success" for s in STAGES if s != "activities"), results
    assert_lake_equals_ground_truth(lake, "acme", truth(server, "acme"), events=False)


def test_a_members_only_token_reads_members_and_roles_and_skips_the_rest(server, lake_root):
    lake = Lake(lake_root)
    results = sync(instance("globex"), connection(server, "globex", token="members-only"), lake)
    assert {s: r.status for s, r in results.items()} == {
        "authenticate": "success",
        "users": "success",
        "privileges": "success",
        "groups": "skipped",
        "app_permissions": "skipped",
        "activities": "skipped",
    }, results
    for stage, scope in (
        ("groups", "groups.read"),
        ("app_permissions", "sessions.list"),
        ("activities", "events.read"),
    ):
        assert scope in results[stage].detail, results[stage].detail
    assert {a["account_id"] for a in snapshot(lake, "accounts", "globex")} == set(
        oracle.accounts(truth(server, "globex"))
    )
    assert lake.snapshot_ids("groups", "dropbox", "globex") == []


@pytest.mark.parametrize(("field", "code"), [("secret", "invalid_client"), ("refresh_token", "invalid_grant")])
def test_rejected_credentials_fail_at_once_with_dropboxs_code(server, lake_root, field, code):
    lake = Lake(lake_root)
    conn = connection(server, "acme", secret="nope-42" if field == "secret" else None)
    if field == "refresh_token":
        conn = ConnectionInfo(
            conn.conn_id,
            conn.conn_type,
            conn.host,
            login=conn.login,
            password=conn.password,
            extra={"refresh_token": "nope-42"},
        )
    ctx = RunContext(run_id="bad", snapshot_id="20261127T000000000000Z")
    with pytest.raises(CredentialsRejected) as info:
        run_stage(instance("acme"), "authenticate", ctx, lake, connection=conn)
    assert code in str(info.value)
    assert "nope-42" not in str(info.value)
    assert lake.snapshot_ids("instance_permissions", "dropbox", "acme") == []
