"""GitHub end to end: every stage through the runner against the sandbox, lake == ground truth."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow.parquet as pq
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from saaslens.config import InstanceConfig
from saaslens.connections import ConnectionInfo
from saaslens.lake.schema import ACCOUNT_STATUSES, ACCOUNT_TYPES, ACTIVITY_CATEGORIES, OUTCOMES
from saaslens.lake.writer import Lake, snapshot_id_for
from saaslens.runner import CredentialsRejected, RunContext, StageResult, run_stage
from saaslens_sandbox.core import FaultConfig, RateLimitConfig, SandboxServer, TenantSpec

pytestmark = pytest.mark.integration

STAGES = ["authenticate", "users", "groups", "privileges", "app_permissions", "activities"]
# Anchor the generated history in the past so no event falls inside the connector's lag.
ANCHOR = (datetime.now(UTC) - timedelta(minutes=10)).replace(microsecond=0).isoformat()
_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PRIVATE_KEY = _KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
).decode()
PUBLIC_KEY = (
    _KEY.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
)
APP = {"app_id": 31337, "client_id": "Iv23liSaaslensE2E01", "installation_id": 6070, "public_key_pem": PUBLIC_KEY}


@pytest.fixture(scope="module")
def server():
    fast = RateLimitConfig(scale=40, window_seconds=1)
    specs = [
        TenantSpec(app="github", name="acme", seed=21, users=220, options={"anchor": ANCHOR}, rate_limits=fast),
        TenantSpec(
            app="github",
            name="globex",
            seed=22,
            users=120,
            # Installation tokens live 301 s: with the connector's 300 s margin each is stale after 1 s.
            options={"anchor": ANCHOR, "org": "globex-inc", "apps": [APP], "installation_token_ttl_seconds": 301},
            rate_limits=fast,
        ),
        TenantSpec(app="github", name="flaky", seed=23, users=90, options={"anchor": ANCHOR}, rate_limits=fast),
        TenantSpec(
            app="github",
            name="legacy",
            seed=24,
            users=70,
            options={"anchor": ANCHOR, "plan": "team", "team_member_fields": False},
            rate_limits=fast,
        ),
    ]
    with SandboxServer(specs) as running:
        yield running


_TRUTHS: dict[tuple[int, str], dict[str, Any]] = {}


def truth(server, tenant: str) -> dict[str, Any]:
    """Ground truth renders every event: computed once per tenant (it does not change)."""
    key = (id(server), tenant)
    if key not in _TRUTHS:
        _TRUTHS[key] = server.personality("github", tenant).ground_truth()
    return _TRUTHS[key]


def instance(name: str, **options: Any) -> InstanceConfig:
    return InstanceConfig(
        app="github",
        name=name,
        conn_id=f"github_{name}",
        options={"max_workers": 4, "retry_initial_backoff_seconds": 0.05, **options},
    )


def pat(server, tenant: str, *, owner: bool = True, audit: bool = True, token: str | None = None) -> ConnectionInfo:
    if token is None:
        tokens = truth(server, tenant)["credentials"]["tokens"]
        token = next(
            t["token"]
            for t in tokens
            if t["kind"] == "classic" and t["owner"] == owner and ("read:audit_log" in t["scopes"]) == audit
        )
    org = truth(server, tenant)["org"]["login"]
    return ConnectionInfo(
        conn_id=f"github_{tenant}",
        conn_type="http",
        host=server.tenant_url("github", tenant),
        password=token,
        extra={"org": org},
    )


def app_connection(server, tenant: str) -> ConnectionInfo:
    return ConnectionInfo(
        conn_id=f"github_{tenant}",
        conn_type="http",
        host=server.tenant_url("github", tenant),
        extra={
            "org": truth(server, tenant)["org"]["login"],
            "app_id": str(APP["app_id"]),
            "installation_id": str(APP["installation_id"]),
            "private_key": PRIVATE_KEY,
        },
    )


def sync(inst, connection, lake, stages=STAGES, moment: datetime | None = None) -> dict[str, StageResult]:
    moment = moment or datetime.now(UTC)
    ctx = RunContext(run_id=f"test-{moment:%H%M%S%f}", snapshot_id=snapshot_id_for(moment))
    return {stage: run_stage(inst, stage, ctx, lake, connection=connection) for stage in stages}


def runs(lake: Lake, name: str) -> list[dict[str, Any]]:
    files = sorted((lake.root / "scan_runs").glob(f"app=github/instance={name}/*/*.parquet"))
    return [row for f in files for row in pq.read_table(f).to_pylist()]


def assert_lake_equals_ground_truth(lake: Lake, name: str, truth: dict[str, Any], *, mfa_known: bool = True) -> None:
    users = {str(u["id"]): u for u in truth["users"]}
    accounts = lake.read_snapshot("accounts", "github", name).to_pylist()
    assert len(accounts) == len({a["account_id"] for a in accounts}), "duplicate accounts"
    assert {a["account_id"]: a["provider_status"] for a in accounts} == {i: u["role"] for i, u in users.items()}
    assert {a["account_id"] for a in accounts if a["is_admin"]} == {i for i, u in users.items() if u["role"] == "admin"}
    assert {a["account_id"] for a in accounts if a["account_type"] == "external"} == {
        i for i, u in users.items() if u["role"] == "outside_collaborator"
    }
    assert {a["status"] for a in accounts} <= set(ACCOUNT_STATUSES)
    assert {a["account_type"] for a in accounts} <= set(ACCOUNT_TYPES)
    if mfa_known:
        assert {a["account_id"]: a["mfa_enabled"] for a in accounts} == {
            i: u["two_factor"] != "disabled" for i, u in users.items()
        }

    groups = lake.read_snapshot("groups", "github", name).to_pylist()
    assert sorted(g["group_id"] for g in groups) == sorted(str(t["id"]) for t in truth["teams"])
    members = lake.read_snapshot("group_members", "github", name).to_pylist()
    pairs = Counter((m["group_id"], m["account_id"]) for m in members)
    assert max(pairs.values(), default=1) == 1, "duplicate memberships"
    assert {(m["group_id"], m["account_id"]): m["member_role"] for m in members} == {
        (str(m["team_id"]), str(m["user_id"])): m["role"] for m in truth["team_memberships"]
    }

    privileges = lake.read_snapshot("privileges", "github", name).to_pylist()
    assert sorted(p["account_id"] for p in privileges) == sorted(i for i, u in users.items() if u["role"] == "admin")

    grants = lake.read_snapshot("app_permissions", "github", name).to_pylist()
    expected = {f"installation:{i['id']}": None for i in truth["installations"]}
    by_login = {u["login"]: str(u["id"]) for u in truth["users"]}
    expected |= {f"credential-authorization:{c['credential_id']}": by_login[c["login"]]
                 for c in truth["credential_authorizations"]}  # fmt: skip
    assert len(grants) == len(expected)
    assert {g["grant_id"]: g["account_id"] for g in grants} == expected

    events = lake.read_events("activities", "github", name).to_pylist()
    ids = [e["event_id"] for e in events]
    assert len(ids) == len(set(ids)), f"{len(ids) - len(set(ids))} duplicated events"
    assert set(ids) == {e["_document_id"] for e in truth["audit_events"]}
    assert {e["category"] for e in events} <= set(ACTIVITY_CATEGORIES)
    assert {e["outcome"] for e in events} <= set(OUTCOMES)


def test_two_orgs_side_by_side_equal_ground_truth_and_resync_adds_nothing(server, lake_root):
    lake = Lake(lake_root)
    for name, connection in (("acme", pat(server, "acme")), ("globex", app_connection(server, "globex"))):
        results = sync(instance(name), connection, lake)
        assert {s: r.status for s, r in results.items()} == dict.fromkeys(STAGES, "success"), results
        assert_lake_equals_ground_truth(lake, name, truth(server, name))
    later = datetime.now(UTC) + timedelta(seconds=1)
    again = sync(instance("acme"), pat(server, "acme"), lake, moment=later)
    assert again["activities"].records == 0
    assert len(lake.snapshot_ids("accounts", "github", "acme")) == 2
    assert_lake_equals_ground_truth(lake, "acme", truth(server, "acme"))
    permissions = lake.read_snapshot("instance_permissions", "github", "acme").to_pylist()
    assert {p["name"] for p in permissions if p["kind"] == "permission"} == {"read:org", "read:audit_log"}


def test_github_app_installation_tokens_are_exchanged_and_refreshed(server, lake_root):
    from saaslens.connectors.github import GitHubConnector

    lake = Lake(lake_root)
    results = sync(instance("globex"), app_connection(server, "globex"), lake)
    assert all(r.status == "success" for r in results.values())
    permissions = lake.read_snapshot("instance_permissions", "github", "globex").to_pylist()
    granted = {p["name"] for p in permissions if p["kind"] == "permission"}
    assert granted >= {"members:read", "organization_administration:read"}
    assert_lake_equals_ground_truth(lake, "globex", truth(server, "globex"))
    connector = GitHubConnector(instance("globex").options, app_connection(server, "globex"))
    try:
        first = connector.auth.token()
        connector.client.get_json("/orgs/globex-inc/teams", {"per_page": 1})
        # Tokens live 301 s against a 300 s margin: each is due for refresh a second after issue.
        # Count from here, since on a loaded machine the call above may already have refreshed.
        before = connector.auth.refreshes
        time.sleep(1.1)
        connector.client.get_json("/orgs/globex-inc/teams", {"per_page": 1})
        assert connector.auth.refreshes > before
        assert connector.auth.token().value != first.value
    finally:
        connector.close()


def test_missing_audit_scope_skips_activities_with_the_reason(server, lake_root):
    lake = Lake(lake_root)
    results = sync(instance("acme"), pat(server, "acme", audit=False), lake)
    assert results["activities"].status == "skipped"
    assert "read:audit_log" in results["activities"].detail
    assert all(results[s].status == "success" for s in STAGES if s != "activities")
    assert lake.read_events("activities", "github", "acme").num_rows == 0
    recorded = {r["stage"]: r for r in runs(lake, "acme")}
    assert recorded["activities"]["status"] == "skipped" and "read:audit_log" in recorded["activities"]["error"]
    permissions = lake.read_snapshot("instance_permissions", "github", "acme").to_pylist()
    assert {p["name"] for p in permissions if p["kind"] == "permission"} == {"read:org"}


def test_a_member_token_reads_membership_but_not_owner_data(server, lake_root):
    lake = Lake(lake_root)
    results = sync(instance("acme"), pat(server, "acme", owner=False), lake)
    assert {s: r.status for s, r in results.items()} == {
        "authenticate": "success",
        "users": "success",
        "groups": "success",
        "privileges": "success",
        "app_permissions": "skipped",
        "activities": "skipped",
    }
    assert "Must have admin rights" in results["app_permissions"].detail
    accounts = lake.read_snapshot("accounts", "github", "acme").to_pylist()
    assert accounts and all(a["mfa_enabled"] is None for a in accounts)  # only owners may see 2FA state
    stages = lake.read_snapshot("instance_permissions", "github", "acme").to_pylist()
    users = next(s for s in stages if s["kind"] == "stage" and s["name"] == "users")
    assert users["granted"] and "Only owners can use this filter" in users["detail"]


def test_429s_5xx_resets_and_bad_bodies_still_end_equal_to_ground_truth(server, lake_root):
    personality = server.personality("github", "flaky")
    personality.set_faults(
        FaultConfig(
            rate_429=0.04, rate_5xx=0.06, rate_reset=0.03, rate_html_error=0.03, rate_truncated=0.03, burst_429=2
        )
    )
    try:
        lake = Lake(lake_root)
        results = sync(instance("flaky", retry_max_attempts=12), pat(server, "flaky"), lake)
        assert {s: r.status for s, r in results.items()} == dict.fromkeys(STAGES, "success"), results
        assert sum(r.metrics["retries"] for r in results.values()) > 0
        assert sum(r.metrics["throttled"] for r in results.values()) >= 2
    finally:
        personality.set_faults(FaultConfig())
    assert_lake_equals_ground_truth(lake, "flaky", truth(server, "flaky"))


def test_rejected_credentials_fail_at_once_with_githubs_message_and_no_secret(server, lake_root):
    lake = Lake(lake_root)
    bad = pat(server, "acme", token="ghp_wrongtokenvalue00000000000000000000")
    ctx = RunContext(run_id="bad", snapshot_id="20261127T000000000000Z")
    with pytest.raises(CredentialsRejected) as info:
        run_stage(instance("acme"), "authenticate", ctx, lake, connection=bad)
    assert "Bad credentials" in str(info.value) and "ghp_wrongtoken" not in str(info.value)
    (run,) = runs(lake, "acme")
    assert run["requests"] == 1 and run["status"] == "failed"
    assert lake.snapshot_ids("instance_permissions", "github", "acme") == []


def test_a_wrong_app_key_is_rejected_credentials(server, lake_root):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    connection = app_connection(server, "globex")
    connection = ConnectionInfo(
        conn_id=connection.conn_id,
        host=connection.host,
        extra={
            **connection.extra,
            "private_key": other.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ).decode(),
        },
    )
    ctx = RunContext(run_id="badkey", snapshot_id="20261127T000000000000Z")
    with pytest.raises(CredentialsRejected, match="A JSON web token could not be decoded"):
        run_stage(instance("globex"), "authenticate", ctx, Lake(lake_root), connection=connection)


def test_an_org_without_enterprise_cloud_reports_the_audit_log_as_unavailable(server, lake_root):
    lake = Lake(lake_root)
    results = sync(instance("legacy"), pat(server, "legacy"), lake)
    assert results["activities"].status == "skipped"
    assert "not available on this plan" in results["activities"].detail
    assert "Enterprise Cloud" in results["activities"].detail
    assert all(results[s].status == "success" for s in STAGES if s != "activities")
    stages = lake.read_snapshot("instance_permissions", "github", "legacy").to_pylist()
    apps = next(s for s in stages if s["kind"] == "stage" and s["name"] == "app_permissions")
    assert apps["granted"] and "credential authorizations unavailable" in apps["detail"]
    grants = lake.read_snapshot("app_permissions", "github", "legacy").to_pylist()
    assert sorted(g["grant_id"] for g in grants) == sorted(
        f"installation:{i['id']}" for i in truth(server, "legacy")["installations"]
    )


def test_team_lists_without_role_fields_fall_back_to_the_maintainer_filter(server, lake_root):
    lake = Lake(lake_root)
    results = sync(instance("legacy"), pat(server, "legacy"), lake, stages=["authenticate", "groups"])
    assert results["groups"].status == "success"
    tenant = server.personality("github", "legacy").tenant
    listed = {
        (str(team.id), str(tenant.users[u].id)): role if not inherited else "member"
        for ti, team in enumerate(tenant.teams)
        for u, role, inherited in tenant.team_member_roles(ti)
    }
    members = lake.read_snapshot("group_members", "github", "legacy").to_pylist()
    # Without `inherited`, members of child teams cannot be told apart: the list is taken as it is.
    assert {(m["group_id"], m["account_id"]): m["member_role"] for m in members} == listed
    direct = {(str(m["team_id"]), str(m["user_id"])): m["role"] for m in truth(server, "legacy")["team_memberships"]}
    assert all(listed[pair] == role for pair, role in direct.items())


def test_repository_inventory_lists_every_repository_with_its_visibility(server):
    from saaslens.connectors.github import GitHubConnector, repositories

    def inventory(connection: ConnectionInfo) -> list[dict[str, Any]]:
        connector = GitHubConnector(instance("acme", page_size=40).options, connection)
        try:
            return [row for batch in repositories.scan_repositories(connector, None) for row in batch.rows]
        finally:
            connector.close()

    expected = {r["id"]: r["visibility"] for r in truth(server, "acme")["repositories"]}
    fine_grained = next(
        t["token"] for t in truth(server, "acme")["credentials"]["tokens"] if t["kind"] == "fine_grained"
    )
    rows = inventory(pat(server, "acme", token=fine_grained))
    assert {int(r["repo_id"]): r["visibility"] for r in rows} == expected
    assert [r["full_name"] for r in rows] == sorted(r["full_name"] for r in rows)
    # A classic token needs the broad `repo` scope to see private and internal repositories.
    public = inventory(pat(server, "acme"))
    assert {int(r["repo_id"]) for r in public} == {i for i, v in expected.items() if v == "public"}
