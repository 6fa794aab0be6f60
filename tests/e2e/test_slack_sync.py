"""Slack end to end: every stage through the runner against the sandbox, lake == ground truth."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from saaslens.config import InstanceConfig
from saaslens.connections import ConnectionInfo
from saaslens.lake.writer import Lake, snapshot_id_for
from saaslens.runner import CredentialsRejected, RunContext, StageResult, run_stage
from saaslens_sandbox.core import FaultConfig, RateLimitConfig, SandboxServer, TenantSpec

pytestmark = pytest.mark.integration

STAGES = ["authenticate", "users", "groups", "privileges", "app_permissions", "activities", "files"]
# The generated history ends in the past, so no event falls inside the connector's lag.
ANCHOR = (datetime.now(UTC) - timedelta(minutes=10)).replace(microsecond=0)
WEB_SCOPES = ["users:read", "users:read.email", "usergroups:read", "files:read", "admin.apps:read"]
ACME_TOKENS = [
    {"token": "xoxp-sandbox-acme-owner", "scopes": [*WEB_SCOPES, "admin", "auditlogs:read"]},
    {"token": "xoxp-sandbox-acme-noaudit", "scopes": WEB_SCOPES, "acts_as": "admin"},
    {"token": "xoxp-acme-accesslogs-only", "scopes": [*WEB_SCOPES, "admin"], "acts_as": "admin"},
]


def tenant(name: str, seed: int, users: int, window_seconds: int = 60, **options: Any) -> TenantSpec:
    return TenantSpec(
        app="slack",
        name=name,
        seed=seed,
        users=users,
        options={"anchor": ANCHOR.isoformat(), **options},
        # Slack's real per-minute tier limits, in short windows so a throttled test waits seconds.
        rate_limits=RateLimitConfig(window_seconds=window_seconds),
    )


@pytest.fixture(scope="module")
def server():
    specs = [
        tenant("acme", 21, 240, window_seconds=5, tokens=ACME_TOKENS),
        tenant("globex", 22, 110, window_seconds=2, events=400),
        tenant("flaky", 23, 60, window_seconds=1, events=300),
        tenant("deep", 24, 20, events=600, access_log_share=0.5).model_copy(
            update={"rate_limits": RateLimitConfig(enabled=False)}
        ),
        tenant("freebie", 25, 30, plan="free"),
    ]
    with SandboxServer(specs) as running:
        yield running


def truth(server: SandboxServer, name: str) -> dict[str, Any]:
    return server.personality("slack", name).ground_truth()


def instance(name: str, **options: Any) -> InstanceConfig:
    return InstanceConfig(
        app="slack",
        name=name,
        conn_id=f"slack_{name}",
        options={"max_workers": 4, "retry_initial_backoff_seconds": 0.05, **options},
    )


def connection(server: SandboxServer, name: str, token: str | None = None, **extra: Any) -> ConnectionInfo:
    url = server.tenant_url("slack", name)
    return ConnectionInfo(
        conn_id=f"slack_{name}",
        conn_type="http",
        host=url,
        password=token or f"xoxp-sandbox-{name}-owner",
        extra={"audit_base_url": f"{url}/audit/v1", **extra},
    )


def sync(inst: InstanceConfig, conn: ConnectionInfo, lake: Lake, stages=STAGES) -> dict[str, StageResult]:
    moment = datetime.now(UTC)
    ctx = RunContext(run_id=f"test-{moment:%H%M%S%f}", snapshot_id=snapshot_id_for(moment))
    return {stage: run_stage(inst, stage, ctx, lake, connection=conn) for stage in stages}


# -- what the lake must hold, derived from the ground truth ------------------------------------


def expected_status(user: dict[str, Any]) -> str:
    if user.get("deleted"):
        return "deprovisioned"
    return "pending" if user.get("is_invited_user") else "active"


def expected_privileges(users: list[dict[str, Any]]) -> set[tuple[str, str]]:
    held = set()
    for user in users:
        enterprise = user.get("enterprise_user") or {}
        for flag, role in (("is_primary_owner", "primary_owner"), ("is_owner", "owner"), ("is_admin", "admin")):
            if user.get(flag):
                held.add((user["id"], role))
        for flag, role in (("is_owner", "org_owner"), ("is_admin", "org_admin")):
            if enterprise.get(flag):
                held.add((user["id"], role))
    return held


def expected_shares(files: list[dict[str, Any]]) -> set[tuple[str, str]]:
    pairs = set()
    for f in files:
        shares = f.get("shares") or {}
        places = set(f["channels"]) | set(f["groups"]) | set(f["ims"])
        places |= set(shares.get("public") or {}) | set(shares.get("private") or {})
        pairs |= {(f["id"], place) for place in places}
        if f.get("public_url_shared"):
            pairs.add((f["id"], "public_url"))
    return pairs


def access_key(login: dict[str, Any]) -> tuple[Any, ...]:
    return (login["user_id"], login["ip"], login["user_agent"], login["date_first"], login["date_last"])


def snapshot(lake: Lake, table: str, name: str) -> list[dict[str, Any]]:
    return lake.read_snapshot(table, "slack", name).to_pylist()


def assert_lake_equals_ground_truth(lake: Lake, name: str, truth: dict[str, Any], *, audit: bool = True) -> None:
    users = {u["id"]: u for u in truth["users"]}
    accounts = snapshot(lake, "accounts", name)
    assert len(accounts) == len({a["account_id"] for a in accounts}), "duplicate accounts"
    assert {a["account_id"]: json.loads(a["raw"]) for a in accounts} == users
    assert {a["account_id"]: a["status"] for a in accounts} == {i: expected_status(u) for i, u in users.items()}
    # Slackbot's "updated": 0 is Slack's "unknown": null in the lake, as the truth says.
    unknown = set(truth["provider_sentinels"]["accounts.updated_at"])
    assert "USLACKBOT" in unknown
    assert {a["account_id"]: a["updated_at"] for a in accounts} == {
        i: None if i in unknown else datetime.fromtimestamp(u["updated"], UTC) for i, u in users.items()
    }
    assert {a["account_id"] for a in accounts if a["account_type"] == "bot"} == {
        i for i, u in users.items() if u["is_bot"] or i == "USLACKBOT"
    }
    assert {a["account_id"] for a in accounts if a["account_type"] == "guest"} == {
        i for i, u in users.items() if u["is_restricted"]
    }
    privileges = snapshot(lake, "privileges", name)
    pairs = Counter((p["account_id"], p["privilege_id"]) for p in privileges)
    assert max(pairs.values(), default=1) == 1, "duplicate privileges"
    assert set(pairs) == expected_privileges(truth["users"])
    assert {a["account_id"] for a in accounts if a["is_admin"]} == {account for account, _ in pairs}

    groups = snapshot(lake, "groups", name)
    assert sorted(g["group_id"] for g in groups) == sorted(g["id"] for g in truth["usergroups"])
    members = Counter((m["group_id"], m["account_id"]) for m in snapshot(lake, "group_members", name))
    assert max(members.values(), default=1) == 1, "duplicate memberships"
    assert set(members) == {(g["id"], user) for g in truth["usergroups"] for user in g["users"]}

    grants = snapshot(lake, "app_permissions", name)
    assert {g["grant_id"]: g["scopes"] for g in grants} == {
        a["app"]["id"]: [scope["name"] for scope in a["scopes"]] for a in truth["approved_apps"]
    }

    files = snapshot(lake, "files", name)
    assert {f["file_id"]: json.loads(f["raw"]) for f in files} == {f["id"]: f for f in truth["files"]}
    shares = Counter((s["file_id"], s["share_id"]) for s in snapshot(lake, "file_shares", name))
    assert max(shares.values(), default=1) == 1, "duplicate shares"
    assert set(shares) == expected_shares(truth["files"])

    events = lake.read_events("activities", "slack", name).to_pylist()
    assert len(events) == len({e["event_id"] for e in events}), "duplicate events"
    audit_ids = {e["event_id"] for e in events if e["action"] != "access_log_login"}
    assert audit_ids == ({e["id"] for e in truth["audit_logs"]} if audit else set())
    access = Counter(access_key(json.loads(e["raw"])) for e in events if e["action"] == "access_log_login")
    assert set(access) == {access_key(login) for login in truth["access_logs"]} and max(access.values()) == 1


# -- the tests ---------------------------------------------------------------------------------


def test_two_workspaces_side_by_side_equal_ground_truth_and_resync_adds_no_events(server, lake_root):
    lake = Lake(lake_root)
    # globex pages seven at a time and reads members per group: many calls against Tier 2 limits.
    instances = {
        "acme": instance("acme"),
        "globex": instance("globex", page_size=7, usergroup_members_in_list=False),
    }
    for name, inst in instances.items():
        results = sync(inst, connection(server, name), lake)
        assert {s: r.status for s, r in results.items()} == dict.fromkeys(STAGES, "success"), results
        assert_lake_equals_ground_truth(lake, name, truth(server, name))
    permissions = snapshot(lake, "instance_permissions", "acme")
    assert {"auditlogs:read", "admin", "users:read"} <= {p["name"] for p in permissions if p["kind"] == "permission"}
    again = sync(instances["acme"], connection(server, "acme"), lake)
    assert again["activities"].records == 0 and again["activities"].status == "success"
    assert len(lake.snapshot_ids("accounts", "slack", "acme")) == 2
    assert_lake_equals_ground_truth(lake, "acme", truth(server, "acme"))


def test_429s_5xx_resets_and_bad_bodies_still_end_equal_to_ground_truth(server, lake_root):
    flaky = server.personality("slack", "flaky")
    flaky.set_faults(
        FaultConfig(
            rate_429=0.08, rate_5xx=0.08, rate_reset=0.03, rate_html_error=0.03, rate_truncated=0.03, burst_429=3
        )
    )
    try:
        lake = Lake(lake_root)
        results = sync(instance("flaky", retry_max_attempts=12, page_size=20), connection(server, "flaky"), lake)
        assert {s: r.status for s, r in results.items()} == dict.fromkeys(STAGES, "success"), results
        assert sum(r.metrics["retries"] for r in results.values()) > 0
        assert sum(r.metrics["throttled"] for r in results.values()) >= 3
    finally:
        flaky.set_faults(FaultConfig())
    assert_lake_equals_ground_truth(lake, "flaky", truth(server, "flaky"))


def test_token_without_audit_scopes_skips_activities_with_the_reason(server, lake_root):
    lake = Lake(lake_root)
    results = sync(instance("acme"), connection(server, "acme", token="xoxp-sandbox-acme-noaudit"), lake)
    assert results["activities"].status == "skipped"
    reason = results["activities"].detail
    assert "auditlogs:read" in reason and "missing_scope" in reason and "needed: admin" in reason
    assert all(results[s].status == "success" for s in STAGES if s != "activities")
    assert lake.read_events("activities", "slack", "acme").num_rows == 0


def test_token_without_auditlogs_read_still_collects_access_logs(server, lake_root):
    lake = Lake(lake_root)
    results = sync(instance("acme"), connection(server, "acme", token="xoxp-acme-accesslogs-only"), lake)
    assert {s: r.status for s, r in results.items()} == dict.fromkeys(STAGES, "success")
    assert "skipped audit_logs" in results["activities"].detail and "auditlogs:read" in results["activities"].detail
    assert_lake_equals_ground_truth(lake, "acme", truth(server, "acme"), audit=False)


def test_separate_org_token_reads_the_audit_logs(server, lake_root):
    lake = Lake(lake_root)
    conn = connection(server, "acme", token="xoxp-sandbox-acme-noaudit", audit_token="xoxp-sandbox-acme-owner")
    results = sync(instance("acme"), conn, lake, stages=["authenticate", "activities"])
    assert results["activities"].status == "success" and "skipped access_logs" in results["activities"].detail
    audit_ids = {e["id"] for e in truth(server, "acme")["audit_logs"]}
    assert set(lake.read_events("activities", "slack", "acme").column("event_id").to_pylist()) == audit_ids


def test_free_plan_reports_unavailable_features_not_errors(server, lake_root):
    lake = Lake(lake_root)
    results = sync(instance("freebie"), connection(server, "freebie"), lake)
    assert results["activities"].status == "skipped"
    assert "paid_only" in results["activities"].detail and "feature_not_enabled" in results["activities"].detail
    assert results["app_permissions"].status == "skipped"
    assert "not available on this plan" in results["app_permissions"].detail
    unavailable = {"activities", "app_permissions"}
    assert all(results[s].status == "success" for s in STAGES if s not in unavailable)


def test_access_logs_past_slacks_100_page_limit(server, lake_root):
    lake = Lake(lake_root)
    deep = server.personality("slack", "deep")
    deep.reset_stats()
    results = sync(instance("deep", page_size=2), connection(server, "deep"), lake, stages=["activities"])
    assert results["activities"].status == "success"
    # 300 logins two at a time is 150 pages: Slack refuses page 101, so the walk restarted once.
    assert deep.stats()["by_bucket"]["team.accessLogs"]["requests"] >= 150
    events = lake.read_events("activities", "slack", "deep").to_pylist()
    logins = Counter(access_key(json.loads(e["raw"])) for e in events if e["action"] == "access_log_login")
    assert set(logins) == {access_key(login) for login in truth(server, "deep")["access_logs"]}
    assert len(logins) == 300 and max(logins.values()) == 1


@pytest.mark.parametrize("audit_token", [None, "xoxp-not-the-org-token"])
def test_rejected_credentials_fail_at_once_with_slacks_code(server, lake_root, audit_token):
    lake = Lake(lake_root)
    token = "xoxp-bogus-token-000" if audit_token is None else None
    extra = {"audit_token": audit_token} if audit_token else {}
    ctx = RunContext(run_id="bad", snapshot_id="20261127T000000000000Z")
    with pytest.raises(CredentialsRejected) as info:
        run_stage(instance("acme"), "authenticate", ctx, lake, connection=connection(server, "acme", token, **extra))
    assert "invalid_auth" in str(info.value)
    assert "xoxp-bogus" not in str(info.value) and "xoxp-not-the-org" not in str(info.value)
    assert lake.snapshot_ids("instance_permissions", "slack", "acme") == []
