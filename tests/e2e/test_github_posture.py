"""GitHub security posture end to end: the settings stage against the sandbox, the rules' results in
the lake equal to the oracle's, not evaluated without the settings scope, and drift tied to the
owner's audit event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb
import pytest

from saaslens.catalog.build import build_catalog
from saaslens.connections import ConnectionInfo
from saaslens.lake.writer import Lake
from saaslens_sandbox.core import RateLimitConfig, SandboxServer, TenantSpec
from tests.e2e.test_github_sync import instance, sync
from tests.oracles import posture_github

pytestmark = pytest.mark.integration

STAGES = ["authenticate", "settings", "activities"]
ANCHOR = (datetime.now(UTC) - timedelta(minutes=30)).replace(microsecond=0).isoformat()
# An owner's token that may read every setting (admin:org for the organization's details and the
# Actions policies, admin:org_hook for webhooks), and one that may read members and the audit log only.
SETTINGS_SCOPES = ["admin:org", "admin:org_hook", "read:audit_log"]
NO_SETTINGS_SCOPES = ["read:org", "read:audit_log"]


def _tokens(tenant: str) -> list[dict[str, Any]]:
    return [
        {"token": f"ghp_{tenant}settings0000000000000000000", "scopes": SETTINGS_SCOPES, "owner": True},
        {"token": f"ghp_{tenant}membersonly00000000000000000", "scopes": NO_SETTINGS_SCOPES, "owner": True},
    ]


TENANTS = {"acme": 41, "initech": 42}


@pytest.fixture(scope="module")
def server():
    fast = RateLimitConfig(scale=40, window_seconds=1)
    specs = [
        TenantSpec(app="github", name=name, seed=seed, users=60, options={"anchor": ANCHOR, "tokens": _tokens(name)},
                   rate_limits=fast)
        for name, seed in TENANTS.items()
    ]  # fmt: skip
    with SandboxServer(specs) as running:
        yield running


def connection(server, tenant: str, scopes: list[str]) -> ConnectionInfo:
    token = next(t["token"] for t in _tokens(tenant) if t["scopes"] == scopes)
    return ConnectionInfo(
        conn_id=f"github_{tenant}",
        conn_type="http",
        host=server.tenant_url("github", tenant),
        password=token,
        extra={"org": tenant},
    )


def current(lake: Lake, name: str) -> dict[str, tuple[str, str | None]]:
    build_catalog(lake.root)
    con = duckdb.connect(str(lake.root / "saaslens.duckdb"), read_only=True)
    try:
        rows = con.execute(
            "select rule_id, status, reason from posture_current where app = 'github' and instance = ?", [name]
        ).fetchall()
    finally:
        con.close()
    return {rule: (status, reason) for rule, status, reason in rows}


def test_two_orgs_posture_equals_the_oracle(server, lake_root):
    lake = Lake(lake_root)
    for name in TENANTS:
        results = sync(instance(name), connection(server, name, SETTINGS_SCOPES), lake, stages=STAGES)
        assert {s: r.status for s, r in results.items()} == dict.fromkeys(STAGES, "success"), results
        truth = server.personality("github", name).ground_truth()
        expected = posture_github.posture(truth)
        found = current(lake, name)
        assert {rule: status for rule, (status, _) in found.items()} == expected, (name, truth["settings"]["planted"])
        failing = [rule for rule, status in expected.items() if status == "fail"]
        assert len(failing) >= 2, (name, failing)
        assert found["github.saml_sso_required"][1].startswith("not exposed by the API")
    # the tenants differ
    assert posture_github.posture(server.personality("github", "acme").ground_truth()) != posture_github.posture(
        server.personality("github", "initech").ground_truth()
    )


def test_without_the_settings_scope_nothing_is_evaluated(server, lake_root):
    lake = Lake(lake_root)
    results = sync(instance("acme"), connection(server, "acme", NO_SETTINGS_SCOPES), lake, stages=STAGES)
    assert results["settings"].status == "skipped", results["settings"]
    assert results["activities"].status == "success"
    found = current(lake, "acme")
    assert set(found) == set(posture_github.RULES)
    for rule, (status, reason) in found.items():
        assert status == "not_evaluated", rule
        assert reason and "admin:org" in reason, (rule, reason)


FLIPS = [
    ("github.workflow_token_read_only", {"workflow": {"default_workflow_permissions": "write"}},
     "org.set_default_workflow_permissions"),
    ("github.base_permission_strict", {"organization": {"default_repository_permission": "write"}},
     "org.update_default_repository_permission"),
    ("github.two_factor_required", {"organization": {"two_factor_requirement_enabled": False}},
     "org.disable_two_factor_requirement"),
]  # fmt: skip


def test_drift_is_tied_to_the_owners_audit_event(server, lake_root):
    lake = Lake(lake_root)
    name = "initech"
    personality = server.personality("github", name)
    now = datetime.now(UTC)
    first = sync(
        instance(name), connection(server, name, SETTINGS_SCOPES), lake, STAGES, moment=now - timedelta(minutes=10)
    )
    assert all(r.status == "success" for r in first.values()), first
    expected = posture_github.posture(personality.ground_truth())
    rule, change, action = next(flip for flip in FLIPS if expected[flip[0]] == "pass")
    actor = next(u["login"] for u in personality.ground_truth()["users"] if u["role"] == "admin")
    changed_at = now - timedelta(minutes=5)
    answer = personality.advance({"settings": change, "actor": actor, "at": int(changed_at.timestamp() * 1000)})
    (event,) = answer["events"]
    assert event["action"] == action and event["actor"] == actor
    second = sync(instance(name), connection(server, name, SETTINGS_SCOPES), lake, STAGES, moment=now)
    assert all(r.status == "success" for r in second.values()), second
    assert current(lake, name)[rule][0] == "fail"
    con = duckdb.connect(str(lake.root / "saaslens.duckdb"), read_only=True)
    try:
        changes = con.execute(
            "select rule_id, previous_status, status, event_id, action, actor_login from posture_changes "
            "where instance = ? order by rule_id",
            [name],
        ).fetchall()
    finally:
        con.close()
    assert (rule, "pass", "fail", event["_document_id"], action, actor) in changes, changes
    # only the flipped rule changed
    assert {c[0] for c in changes} == {rule}
