"""Okta governance actions against the sandbox: the connector's plan / apply / verify directly, then the
governance engine end to end (dry run, apply, next scan, audit event, already applied, denied, not found).

One tenant is synced once for the module; every test takes targets of its own from it, so the tests
neither see nor undo each other's changes."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from saaslens.config import GovernanceSettings, InstanceConfig
from saaslens.connections import ConnectionInfo
from saaslens.connectors.kit import Target
from saaslens.connectors.okta import APP
from saaslens.connectors.okta.connector import OktaConnector
from saaslens.governance import GovernanceRequest, act
from saaslens.http.errors import ApiError, NotFoundError, PermissionDeniedError
from saaslens.lake.writer import Lake
from saaslens.vocabulary import TargetKind
from saaslens_sandbox.core import RateLimitConfig, SandboxServer, TenantSpec
from tests.e2e.okta_helpers import ANCHOR, instance, ssws, sync

pytestmark = pytest.mark.integration
TENANT = "gov"
# Each action: the System Log event types Okta records for it, and the account status it leaves.
EVENTS = {
    "suspend_user": ("user.lifecycle.suspend",),
    "unsuspend_user": ("user.lifecycle.unsuspend",),
    "expire_password": ("user.account.expire_password",),
    "clear_user_sessions": ("user.session.clear",),
    "revoke_user_grant": ("app.oauth2.as.consent.revoke",),
    "remove_admin_role": ("user.account.privilege.revoke", "user.account.privilege.grant"),
}
STATUS_AFTER = {"suspend_user": "SUSPENDED", "unsuspend_user": "ACTIVE", "expire_password": "PASSWORD_EXPIRED"}
ACTIONS = {a.name: a for a in APP.actions}


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    # Okta's per-minute limits, reset every few seconds: the System Log's 120 a minute would otherwise
    # have the client pace the many verify and rescan reads of this module for most of a minute.
    spec = TenantSpec(
        app="okta",
        name=TENANT,
        seed=11,
        users=260,
        options={"anchor": ANCHOR.isoformat()},
        rate_limits=RateLimitConfig(window_seconds=5),
    )
    with SandboxServer([spec]) as running:
        yield running


@pytest.fixture(scope="module")
def lake(server: SandboxServer, tmp_path_factory: pytest.TempPathFactory) -> Lake:
    lake = Lake(tmp_path_factory.mktemp("okta-actions-lake"))
    results = sync(scan_instance(), ssws(server, TENANT), lake)
    assert {s: r.status for s, r in results.items()} == dict.fromkeys(results, "success")
    return lake


def scan_instance() -> InstanceConfig:
    # No lag: the event an action writes is scanned by the very next activities run.
    return instance(TENANT, activities_lag_seconds=0)


def truth(server: SandboxServer) -> dict[str, Any]:
    return server.personality("okta", TENANT).ground_truth()


def credential(server: SandboxServer, key: str) -> ConnectionInfo:
    token = truth(server)["credentials"][key]["token"]
    return ConnectionInfo(
        f"okta_{TENANT}_{key}", "http", server.tenant_url("okta", TENANT), password=token, extra={"auth": "ssws"}
    )


def connector(server: SandboxServer, key: str = "actions") -> OktaConnector:
    return OktaConnector({"retry_initial_backoff_seconds": 0.05}, credential(server, key))


# -- picking targets no other test uses ------------------------------------------------------------------

_taken: set[str] = set()


def _rows(lake: Lake, table: str) -> list[dict[str, Any]]:
    return lake.read_snapshot(table, "okta", TENANT).to_pylist()


def pick(server: SandboxServer, lake: Lake, action: str) -> Target:
    """A fresh target for `action` from the lake: an ordinary (non-admin) account in the status the
    action changes, a grant, or a direct non-super-admin role assignment; never the acting admins'."""
    t = truth(server)
    acting = {c["user_id"] for k, c in t["credentials"].items() if isinstance(c, dict) and "user_id" in c}
    acting |= {c["user_id"] for c in t["credentials"]["api_tokens"]}
    users = {u["id"]: u for u in t["users"]}
    kind = ACTIONS[action].target
    if kind in (TargetKind.ACCOUNT, TargetKind.SESSION):
        wanted = "SUSPENDED" if action == "unsuspend_user" else "ACTIVE"
        rows = [
            r
            for r in _rows(lake, "accounts")
            if r["provider_status"] == wanted
            and not r["is_admin"]
            and r["account_id"] not in acting
            and users.get(r["account_id"], {}).get("credentials", {}).get("provider", {}).get("type") == "OKTA"
        ]
        key = lambda r: r["account_id"]  # noqa: E731
    elif kind == TargetKind.APP_GRANT:
        rows = [r for r in _rows(lake, "app_permissions") if r["account_id"] not in acting]
        key = lambda r: r["grant_id"]  # noqa: E731
    else:
        direct = {
            (a["user_id"], a["role_id"])
            for a in t["role_assignments"]
            if a["assignment_type"] == "USER" and a["role_type"] != "SUPER_ADMIN"
        }
        rows = [
            r
            for r in _rows(lake, "privileges")
            if (r["account_id"], r["privilege_id"]) in direct and r["account_id"] not in acting
        ]
        key = lambda r: f"{r['account_id']}/{r['privilege_id']}"  # noqa: E731
    for row in rows:
        if key(row) not in _taken:
            _taken.add(key(row))
            keys = {"account_id": row["account_id"]}
            if kind == TargetKind.APP_GRANT:
                keys = {"grant_id": row["grant_id"]}
            elif kind == TargetKind.PRIVILEGE:
                keys["privilege_id"] = row["privilege_id"]
            return Target(kind, keys, row=row)
    if action == "unsuspend_user":  # the tenant has few SUSPENDED users: suspend an ordinary one first
        target = pick(server, lake, "suspend_user")
        user = f"/api/v1/users/{target.keys['account_id']}/lifecycle/suspend"
        connector(server).client.request("POST", user, idempotent=False)
        return target
    raise AssertionError(f"the tenant has no unused target for {action}")


def reference(target: Target) -> str:
    if target.kind == TargetKind.PRIVILEGE:
        return f"{target.keys['account_id']}/{target.keys['privilege_id']}"
    return next(iter(target.keys.values()))


# -- reading the sandbox back ----------------------------------------------------------------------------


def writes_since(server: SandboxServer, count: int) -> list[dict[str, Any]]:
    """The non-GET requests that reached the tenant after the first `count` logged requests."""
    log = httpx.get(f"{server.tenant_url('okta', TENANT).split('/okta/')[0]}/_sandbox/requests").json()
    return [r for r in log[count:] if r["method"] not in ("GET", "HEAD") and f"/okta/{TENANT}/" in r["raw_path"]]


def logged(server: SandboxServer) -> int:
    return len(httpx.get(f"{server.tenant_url('okta', TENANT).split('/okta/')[0]}/_sandbox/requests").json())


def state(server: SandboxServer, action: str, target: Target) -> Any:
    """What the ground truth says about the target: a status, whether a grant or role is still held."""
    t = truth(server)
    if action in STATUS_AFTER or action == "clear_user_sessions":
        return next(u["status"] for u in t["users"] if u["id"] == target.keys["account_id"])
    if action == "revoke_user_grant":
        return any(g["id"] == target.keys["grant_id"] for g in t["grants"])
    return any(
        (a["user_id"], a["role_id"]) == (target.keys["account_id"], target.keys["privilege_id"])
        for a in t["role_assignments"]
    )


def forget(server: SandboxServer, target: Target) -> None:
    if target.kind == TargetKind.APP_GRANT:
        body = {"kind": "app_grant", "id": f"{target.row['account_id']}/{target.keys['grant_id']}"}
    elif target.kind == TargetKind.PRIVILEGE:
        body = {"kind": "privilege", "id": reference(target)}
    else:
        body = {"kind": "account", "id": target.keys["account_id"]}
    origin = server.tenant_url("okta", TENANT).split("/okta/")[0]
    response = httpx.post(f"{origin}/_sandbox/okta/{TENANT}/forget", json=body)
    assert response.status_code == 200, response.text


# -- the connector's functions, directly ---------------------------------------------------------------


@pytest.mark.parametrize("action", list(EVENTS))
def test_plan_reads_only_apply_changes_verify_reads_back_with_the_audit_event(server, lake, action):
    spec = ACTIONS[action]
    assert spec.implemented and spec.plan and spec.apply and spec.verify
    target = pick(server, lake, action)
    before = state(server, action, target)
    c = connector(server)
    count = logged(server)
    plan = spec.plan(c, target)
    assert writes_since(server, count) == [], "plan must only read"
    assert state(server, action, target) == before
    assert not plan.noop and plan.protected is None and len(plan.requests) == 1
    assert (plan.undo is not None) == spec.reversible or action == "remove_admin_role"
    outcome = spec.apply(c, plan)
    assert outcome.applied and outcome.applied_at is not None
    sent = writes_since(server, count)
    assert [(r["method"], r["raw_path"].split(f"/okta/{TENANT}", 1)[1]) for r in sent] == [
        (p.method, p.path.split("?")[0])
        for p in plan.requests  # the log keeps the path, not the query
    ]
    assert "sandbox-okta" not in outcome.detail  # never a credential
    verification = spec.verify(c, outcome)
    assert verification.holds, verification
    assert verification.audit_event_id, verification.detail
    after = state(server, action, target)
    if action in STATUS_AFTER:
        assert after == STATUS_AFTER[action]
    elif action != "clear_user_sessions":
        assert after is False
    event = next(e for e in truth(server)["log_events"] if e["uuid"] == verification.audit_event_id)
    assert event["eventType"] in EVENTS[action]
    assert event["actor"]["id"] == truth(server)["credentials"]["actions"]["user_id"]


@pytest.mark.parametrize("action", ["suspend_user", "unsuspend_user", "expire_password"])
def test_a_target_already_in_the_wanted_state_plans_a_noop(server, lake, action):
    spec = ACTIONS[action]
    assert spec.plan and spec.apply
    c = connector(server)
    target = pick(server, lake, action)
    spec.apply(c, spec.plan(c, target))
    count = logged(server)
    again = spec.plan(c, target)
    assert again.noop
    assert not spec.apply(c, again).applied
    assert writes_since(server, count) == []


def test_suspending_a_suspended_user_is_okta_s_400_not_a_success(server, lake):
    """Okta documents E0000001 for suspending a user that is not ACTIVE: the sandbox answers it, so
    the plan's no-op check is what keeps a repeat from failing."""
    target = pick(server, lake, "suspend_user")
    c = connector(server)
    path = f"/api/v1/users/{target.keys['account_id']}/lifecycle/suspend"
    c.client.request("POST", path, idempotent=False)
    with pytest.raises(ApiError) as raised:
        c.client.request("POST", path, idempotent=False)
    assert raised.value.status == 400 and raised.value.provider_code == "E0000001"


def test_super_admins_are_protected_and_the_acting_account_is_the_token_admin(server, lake):
    t = truth(server)
    c = connector(server)
    acting = c.acting_account()
    assert acting is not None and acting.account_id == t["credentials"]["actions"]["user_id"]
    super_admin = next(
        a["user_id"]
        for a in t["role_assignments"]
        if a["role_type"] == "SUPER_ADMIN" and a["user_id"] != acting.account_id
    )
    plan = ACTIONS["suspend_user"].plan(c, Target(TargetKind.ACCOUNT, {"account_id": super_admin}))  # type: ignore[misc]
    assert plan.protected and "SUPER_ADMIN" in plan.protected


def test_authenticate_names_the_actions_permissions_the_token_admin_holds(server):
    report = connector(server).authenticate()
    assert {"okta.users.manage", "okta.roles.manage"} <= set(report.permissions)
    read_only = connector(server, "read_only").authenticate()
    assert "okta.users.manage" not in read_only.permissions and not read_only.permissions_complete


@pytest.mark.parametrize("action", list(EVENTS))
def test_direct_errors_are_typed_denied_and_not_found(server, lake, action):
    spec = ACTIONS[action]
    assert spec.plan and spec.apply
    denied = pick(server, lake, action)
    with pytest.raises(PermissionDeniedError) as raised:
        c = connector(server, "read_only")
        spec.apply(c, spec.plan(c, denied))
    assert raised.value.provider_code == "E0000006"
    gone = pick(server, lake, action)
    forget(server, gone)
    with pytest.raises(NotFoundError) as missing:
        spec.plan(connector(server), gone)
    assert missing.value.provider_code == "E0000007"


# -- through the governance engine ---------------------------------------------------------------------

_runs = itertools.count()


def run(server: SandboxServer, lake: Lake, action: str, target: Target, *, dry_run: bool, key: str = "actions"):
    inst = InstanceConfig(
        app="okta",
        name=TENANT,
        conn_id=f"okta_{TENANT}",
        actions_conn_id=f"okta_{TENANT}_{key}",
        options=scan_instance().options,
        governance=GovernanceSettings(require_approval=False),
    )
    request = GovernanceRequest(
        app="okta",
        instance=TENANT,
        action=action,
        targets=(reference(target),),
        requested_by="tests",
        requested_at=datetime.now(UTC),
        run_id=f"okta-actions-{next(_runs)}",
        dry_run=dry_run,
    )
    (row,) = act(inst, request, lake, connection=credential(server, key))
    return row


@pytest.mark.parametrize("action", list(EVENTS))
def test_engine_dry_run_apply_rescan_audit_repeat(server, lake, action):
    target = pick(server, lake, action)
    before = state(server, action, target)

    count = logged(server)
    assert run(server, lake, action, target, dry_run=True)["result"] == "planned"
    assert writes_since(server, count) == []
    assert state(server, action, target) == before

    applied = run(server, lake, action, target, dry_run=False)
    assert applied["result"] == "applied", applied
    assert applied["verified"] is True

    if action != "clear_user_sessions":  # Okta lists no sessions: a second clear is sent again
        count = logged(server)
        again = run(server, lake, action, target, dry_run=False)
        assert again["result"] == "already-applied", again
        assert writes_since(server, count) == []

    results = sync(
        scan_instance(), ssws(server, TENANT), lake, stages=["users", "privileges", "app_permissions", "activities"]
    )
    assert {s: r.status for s, r in results.items()} == dict.fromkeys(results, "success")
    if action in STATUS_AFTER:
        row = next(r for r in _rows(lake, "accounts") if r["account_id"] == target.keys["account_id"])
        assert row["provider_status"] == STATUS_AFTER[action]
    elif action == "revoke_user_grant":
        assert target.keys["grant_id"] not in {r["grant_id"] for r in _rows(lake, "app_permissions")}
    elif action == "remove_admin_role":
        held = {(r["account_id"], r["privilege_id"]) for r in _rows(lake, "privileges")}
        assert (target.keys["account_id"], target.keys["privilege_id"]) not in held
    actor = truth(server)["credentials"]["actions"]["user_id"]
    user = target.row["account_id"]
    events = [
        e
        for e in lake.read_events("activities", "okta", TENANT).to_pylist()
        if e["action"] in EVENTS[action] and e["actor_id"] == actor and user in e["raw"]
    ]
    assert events, f"no {EVENTS[action]} event by {actor} about {user} in the lake"


@pytest.mark.parametrize("action", list(EVENTS))
def test_engine_denied_and_not_found(server, lake, action):
    denied = run(server, lake, action, pick(server, lake, action), dry_run=False, key="read_only")
    assert denied["result"] == "denied", denied
    assert "E0000006" in (denied.get("provider_error") or "")
    gone = pick(server, lake, action)
    forget(server, gone)
    missing = run(server, lake, action, gone, dry_run=False)
    assert missing["result"] == "not-found", missing
