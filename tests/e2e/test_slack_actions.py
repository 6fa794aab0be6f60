"""Slack governance actions against the sandbox: the connector's plan / apply / verify directly, then the
governance engine end to end (dry run, apply, next scan, audit entry, already applied, denied, not found).

One tenant is synced once for the module; every test takes targets of its own from it, so the tests
neither see nor undo each other's changes."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from saaslens.config import GovernanceSettings, InstanceConfig
from saaslens.connections import ConnectionInfo
from saaslens.connectors.kit import Target
from saaslens.connectors.slack import APP
from saaslens.connectors.slack.connector import SlackConnector
from saaslens.governance import GovernanceRequest, act
from saaslens.http.errors import ApiError, NotFoundError, PermissionDeniedError
from saaslens.lake.writer import Lake, snapshot_id_for
from saaslens.runner import RunContext, StageResult, run_stage
from saaslens.vocabulary import TargetKind
from saaslens_sandbox.core import RateLimitConfig, SandboxServer, TenantSpec

pytestmark = pytest.mark.integration
TENANT = "gov"
ANCHOR = (datetime.now(UTC) - timedelta(minutes=10)).replace(microsecond=0)
# Each action: the Audit Logs API action Slack records for it.
EVENTS = {
    "deactivate_user": "user_deactivated",
    "reactivate_user": "user_reactivated",
    "reset_user_sessions": "user_session_reset_by_admin",
    "demote_admin": "role_change_to_user",
    "revoke_public_link": "file_public_link_revoked",
    "restrict_app": "app_restricted",
}
# The error code a token without the write scope gets: the Web API's, or the SCIM API's 403.
DENIED = {action: "missing_scope" for action in EVENTS} | {
    "deactivate_user": "permission_denied",
    "reactivate_user": "permission_denied",
}
NOT_FOUND = {
    "deactivate_user": "user_not_found",
    "reactivate_user": "user_not_found",
    "reset_user_sessions": "user_not_found",
    "demote_admin": "user_not_found",
    "revoke_public_link": "file_not_found",
    "restrict_app": None,  # absent from both app lists: the plan says so itself
}
ACTIONS = {a.name: a for a in APP.actions}
STAGES = ["users", "privileges", "app_permissions", "files", "activities"]


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    spec = TenantSpec(
        app="slack",
        name=TENANT,
        seed=12,
        users=600,
        options={"anchor": ANCHOR.isoformat(), "files": 600},
        rate_limits=RateLimitConfig(enabled=False),  # the sync tests cover Slack's tiers; here they only cost time
    )
    with SandboxServer([spec]) as running:
        yield running


def scan_instance() -> InstanceConfig:
    # No lag: the entry an action writes is read by the very next activities run.
    return InstanceConfig(
        app="slack",
        name=TENANT,
        conn_id=f"slack_{TENANT}",
        options={"retry_initial_backoff_seconds": 0.05, "activities_lag_seconds": 0},
    )


def truth(server: SandboxServer) -> dict[str, Any]:
    return server.personality("slack", TENANT).ground_truth()


def credential(server: SandboxServer, key: str) -> ConnectionInfo:
    url = server.tenant_url("slack", TENANT)
    return ConnectionInfo(
        f"slack_{TENANT}_{key}",
        "http",
        url,
        password=f"xoxp-sandbox-{TENANT}-{key}",
        extra={"audit_base_url": f"{url}/audit/v1", "scim_base_url": f"{url}/scim/v1"},
    )


def token_user(server: SandboxServer, key: str) -> str:
    return next(c["user_id"] for c in truth(server)["credentials"] if c["token"] == f"xoxp-sandbox-{TENANT}-{key}")


def connector(server: SandboxServer, key: str = "actions") -> SlackConnector:
    return SlackConnector({"retry_initial_backoff_seconds": 0.05}, credential(server, key))


def sync(server: SandboxServer, lake: Lake, stages: list[str]) -> dict[str, StageResult]:
    moment = datetime.now(UTC)
    ctx = RunContext(run_id=f"test-{moment:%H%M%S%f}", snapshot_id=snapshot_id_for(moment))
    conn = credential(server, "owner")
    return {stage: run_stage(scan_instance(), stage, ctx, lake, connection=conn) for stage in stages}


@pytest.fixture(scope="module")
def lake(server: SandboxServer, tmp_path_factory: pytest.TempPathFactory) -> Lake:
    lake = Lake(tmp_path_factory.mktemp("slack-actions-lake"))
    results = sync(server, lake, ["authenticate", *STAGES])
    assert {s: r.status for s, r in results.items()} == dict.fromkeys(results, "success")
    return lake


# -- picking targets no other test uses ------------------------------------------------------------------

_taken: set[str] = set()


def _rows(lake: Lake, table: str) -> list[dict[str, Any]]:
    return lake.read_snapshot(table, "slack", TENANT).to_pylist()


def reference(target: Target) -> str:
    return "/".join(
        target.keys[k]
        for k in {"account_id": 0, "privilege_id": 1, "grant_id": 0, "file_id": 0, "share_id": 1}
        if k in target.keys
    )


def pick(server: SandboxServer, lake: Lake, action: str, *, keep: bool = True) -> Target:
    """A fresh target for `action` from the lake: an ordinary member in the state the action changes,
    a workspace admin who is neither owner nor org admin, a public link, an approved app; never the
    tokens' own users."""
    t = truth(server)
    users = {u["id"]: u for u in t["users"]}
    acting = {c["user_id"] for c in t["credentials"]}
    kind = ACTIONS[action].target
    if kind in (TargetKind.ACCOUNT, TargetKind.SESSION):
        wanted = "deleted" if action == "reactivate_user" else "active"
        rows = [
            r
            for r in _rows(lake, "accounts")
            if r["provider_status"] == wanted and r["account_type"] == "member" and not r["is_admin"]
        ]
        rows = [r for r in rows if r["account_id"] not in acting]
        keys = [{"account_id": r["account_id"]} for r in rows]
    elif kind == TargetKind.PRIVILEGE:
        keys = [
            {"account_id": r["account_id"], "privilege_id": "admin"}
            for r in _rows(lake, "privileges")
            if r["privilege_id"] == "admin"
            and r["account_id"] not in acting
            and not users[r["account_id"]].get("is_owner")
            and not (users[r["account_id"]].get("enterprise_user") or {}).get("is_admin")
        ]
    elif kind == TargetKind.APP_GRANT:
        keys = [{"grant_id": r["grant_id"]} for r in _rows(lake, "app_permissions")]
    else:
        keys = [
            {"file_id": r["file_id"], "share_id": r["share_id"]}
            for r in _rows(lake, "file_shares")
            if r["share_id"] == "public_url"
        ]
    for key in keys:
        target = Target(kind, key)
        if reference(target) not in _taken:
            if keep:  # a target a denied request leaves unchanged stays free for another test
                _taken.add(reference(target))
            return Target(kind, key, row={"account_id": key.get("account_id")})
    raise AssertionError(f"the tenant has no unused target for {action}")


# -- reading the sandbox back ----------------------------------------------------------------------------


def _log(server: SandboxServer) -> list[dict[str, Any]]:
    return httpx.get(f"{server.url}/_sandbox/requests").json()


def logged(server: SandboxServer) -> int:
    return len(_log(server))


def writes_since(server: SandboxServer, count: int) -> list[dict[str, Any]]:
    """The requests after the first `count` that may change the tenant: anything not a GET (Slack's
    Web API takes reads as GET too, and saaslens sends them so)."""
    return [
        r for r in _log(server)[count:] if r["method"] not in ("GET", "HEAD") and f"/slack/{TENANT}/" in r["raw_path"]
    ]


def state(server: SandboxServer, action: str, target: Target) -> Any:
    t = truth(server)
    if target.kind in (TargetKind.ACCOUNT, TargetKind.SESSION, TargetKind.PRIVILEGE):
        user = next(u for u in t["users"] if u["id"] == target.keys["account_id"])
        return (user["deleted"], user["is_admin"])
    if target.kind == TargetKind.FILE_SHARE:
        return next(f["public_url_shared"] for f in t["files"] if f["id"] == target.keys["file_id"])
    app_id = target.keys["grant_id"].rpartition(":")[2]
    return (
        any(a["app"]["id"] == app_id for a in t["approved_apps"]),
        any(a["app"]["id"] == app_id for a in t["restricted_apps"]),
    )


AFTER = {
    "deactivate_user": (True, False),
    "reactivate_user": (False, False),
    "demote_admin": (False, False),
    "revoke_public_link": False,
    "restrict_app": (False, True),
}


def audit_entries(server: SandboxServer, action: str, entity: str) -> list[dict[str, Any]]:
    return [
        e
        for e in truth(server)["audit_logs"]
        if e["action"] == EVENTS[action] and (e["entity"].get(e["entity"]["type"]) or {}).get("id") == entity
    ]


def entity_of(target: Target) -> str:
    if target.kind == TargetKind.FILE_SHARE:
        return target.keys["file_id"]
    if target.kind == TargetKind.APP_GRANT:
        return target.keys["grant_id"].rpartition(":")[2]
    return target.keys["account_id"]


def forget(server: SandboxServer, target: Target) -> None:
    if target.kind == TargetKind.APP_GRANT:
        body = {"kind": "app_grant", "id": target.keys["grant_id"]}
    elif target.kind == TargetKind.FILE_SHARE:
        body = {"kind": "file", "id": target.keys["file_id"]}
    else:
        body = {"kind": "account", "id": target.keys["account_id"]}
    response = httpx.post(f"{server.url}/_sandbox/slack/{TENANT}/forget", json=body)
    assert response.status_code == 200, response.text


# -- the connector's functions, directly ---------------------------------------------------------------


@pytest.mark.parametrize("action", list(EVENTS))
def test_plan_reads_only_apply_changes_verify_reads_back(server, lake, action):
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
    assert (plan.undo is not None) == spec.reversible
    outcome = spec.apply(c, plan)
    assert outcome.applied and outcome.applied_at is not None
    sent = writes_since(server, count)
    assert [r["method"] for r in sent] == [plan.requests[0].method]
    assert sent[0]["raw_path"].rstrip("/").endswith(plan.requests[0].path.rsplit("/", 1)[-1])
    assert "xoxp-" not in outcome.detail  # never a credential
    verification = spec.verify(c, outcome)
    assert verification.holds, verification
    if action in AFTER:
        assert state(server, action, target) == AFTER[action]
    since = int(outcome.applied_at.timestamp()) - 1
    (entry,) = [e for e in audit_entries(server, action, entity_of(target)) if e["date_create"] >= since]
    assert entry["actor"]["user"]["id"] == token_user(server, "actions")
    # The actions token may not read the Audit Logs API (an org owner's auditlogs:read): verify says
    # so by naming no entry, and the next activities scan stores it (the engine tests below).
    assert verification.audit_event_id is None


def test_a_target_already_in_the_wanted_state_plans_a_noop_and_sends_nothing(server, lake):
    spec = ACTIONS["revoke_public_link"]
    assert spec.plan and spec.apply
    c = connector(server)
    target = pick(server, lake, "revoke_public_link")
    spec.apply(c, spec.plan(c, target))
    count = logged(server)
    again = spec.plan(c, target)
    assert again.noop
    assert not spec.apply(c, again).applied
    assert writes_since(server, count) == []


def test_owners_are_protected_and_the_acting_account_is_the_token_user(server, lake):
    t = truth(server)
    c = connector(server)
    acting = c.acting_account()
    assert acting is not None and acting.account_id == token_user(server, "actions")
    owner = next(u["id"] for u in t["users"] if u.get("is_primary_owner"))
    plan = ACTIONS["deactivate_user"].plan(c, Target(TargetKind.ACCOUNT, {"account_id": owner}))  # type: ignore[misc]
    assert plan.protected and "primary owner" in plan.protected


def test_setting_the_primary_owner_regular_is_slacks_error(server):
    t = truth(server)
    owner = next(u["id"] for u in t["users"] if u.get("is_primary_owner"))
    c = connector(server)
    body = {"team_id": t["team"]["id"], "user_id": owner}
    with pytest.raises(ApiError) as raised:
        c.client.request("POST", "admin.users.setRegular", data=body)
    assert raised.value.provider_code == "cannot_modify_primary_owner"


def test_authenticate_lists_the_write_scopes_completely(server):
    report = connector(server).authenticate()
    assert {"admin.users:write", "admin.apps:write", "files:write", "admin"} <= set(report.permissions)
    assert report.permissions_complete
    read_only = connector(server, "noaudit").authenticate()
    assert "admin.users:write" not in read_only.permissions and read_only.permissions_complete


@pytest.mark.parametrize("action", list(EVENTS))
def test_direct_errors_are_typed_denied_and_not_found(server, lake, action):
    spec = ACTIONS[action]
    assert spec.plan and spec.apply
    denied = pick(server, lake, action, keep=False)
    c = connector(server, "noaudit")
    with pytest.raises(PermissionDeniedError) as raised:
        spec.apply(c, spec.plan(c, denied))
    assert raised.value.provider_code == DENIED[action]
    gone = pick(server, lake, action)
    forget(server, gone)
    with pytest.raises(NotFoundError) as missing:
        spec.plan(connector(server), gone)
    assert missing.value.provider_code == NOT_FOUND[action]


# -- through the governance engine ---------------------------------------------------------------------

_runs = itertools.count()


def run(server: SandboxServer, lake: Lake, action: str, target: Target, *, dry_run: bool, key: str = "actions"):
    inst = InstanceConfig(
        app="slack",
        name=TENANT,
        conn_id=f"slack_{TENANT}",
        actions_conn_id=f"slack_{TENANT}_{key}",
        options=scan_instance().options,
        governance=GovernanceSettings(require_approval=False),
    )
    request = GovernanceRequest(
        app="slack",
        instance=TENANT,
        action=action,
        targets=(reference(target),),
        requested_by="tests",
        requested_at=datetime.now(UTC),
        run_id=f"slack-actions-{next(_runs)}",
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

    if action != "reset_user_sessions":  # the Web API lists no sessions: a second reset is sent again
        count = logged(server)
        again = run(server, lake, action, target, dry_run=False)
        assert again["result"] == "already-applied", again
        assert writes_since(server, count) == []

    results = sync(server, lake, STAGES)
    assert {s: r.status for s, r in results.items()} == dict.fromkeys(results, "success")
    if action in ("deactivate_user", "reactivate_user"):
        row = next(r for r in _rows(lake, "accounts") if r["account_id"] == target.keys["account_id"])
        assert row["provider_status"] == ("deleted" if action == "deactivate_user" else "active")
    elif action == "demote_admin":
        held = {(r["account_id"], r["privilege_id"]) for r in _rows(lake, "privileges")}
        assert (target.keys["account_id"], "admin") not in held
    elif action == "restrict_app":
        assert target.keys["grant_id"] not in {r["grant_id"] for r in _rows(lake, "app_permissions")}
    elif action == "revoke_public_link":
        shares = {(r["file_id"], r["share_id"]) for r in _rows(lake, "file_shares")}
        assert (target.keys["file_id"], "public_url") not in shares
    actor = token_user(server, "actions")
    events = [
        e
        for e in lake.read_events("activities", "slack", TENANT).to_pylist()
        if e["action"] == EVENTS[action] and e["actor_id"] == actor and e["target_id"] == entity_of(target)
    ]
    assert events, f"no {EVENTS[action]} entry by {actor} about {entity_of(target)} in the lake"


@pytest.mark.parametrize("action", list(EVENTS))
def test_engine_denied_and_not_found(server, lake, action):
    denied = run(server, lake, action, pick(server, lake, action, keep=False), dry_run=False, key="noaudit")
    assert denied["result"] == "denied", denied
    assert DENIED[action] in (denied.get("provider_error") or "")
    gone = pick(server, lake, action)
    forget(server, gone)
    missing = run(server, lake, action, gone, dry_run=False)
    assert missing["result"] == "not-found", missing
