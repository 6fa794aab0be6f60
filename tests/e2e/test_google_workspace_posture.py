"""Google Workspace security posture end to end: the settings stage reads the sandbox's Cloud Identity
policies and super admins, the rules in include/posture/google_workspace evaluate them, and the lake's
posture equals the oracle (tests/oracles/posture_google_workspace.py) computed from the ground truth;
without the policies scope nothing passes; a setting an administrator changes shows in posture_changes
with the admin audit event behind it."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import httpx
import pytest

from saaslens.catalog.build import build_catalog
from saaslens.lake.writer import Lake
from saaslens_sandbox.core import SandboxServer, TenantSpec
from saaslens_sandbox.google_workspace.generator import ALL_SCOPES, ServiceAccountSpec
from tests.e2e.test_google_workspace_sync import APP, NO_DELAY, connection, instance, sync, truth
from tests.oracles.posture_google_workspace import expected_posture

pytestmark = pytest.mark.integration
POLICY_SCOPE = "https://www.googleapis.com/auth/cloud-identity.policies.readonly"
STAGES = ["authenticate", "settings"]
ANCHOR = (datetime.now(UTC) - timedelta(minutes=10)).replace(microsecond=0)
# A rule the drift test can break when it passes, and the change that breaks it (an administrator's
# edit of the root organizational unit's policy).
FLIPS: dict[str, dict[str, Any]] = {
    "google_workspace.password_min_length_12": {"type": "security.password", "fields": {"minimumLength": 8}},
    "google_workspace.less_secure_apps_blocked": {
        "type": "security.less_secure_apps",
        "fields": {"allowLessSecureApps": True},
    },
    "google_workspace.web_session_at_most_12_hours": {
        "type": "security.session_controls",
        "fields": {"webSessionDuration": "1209600s"},
    },
}


@pytest.fixture(scope="module")
def server():
    accounts = [
        ServiceAccountSpec(name="scanner", scopes=list(ALL_SCOPES)),
        ServiceAccountSpec(name="no-policies", scopes=[s for s in ALL_SCOPES if s != POLICY_SCOPE]),
    ]

    def spec(name: str, seed: int) -> TenantSpec:
        options = {
            "anchor": ANCHOR.isoformat(),
            "report_delays": NO_DELAY,
            "events": 40,
            "service_accounts": [a.model_dump() for a in accounts],
        }
        return TenantSpec(app=APP, name=name, seed=seed, users=12, options=options)

    with SandboxServer([spec("initech", 41), spec("hooli", 42), spec("drifty", 43)]) as running:
        yield running


def posture(lake: Lake) -> dict[tuple[str, str], tuple[str, str | None]]:
    build_catalog(lake.root)
    with duckdb.connect(str(lake.root / "saaslens.duckdb"), read_only=True) as con:
        rows = con.sql("select instance, rule_id, status, reason from posture_current where app = ?", params=[APP])
        return {(i, r): (s, why) for i, r, s, why in rows.fetchall()}


def test_two_tenants_posture_equals_the_oracle(server, lake_root):
    lake = Lake(lake_root)
    for tenant in ("initech", "hooli"):
        results = sync(instance(tenant), connection(server, tenant), lake, stages=STAGES)
        assert {s: r.status for s, r in results.items()} == dict.fromkeys(STAGES, "success"), results
    current = posture(lake)
    plants = {}
    for tenant in ("initech", "hooli"):
        ground = truth(server, tenant)
        expected = expected_posture(ground)
        got = {rule: status for (name, rule), (status, _) in current.items() if name == tenant}
        assert got == expected, tenant
        assert sum(1 for s in got.values() if s == "fail") >= 2, (tenant, ground["settings"]["planted"])
        assert sum(1 for s in got.values() if s == "pass") >= 2
        plants[tenant] = ground["settings"]["planted"]
    # The tenants differ: not the same misconfigurations planted, not the same posture.
    assert plants["initech"] != plants["hooli"]
    assert {r: s for (i, r), (s, _) in current.items() if i == "initech"} != {
        r: s for (i, r), (s, _) in current.items() if i == "hooli"
    }


def test_without_the_policies_scope_nothing_passes(server, lake_root):
    lake = Lake(lake_root)
    results = sync(instance("hooli"), connection(server, "hooli", account="no-policies"), lake, stages=STAGES)
    assert results["settings"].status == "skipped"
    assert "cloud-identity.policies.readonly" in results["settings"].detail
    assert lake.snapshot_ids("settings", APP, "hooli") == []
    current = {rule: value for (name, rule), value in posture(lake).items() if name == "hooli"}
    assert set(current) == set(expected_posture(truth(server, "hooli")))
    for rule, (status, reason) in current.items():
        assert status == "not_evaluated", rule
        assert reason and "cloud-identity.policies.readonly" in reason, (rule, reason)


def test_a_changed_setting_shows_as_drift_with_its_admin_event(server, lake_root):
    lake = Lake(lake_root)
    inst = instance("drifty", activities_lag_seconds=0)
    conn = connection(server, "drifty")
    first = sync(inst, conn, lake, stages=[*STAGES, "activities"])
    assert all(r.status == "success" for r in first.values()), first
    before = expected_posture(truth(server, "drifty"))
    rule = next(r for r in FLIPS if before[r] == "pass")
    time.sleep(0.05)  # the event falls strictly after the first snapshot
    answer = httpx.post(f"{server.url}/_admin/tenants/{APP}/drifty/advance", json={"setting": FLIPS[rule]}, timeout=10)
    assert answer.status_code == 200, answer.text
    change = answer.json()["setting"]
    (event_name,) = change["activity"]["events"]
    time.sleep(0.05)
    second = sync(inst, conn, lake, stages=[*STAGES, "activities"])
    assert all(r.status == "success" for r in second.values()), second
    after = expected_posture(truth(server, "drifty"))
    assert after[rule] == "fail"
    current = posture(lake)
    assert {r: s for (i, r), (s, _) in current.items() if i == "drifty"} == after
    with duckdb.connect(str(lake.root / "saaslens.duckdb"), read_only=True) as con:
        rows = con.sql(
            "select rule_id, previous_status, status, event_id, action, actor_login from posture_changes "
            "where app = ? and instance = 'drifty'",
            params=[APP],
        ).fetchall()
    ident = change["activity"]["id"]
    event_id = f"admin:{ident['time']}:{ident['uniqueQualifier']}:0"
    assert (rule, "pass", "fail", event_id, f"admin.{event_name}", change["activity"]["actor"]) in rows
    # Only the rules whose status changed appear, each with the event or with none.
    changed = {r for r in after if after[r] != before[r]}
    assert {row[0] for row in rows} == changed
