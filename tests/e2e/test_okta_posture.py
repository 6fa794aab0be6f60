"""Okta security posture end to end: the settings stage against the sandbox, the rules in
include/posture/okta/ evaluated into posture_results, equal to an oracle computed in Python from the
sandbox's ground truth; credentials without the settings scope never pass a rule; a setting flipped
in the sandbox shows in posture_changes with the System Log event that flipped it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb
import pytest

from saaslens.catalog.build import build_catalog
from saaslens.lake.writer import Lake
from saaslens.posture.rules import load_rules
from saaslens_sandbox.core import SandboxServer, TenantSpec
from tests.e2e.okta_helpers import ANCHOR, instance, ssws, sync
from tests.oracles.posture_okta import RULES, expected

pytestmark = pytest.mark.integration
STAGES = ["authenticate", "settings"]
HELPDESK = "helpdesk-token"  # a HELP_DESK_ADMIN's API token: users and groups, no policies


@pytest.fixture(scope="module")
def server():
    specs = [
        TenantSpec(app="okta", name="acme", seed=11, users=40, options={"anchor": ANCHOR.isoformat()}),
        TenantSpec(app="okta", name="globex", seed=12, users=30, options={"anchor": ANCHOR.isoformat()}),
        TenantSpec(
            app="okta",
            name="initech",
            seed=31,
            users=30,
            options={
                "anchor": ANCHOR.isoformat(),
                "identity_engine": False,  # Classic Engine: no authentication policies
                "api_tokens": [
                    {"token": "sandbox-okta-initech-admin", "roles": ["SUPER_ADMIN"]},
                    {"token": HELPDESK, "roles": ["HELP_DESK_ADMIN"]},
                ],
            },
        ),
    ]
    with SandboxServer(specs) as running:
        yield running


def truth(server, tenant: str) -> dict:
    return server.personality("okta", tenant).ground_truth()


def current(lake: Lake) -> dict[tuple[str, str], tuple[str, str | None]]:
    build_catalog(lake.root)
    con = duckdb.connect(str(lake.root / "saaslens.duckdb"), read_only=True)
    try:
        rows = con.sql("select instance, rule_id, status, reason from posture_current").fetchall()
    finally:
        con.close()
    return {(inst, rule): (status, reason) for inst, rule, status, reason in rows}


def test_every_rule_file_has_an_oracle():
    assert {rule.id for rule in load_rules("okta")} == set(RULES)
    assert len(RULES) >= 15


def test_two_orgs_posture_equals_the_oracle(server, lake_root):
    lake = Lake(lake_root)
    for tenant in ("acme", "globex"):
        results = sync(instance(tenant), ssws(server, tenant), lake, stages=STAGES)
        assert results["settings"].status == "success", results["settings"].detail
    found = current(lake)
    for tenant in ("acme", "globex"):
        want = expected(truth(server, tenant))
        got = {rule: found[(tenant, rule)][0] for rule in want}
        assert got == want, tenant
        assert sum(status == "fail" for status in got.values()) >= 2, f"{tenant}: fewer than two planted failures"
        assert "not_evaluated" not in got.values(), tenant
    # the orgs differ: different plants fail different rules
    assert {r for (i, r), (s, _) in found.items() if i == "acme" and s == "fail"} != {
        r for (i, r), (s, _) in found.items() if i == "globex" and s == "fail"
    }
    settings = {r["setting_id"]: r for r in lake.read_snapshot("settings", "okta", "acme").to_pylist()}
    assert all(row["status"] == "available" for row in settings.values())


def test_without_the_settings_scope_no_rule_passes(server, lake_root):
    lake = Lake(lake_root)
    results = sync(instance("initech"), ssws(server, "initech", token=HELPDESK), lake, stages=STAGES)
    assert results["settings"].status == "skipped"
    assert "okta.policies.read" in results["settings"].detail
    found = {rule: value for (inst, rule), value in current(lake).items() if inst == "initech"}
    assert set(found) == set(RULES)
    for rule, (status, reason) in found.items():
        assert status == "not_evaluated", rule
        assert reason and "okta.policies.read" in reason, (rule, reason)


def test_a_classic_engine_org_leaves_authentication_policy_rules_unlicensed(server, lake_root):
    lake = Lake(lake_root)
    results = sync(instance("initech"), ssws(server, "initech"), lake, stages=STAGES)
    assert results["settings"].status == "success", results["settings"].detail
    access = next(
        r for r in lake.read_snapshot("settings", "okta", "initech").to_pylist() if r["setting_id"] == "access_policies"
    )
    assert access["status"] == "unlicensed" and "E0000015" in access["reason"]
    found = {rule: value for (inst, rule), value in current(lake).items() if inst == "initech"}
    assert {rule: status for rule, (status, _) in found.items()} == expected(truth(server, "initech"))
    for rule in ("okta.admin_console_mfa", "okta.dashboard_mfa", "okta.admin_console_phishing_resistant"):
        assert found[rule][0] == "not_evaluated" and found[rule][1].startswith("licence missing: access_policies")


def test_a_flipped_setting_is_a_posture_change_linked_to_its_admin_event(server, lake_root):
    lake = Lake(lake_root)
    tenant = "globex"
    inst, conn = instance(tenant), ssws(server, tenant)
    stages = ["authenticate", "settings", "activities"]
    # The activities stage reads up to its lag (30 s) behind the clock: the change happens a minute
    # ago, between a first snapshot two minutes ago and a second one now.
    now = datetime.now(UTC)
    first = sync(inst, conn, lake, stages=stages, moment=now - timedelta(minutes=2))
    assert all(r.status == "success" for r in first.values()), {s: r.detail for s, r in first.items()}
    before = expected(truth(server, tenant))
    assert before["okta.password_min_length"] == "pass"  # globex's plants leave password length alone

    admin = truth(server, tenant)["credentials"]["api_tokens"][0]["user_login"]
    summary = server.personality("okta", tenant).advance(
        {
            "settings_changes": [
                {
                    "object": "policy",
                    "name": "Default Password Policy",
                    "policy_type": "PASSWORD",
                    "path": "settings.password.complexity.minLength",
                    "value": 8,
                    "actor": admin,
                }
            ],
            "now": (now - timedelta(minutes=1)).isoformat(),
        }
    )
    (change,) = summary["settings_changes"]
    assert change["event_type"] == "policy.lifecycle.update" and change["previous"] == 15
    (event_id,) = summary["event_uuids"]
    after = expected(truth(server, tenant))
    assert after["okta.password_min_length"] == "fail"

    second = sync(inst, conn, lake, stages=stages, moment=now)
    assert all(r.status == "success" for r in second.values()), {s: r.detail for s, r in second.items()}
    found = current(lake)
    assert {rule: found[(tenant, rule)][0] for rule in after} == after

    con = duckdb.connect(str(lake.root / "saaslens.duckdb"), read_only=True)
    try:
        changes = con.sql(
            "select rule_id, previous_status, status, event_id, action, actor_login "
            "from posture_changes where instance = ?",
            params=[tenant],
        ).fetchall()
    finally:
        con.close()
    assert changes == [
        (
            "okta.password_min_length",
            "pass",
            "fail",
            event_id,
            "policy.lifecycle.update",
            admin,
        )
    ]
