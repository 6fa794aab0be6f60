"""Microsoft 365 security posture end to end: the settings stage against the sandbox, the rules
evaluated into posture_results, the catalog's posture_current equal to the oracle's statuses, a
credential without Policy.Read.All never passing a rule, and drift linked to the admin event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import pytest

from saaslens.catalog.build import build_catalog
from saaslens.lake.writer import Lake
from saaslens_sandbox.core import SandboxServer, TenantSpec
from tests.e2e.test_microsoft365_sync import connection, instance, sync
from tests.oracles.posture_microsoft365 import CONDITIONAL_ACCESS_RULES, RULES, expected_statuses

pytestmark = pytest.mark.integration

APP = "microsoft365"
ANCHOR = (datetime.now(UTC) - timedelta(minutes=10)).replace(microsecond=0)
# Every permission saaslens scans with but Policy.Read.All.
NO_POLICY_CLIENT = {
    "client_id": "7c9e1b3d-5f7a-4c9e-8b1d-3f5a7c9e1b50",
    "client_secret": "Zt8~sandbox.nopolicy-secret",
    "roles": ["User.Read.All", "Directory.Read.All", "RoleManagement.Read.Directory", "AuditLog.Read.All"],
}
STAGES = ["authenticate", "settings"]


@pytest.fixture(scope="module")
def server():
    anchor = ANCHOR.isoformat()
    small = {"anchor": anchor, "events": 40, "files_per_drive": 0, "sites": 0}
    specs = [
        TenantSpec(app=APP, name="contoso", seed=31, users=30, options=small),
        TenantSpec(app=APP, name="fabrikam", seed=32, users=25, options=small),
        TenantSpec(app=APP, name="basic", seed=33, users=15, options={**small, "premium": False}),
        TenantSpec(app=APP, name="locked", seed=34, users=15, options={**small, "clients": [NO_POLICY_CLIENT]}),
    ]
    with SandboxServer(specs) as running:
        yield running


def truth(server, tenant: str) -> dict[str, Any]:
    return server.personality(APP, tenant).ground_truth()


def posture(lake: Lake, tenant: str) -> dict[str, tuple[str, str | None]]:
    with duckdb.connect(str(build_catalog(lake.root)), read_only=True) as con:
        rows = con.execute(
            "select rule_id, status, reason from posture_current where app = ? and instance = ?", [APP, tenant]
        ).fetchall()
    return {rule: (status, reason) for rule, status, reason in rows}


def test_two_tenants_posture_equals_the_oracle_and_each_has_planted_failures(server, lake_root):
    lake = Lake(lake_root)
    plants = {}
    for tenant in ("contoso", "fabrikam"):
        results = sync(instance(tenant), connection(server, tenant), lake, stages=STAGES)
        assert {s: r.status for s, r in results.items()} == dict.fromkeys(STAGES, "success"), {
            s: r.detail for s, r in results.items()
        }
        settings = {r["setting_id"]: r for r in lake.read_snapshot("settings", APP, tenant).to_pylist()}
        assert {s: r["status"] for s, r in settings.items()} == dict.fromkeys(
            (
                "security_defaults",
                "conditional_access_policies",
                "authorization_policy",
                "authentication_methods_policy",
                "admin_consent_request_policy",
                "domains",
                "global_admins",
            ),
            "available",
        )
        t = truth(server, tenant)
        expected = expected_statuses(t)
        got = posture(lake, tenant)
        assert {rule: status for rule, (status, _) in got.items()} == expected
        assert len(expected) == len(RULES) >= 15
        failing = [rule for rule, status in expected.items() if status == "fail"]
        assert len(failing) >= 2, (tenant, t["settings"]["plants"], failing)
        plants[tenant] = t["settings"]["plants"]
    assert plants["contoso"] != plants["fabrikam"]


def test_a_tenant_without_entra_premium_leaves_conditional_access_rules_unevaluated(server, lake_root):
    lake = Lake(lake_root)
    results = sync(instance("basic"), connection(server, "basic"), lake, stages=STAGES)
    assert results["settings"].status == "success"
    ca = next(
        r
        for r in lake.read_snapshot("settings", APP, "basic").to_pylist()
        if r["setting_id"] == "conditional_access_policies"
    )
    assert ca["status"] == "unlicensed" and "premium" in ca["reason"]
    got = posture(lake, "basic")
    assert {rule: status for rule, (status, _) in got.items()} == expected_statuses(truth(server, "basic"))
    for rule in CONDITIONAL_ACCESS_RULES:
        status, reason = got[rule]
        assert status == "not_evaluated" and reason.startswith("licence missing: conditional_access_policies"), rule


def test_credentials_without_policy_read_skip_settings_and_no_rule_passes(server, lake_root):
    lake = Lake(lake_root)
    results = sync(instance("locked"), connection(server, "locked"), lake, stages=STAGES)
    assert results["authenticate"].status == "success"
    assert results["settings"].status == "skipped"
    assert "Policy.Read.All" in results["settings"].detail
    assert lake.snapshot_ids("settings", APP, "locked") == []
    got = posture(lake, "locked")
    assert set(got) == set(RULES)
    for rule, (status, reason) in got.items():
        assert status == "not_evaluated", rule
        assert "Policy.Read.All" in reason and "Authorization_RequestDenied" in reason, (rule, reason)


# One flip per rule it breaks: the change an admin makes in the Entra admin center.
FLIPS = (
    (
        "microsoft365.legacy_auth_blocked",
        {"conditional_access_policy": "Block legacy authentication", "state": "disabled"},
    ),
    ("microsoft365.guest_invites_limited", {"authorization_policy": {"allowInvitesFrom": "everyone"}}),
    ("microsoft365.weak_auth_methods_disabled", {"authentication_method": "Sms", "method_state": "enabled"}),
)


def test_a_flipped_setting_shows_as_drift_linked_to_its_admin_event(server, lake_root):
    lake = Lake(lake_root)
    tenant = "fabrikam"
    inst = instance(tenant, activities_lag_seconds=0)
    stages = ["authenticate", "settings", "activities"]
    first = sync(inst, connection(server, tenant), lake, stages=stages)
    assert {s: r.status for s, r in first.items()} == dict.fromkeys(stages, "success")
    before = expected_statuses(truth(server, tenant))
    rule, change = next((rule, change) for rule, change in FLIPS if before[rule] == "pass")
    assert posture(lake, tenant)[rule][0] == "pass"

    event = server.personality(APP, tenant).advance({"setting": change})
    second = sync(inst, connection(server, tenant), lake, stages=stages, moment=datetime.now(UTC))
    assert {s: r.status for s, r in second.items()} == dict.fromkeys(stages, "success")
    after = expected_statuses(truth(server, tenant))
    assert after[rule] == "fail" and posture(lake, tenant)[rule][0] == "fail"
    assert {r: s for r, s in after.items() if r != rule} == {r: s for r, s in before.items() if r != rule}

    with duckdb.connect(str(build_catalog(lake.root)), read_only=True) as con:
        changes = con.execute(
            "select rule_id, previous_status, status, event_id, action, actor_login from posture_changes "
            "where app = ? and instance = ?",
            [APP, tenant],
        ).fetchall()
    assert changes == [(rule, "pass", "fail", event["event_id"], event["activity"], event["actor"])]
