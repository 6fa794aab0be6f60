"""Google Workspace end to end: every stage through the runner against the sandbox, and the lake
equals the sandbox's ground truth exactly.

Activities are stored one row per *event*: event_id = "{application}:{id.time}:{id.uniqueQualifier}:{n}"
with n the event's position in its activity (see docs/connectors/google_workspace.md).
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from saaslens.config import InstanceConfig
from saaslens.connections import ConnectionInfo
from saaslens.lake.writer import Lake, snapshot_id_for
from saaslens.runner import CredentialsRejected, RunContext, StageResult, run_stage
from saaslens_sandbox.core import FaultConfig, SandboxServer, TenantSpec

pytestmark = pytest.mark.integration
APP = "google_workspace"
STAGES = ["authenticate", "users", "groups", "privileges", "app_permissions", "activities", "files"]
APPLICATIONS = ("login", "admin", "token", "drive")
# History ends before the connector's lag, and events are visible at once, unless a test says otherwise.
ANCHOR = (datetime.now(UTC) - timedelta(minutes=10)).replace(microsecond=0)
NO_DELAY = dict.fromkeys(APPLICATIONS, 0)
# The late tenant's history ends 90 s ago, and events surface only after Google-like delays.
LATE_ANCHOR = (datetime.now(UTC) - timedelta(seconds=90)).replace(microsecond=0)
LATE_DELAYS = {"login": 3600, "admin": 120, "token": 600, "drive": 900}


@pytest.fixture(scope="module")
def server():
    def spec(name: str, seed: int, users: int, **options: Any) -> TenantSpec:
        options = {"anchor": ANCHOR.isoformat(), "report_delays": NO_DELAY, **options}
        return TenantSpec(app=APP, name=name, seed=seed, users=users, options=options)

    specs = [
        spec("acme", 21, 140, events=1500),
        spec("globex", 22, 60, domains=["globex.example.com", "globex-labs.example.com"]),
        spec("flaky", 23, 50),
        spec("late", 24, 60, anchor=LATE_ANCHOR.isoformat(), report_delays=LATE_DELAYS, events=3000, history_days=1),
    ]
    with SandboxServer(specs) as running:
        yield running


def truth(server, tenant: str) -> dict[str, Any]:
    return server.personality(APP, tenant).ground_truth()


def instance(name: str, **options: Any) -> InstanceConfig:
    return InstanceConfig(
        app=APP,
        name=name,
        conn_id=f"gws_{name}",
        options={"max_workers": 4, "retry_initial_backoff_seconds": 0.05, **options},
    )


def connection(server, tenant: str, account: str = "scanner", **overrides: Any) -> ConnectionInfo:
    credentials = truth(server, tenant)["credentials"]
    key_file = credentials["service_accounts"][account]["key_file"]
    extra = {"subject": credentials["subject"], **overrides}
    return ConnectionInfo(
        conn_id=f"gws_{tenant}", conn_type="google_workspace", host=server.tenant_url(APP, tenant),
        password=json.dumps(key_file), extra=extra,
    )  # fmt: skip


def sync(inst: InstanceConfig, conn: ConnectionInfo, lake: Lake, stages=STAGES) -> dict[str, StageResult]:
    moment = datetime.now(UTC)
    ctx = RunContext(run_id=f"test-{moment:%H%M%S%f}", snapshot_id=snapshot_id_for(moment))
    return {stage: run_stage(inst, stage, ctx, lake, connection=conn) for stage in stages}


# -- expected rows, from the ground truth ------------------------------------------------------


def expected_event_ids(truth: dict[str, Any]) -> set[str]:
    return {
        f"{app}:{a['id']['time']}:{a['id']['uniqueQualifier']}:{n}"
        for app, activities in truth["activities"].items()
        for a in activities
        for n in range(len(a["events"]))
    }


def expected_privileges(truth: dict[str, Any]) -> set[tuple[str, str]]:
    pairs = set()
    for assignment in truth["role_assignments"]:
        if assignment["assigneeType"] == "user":
            pairs.add((assignment["assignedTo"], assignment["roleAssignmentId"]))
        else:
            members = truth["members"][assignment["assignedTo"]]
            pairs |= {(m["id"], assignment["roleAssignmentId"]) for m in members if m["type"] == "USER"}
    return pairs


def expected_visibility(item: dict[str, Any], domains: set[str]) -> str:
    shared = [p for p in item["permissions"] if p["role"] != "owner"]
    if any(p["type"] == "anyone" for p in shared):
        return "public"
    outside = [
        p for p in shared
        if (p.get("domain") if p["type"] == "domain" else p["emailAddress"].split("@")[1]) not in domains
    ]  # fmt: skip
    return "external" if outside else ("internal" if shared else "private")


def assert_lake_equals_ground_truth(lake: Lake, name: str, truth: dict[str, Any]) -> None:
    accounts = lake.read_snapshot("accounts", APP, name).to_pylist()
    assert len(accounts) == len({a["account_id"] for a in accounts}), "duplicate accounts"
    status = {
        u["id"]: "SUSPENDED" if u["suspended"] else "ARCHIVED" if u["archived"] else "ACTIVE" for u in truth["users"]
    }
    assert {a["account_id"]: a["provider_status"] for a in accounts} == status
    admins = {u["id"] for u in truth["users"] if u["isAdmin"] or u["isDelegatedAdmin"]}
    assert {a["account_id"] for a in accounts if a["is_admin"]} == admins
    assert {a["account_id"] for a in accounts if a["mfa_enabled"]} == {
        u["id"] for u in truth["users"] if u["isEnrolledIn2Sv"]
    }
    # Google's "never signed in" (lastLoginTime 1970-01-01) is null in the lake, as the truth says.
    never = set(truth["provider_sentinels"]["accounts.last_login_at"])
    assert {a["account_id"]: a["last_login_at"] for a in accounts} == {
        u["id"]: None if u["id"] in never else datetime.fromisoformat(u["lastLoginTime"]) for u in truth["users"]
    }

    groups = lake.read_snapshot("groups", APP, name).to_pylist()
    assert sorted(g["group_id"] for g in groups) == sorted(g["id"] for g in truth["groups"])
    members = Counter(
        (m["group_id"], m["account_id"]) for m in lake.read_snapshot("group_members", APP, name).to_pylist()
    )
    assert max(members.values(), default=1) == 1, "duplicate memberships"
    assert set(members) == {(g, m["id"]) for g, ms in truth["members"].items() for m in ms}

    privileges = Counter(
        (p["account_id"], p["privilege_id"]) for p in lake.read_snapshot("privileges", APP, name).to_pylist()
    )
    assert max(privileges.values(), default=1) == 1 and set(privileges) == expected_privileges(truth)

    grants = [g["grant_id"] for g in lake.read_snapshot("app_permissions", APP, name).to_pylist()]
    assert sorted(grants) == sorted(f"{u}:{t['clientId']}" for u, ts in truth["tokens"].items() for t in ts)

    events = lake.read_events("activities", APP, name).column("event_id").to_pylist()
    assert len(events) == len(set(events)), f"{len(events) - len(set(events))} duplicated events"
    assert set(events) == expected_event_ids(truth)

    live = truth["files"]  # the scan lists trashed files too (a trashed file is shared until purged)
    domains = set(truth["domains"])
    files = {f["file_id"]: f for f in lake.read_snapshot("files", APP, name).to_pylist()}
    assert len(files) == lake.read_snapshot("files", APP, name).num_rows, "duplicate files"
    assert {i: (f["owner_id"], f["visibility"]) for i, f in files.items()} == {
        f["id"]: (f["owner_user_id"], expected_visibility(f, domains)) for f in live
    }
    shares = Counter((s["file_id"], s["share_id"]) for s in lake.read_snapshot("file_shares", APP, name).to_pylist())
    assert max(shares.values(), default=1) == 1, "duplicate shares"
    assert set(shares) == {(f["id"], p["id"]) for f in live for p in f["permissions"]}


# -- tests -------------------------------------------------------------------------------------


def test_two_customers_side_by_side_equal_ground_truth(server, lake_root):
    lake = Lake(lake_root)
    for tenant in ("acme", "globex"):
        results = sync(instance(tenant), connection(server, tenant), lake)
        assert {s: r.status for s, r in results.items()} == dict.fromkeys(STAGES, "success"), results
        assert_lake_equals_ground_truth(lake, tenant, truth(server, tenant))
    assert len(expected_event_ids(truth(server, "acme"))) == 1500
    permissions = lake.read_snapshot("instance_permissions", APP, "acme").to_pylist()
    granted = {p["name"] for p in permissions if p["kind"] == "permission"}
    assert "https://www.googleapis.com/auth/admin.reports.audit.readonly" in granted
    # A second sync re-reads each application's lookback and stores nothing twice.
    again = sync(instance("acme"), connection(server, "acme"), lake, stages=["activities"])
    assert again["activities"].records == 0 and "already stored" in again["activities"].detail
    assert_lake_equals_ground_truth(lake, "acme", truth(server, "acme"))


def test_events_that_arrive_late_are_picked_up_by_the_next_sync(server, lake_root):
    lake = Lake(lake_root)
    late = server.personality(APP, "late")
    # Pin the tenant's clock to 90 s after its history ends. The module is collected long before this
    # test runs in a full suite, and by then the real clock would have carried every delayed event past
    # its lag (the drive lag is 15 min), leaving nothing late to pick up.
    late.advance_clock(LATE_ANCHOR.timestamp() + 90 - late.now())
    expected = expected_event_ids(truth(server, "late"))
    first = sync(instance("late"), connection(server, "late"), lake)
    assert all(r.status == "success" for r in first.values())
    seen = set(lake.read_events("activities", APP, "late").column("event_id").to_pylist())
    hidden = expected - seen
    assert seen < expected and {e.split(":")[0] for e in hidden} >= {"login", "drive"}
    late.advance_clock(LATE_DELAYS["login"] + 60)  # Google's lag passes: the delayed events surface
    second = sync(instance("late"), connection(server, "late"), lake, stages=["activities"])
    assert second["activities"].records == len(hidden)
    assert_lake_equals_ground_truth(lake, "late", truth(server, "late"))


def test_without_the_audit_scope_only_activities_skip(server, lake_root):
    lake = Lake(lake_root)
    results = sync(instance("globex"), connection(server, "globex", account="no-audit"), lake)
    assert results["activities"].status == "skipped"
    detail = results["activities"].detail
    assert "admin.reports.audit.readonly" in detail and "unauthorized_client" in detail
    assert all(results[s].status == "success" for s in STAGES if s != "activities")
    assert lake.read_events("activities", APP, "globex").num_rows == 0
    stage_rows = {
        r["name"]: r
        for r in lake.read_snapshot("instance_permissions", APP, "globex").to_pylist()
        if r["kind"] == "stage"
    }
    assert stage_rows["activities"]["granted"] is False and stage_rows["files"]["granted"] is True


def test_throttling_and_server_errors_still_end_equal_to_ground_truth(server, lake_root):
    flaky = server.personality(APP, "flaky")
    flaky.set_faults(
        FaultConfig(
            rate_429=0.08, rate_5xx=0.08, rate_reset=0.02, rate_html_error=0.02, rate_truncated=0.02, burst_429=4
        )
    )
    try:
        lake = Lake(lake_root)
        results = sync(instance("flaky", retry_max_attempts=12), connection(server, "flaky"), lake)
        assert {s: r.status for s, r in results.items()} == dict.fromkeys(STAGES, "success"), results
        assert sum(r.metrics["retries"] for r in results.values()) > 0
        assert sum(r.metrics["throttled"] for r in results.values()) >= 3
    finally:
        flaky.set_faults(FaultConfig())
    # Google's two quota answers were both met: 403 userRateLimitExceeded and 429 rateLimitExceeded.
    assert min(flaky.throttle_responses.values()) > 0
    assert_lake_equals_ground_truth(lake, "flaky", truth(server, "flaky"))


def _other_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def test_rejected_credentials_raise_with_googles_error_code(server, lake_root):
    lake = Lake(lake_root)
    good = connection(server, "acme")
    forged = {**json.loads(good.password), "private_key": _other_key()}
    ctx = RunContext(run_id="bad", snapshot_id="20261127T000000000000Z")
    bad_key = ConnectionInfo(conn_id="gws_acme", host=good.host, password=json.dumps(forged), extra=good.extra)
    with pytest.raises(CredentialsRejected) as info:
        run_stage(instance("acme"), "authenticate", ctx, lake, connection=bad_key)
    assert "invalid_grant" in str(info.value) and "Invalid JWT Signature" in str(info.value)
    assert "BEGIN PRIVATE KEY" not in str(info.value)
    stranger = ConnectionInfo(
        conn_id="gws_acme", host=good.host, password=good.password, extra={"subject": "nobody@acme.example.com"}
    )
    with pytest.raises(CredentialsRejected, match=r"invalid_grant.*Invalid email or User ID"):
        run_stage(instance("acme"), "users", ctx, lake, connection=stranger)
    assert lake.snapshot_ids("instance_permissions", APP, "acme") == []
