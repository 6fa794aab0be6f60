"""GitHub governance actions against the sandbox: plan / apply / verify directly, then through the
governance engine (dry run, apply, the next scans, already-applied, denied, not-found)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pyarrow.dataset as ds
import pytest

from saaslens.config import InstanceConfig
from saaslens.connections import ConnectionInfo
from saaslens.connectors.base import HttpContext
from saaslens.connectors.github import APP
from saaslens.connectors.github.actions import MEMBERS_WRITE, SSO_ADMIN
from saaslens.connectors.github.connector import GitHubConnector
from saaslens.connectors.kit import Target
from saaslens.governance import GovernanceRequest, act
from saaslens.http import NotFoundError, PermissionDeniedError
from saaslens.lake.writer import Lake, snapshot_id_for
from saaslens.runner import RunContext, run_stage
from saaslens.vocabulary import TargetKind
from saaslens_sandbox.core import RateLimitConfig, SandboxServer, TenantSpec

pytestmark = pytest.mark.integration

TENANT = "govern"
ANCHOR = (datetime.now(UTC) - timedelta(minutes=10)).replace(microsecond=0).isoformat()
STAGES = ["authenticate", "users", "groups", "privileges", "app_permissions", "activities"]
OPTIONS = {"max_workers": 2, "retry_initial_backoff_seconds": 0.05, "activities_lag_seconds": 0}


@pytest.fixture(scope="module")
def server():
    spec = TenantSpec(
        app="github",
        name=TENANT,
        seed=41,
        users=400,
        options={"anchor": ANCHOR},
        rate_limits=RateLimitConfig(scale=40, window_seconds=1),
    )
    with SandboxServer([spec]) as running:
        yield running


@pytest.fixture(scope="module")
def truth(server) -> dict[str, Any]:
    return server.personality("github", TENANT).ground_truth()


def _token(truth: dict[str, Any], scopes: set[str]) -> dict[str, Any]:
    return next(t for t in truth["credentials"]["tokens"] if t["kind"] == "classic" and set(t["scopes"]) == scopes)


def connection(server, truth, token: str) -> ConnectionInfo:
    return ConnectionInfo(
        f"github_{TENANT}",
        "http",
        server.tenant_url("github", TENANT),
        password=token,
        extra={"org": truth["org"]["login"]},
    )


@pytest.fixture(scope="module")
def tokens(truth) -> dict[str, dict[str, Any]]:
    return {
        "scan": _token(truth, {"read:org", "read:audit_log"}),
        "actions": _token(truth, {"admin:org", "read:audit_log"}),
        "reduced": _token(truth, {"read:org"}),  # an owner's token without write:org / admin:org
    }


@pytest.fixture(scope="module")
def targets(truth, tokens) -> dict[str, list[dict[str, Any]]]:
    """Disjoint targets per test, none the holder of a token."""
    holders = {t["user_id"] for t in truth["credentials"]["tokens"]}
    users = [u for u in truth["users"] if u["id"] not in holders]
    credential_logins = {c["login"] for c in truth["credential_authorizations"]}
    members = [u for u in users if u["role"] == "member" and u["login"] not in credential_logins]
    pools = {
        "member": members[: len(members) // 2],
        "convert": members[len(members) // 2 :],
        "owner": [u for u in users if u["role"] == "admin"],
        "collaborator": [u for u in users if u["role"] == "outside_collaborator"],
    }
    seen: set[str] = set()
    credentials = []
    for c in truth["credential_authorizations"]:  # one per member, so revoking one leaves its own row
        if c["login"] not in seen:
            seen.add(c["login"])
            credentials.append(c)
    pools["credential"] = credentials
    sizes = {"member": 4, "convert": 4, "owner": 6, "collaborator": 4, "credential": 4}
    assert all(len(pools[name]) >= size for name, size in sizes.items()), {k: len(v) for k, v in pools.items()}
    return pools


def instance(**governance: Any) -> InstanceConfig:
    return InstanceConfig(
        app="github",
        name=TENANT,
        conn_id=f"github_{TENANT}",
        actions_conn_id=f"github_{TENANT}_actions",
        options=OPTIONS,
        governance={"require_approval": False, **governance},
    )


def sync(server, truth, tokens, lake: Lake, stages=STAGES) -> None:
    moment = datetime.now(UTC)
    ctx = RunContext(run_id=f"test-{moment:%H%M%S%f}", snapshot_id=snapshot_id_for(moment))
    conn = connection(server, truth, tokens["scan"]["token"])
    inst = instance()
    for stage in stages:
        result = run_stage(inst, stage, ctx, lake, connection=conn)
        assert result.status == "success", (stage, result)


@pytest.fixture(scope="module")
def lake(server, truth, tokens, tmp_path_factory) -> Lake:
    lake = Lake(tmp_path_factory.mktemp("github-actions-lake"))
    sync(server, truth, tokens, lake)
    return lake


def connector(server, truth, token: str) -> GitHubConnector:
    return GitHubConnector(OPTIONS, connection(server, truth, token), HttpContext())


def _writes(server) -> list[dict[str, Any]]:
    log = httpx.get(f"{server.tenant_url('github', TENANT).rsplit('/github/', 1)[0]}/_sandbox/requests").json()
    return [r for r in log if r["method"] != "GET" and f"/github/{TENANT}/" in r["raw_path"]]


def _forget(server, kind: str, object_id: str) -> None:
    base = server.tenant_url("github", TENANT).rsplit("/github/", 1)[0]
    response = httpx.post(f"{base}/_sandbox/github/{TENANT}/forget", json={"kind": kind, "id": object_id})
    assert response.status_code == 200, response.text


def _audit(server, truth, tokens, action: str, since: datetime) -> list[dict[str, Any]]:
    """The audit log's events of one action since a moment (the generated history has older ones)."""
    c = connector(server, truth, tokens["scan"]["token"])
    start = int(since.timestamp() * 1000) - 1000
    try:
        events = c.client.get_json(c.org_path("/audit-log"), {"phrase": f"action:{action}", "per_page": 100})
        return [e for e in events if e["@timestamp"] >= start]
    finally:
        c.close()


def _account_target(user: dict[str, Any]) -> Target:
    return Target(TargetKind.ACCOUNT, {"account_id": str(user["id"])}, user["login"], {"login": user["login"]})


# -- the connector's plan / apply / verify, directly -------------------------------------------------


def test_acting_account_and_permissions(server, truth, tokens):
    c = connector(server, truth, tokens["actions"]["token"])
    reduced = connector(server, truth, tokens["reduced"]["token"])
    try:
        acting = c.acting_account()
        assert acting is not None and acting.account_id == str(tokens["actions"]["user_id"])
        assert acting.login == tokens["actions"]["login"]
        report = c.authenticate()
        assert report.permissions_complete and {MEMBERS_WRITE, SSO_ADMIN} <= set(report.permissions)
        # authenticate still reports every stage as before
        assert all(access.allowed for access in report.stages.values()), report.stages
        weak = reduced.authenticate()
        assert weak.permissions_complete and not {MEMBERS_WRITE, SSO_ADMIN} & set(weak.permissions)
    finally:
        c.close()
        reduced.close()


def test_remove_member_directly(server, truth, tokens, targets):
    user, start = targets["member"][0], datetime.now(UTC)
    action = {a.name: a for a in APP.actions}["remove_org_member"]
    assert action.plan and action.apply and action.verify
    c = connector(server, truth, tokens["actions"]["token"])
    try:
        plan = action.plan(c, _account_target(user))
        assert plan.before["role"] == "member" and not plan.noop and plan.protected is None
        assert [(r.method, r.path) for r in plan.requests] == [
            ("DELETE", f"/orgs/{truth['org']['login']}/memberships/{user['login']}")
        ]
        outcome = action.apply(c, plan)
        assert "HTTP 204" in outcome.detail
        verification = action.verify(c, outcome)
        assert verification.holds
        with pytest.raises(NotFoundError):
            action.plan(c, _account_target(user))
    finally:
        c.close()
    events = [e for e in _audit(server, truth, tokens, "org.remove_member", start) if e.get("user_id") == user["id"]]
    assert [e["actor"] for e in events] == [tokens["actions"]["login"]]


def test_demote_owner_directly_is_protected_and_reversible(server, truth, tokens, targets):
    owner, start = targets["owner"][0], datetime.now(UTC)
    action = {a.name: a for a in APP.actions}["demote_org_owner"]
    assert action.plan and action.apply and action.verify
    target = Target(
        TargetKind.PRIVILEGE,
        {"account_id": str(owner["id"]), "privilege_id": "org:owner"},
        owner["login"],
        {"login": owner["login"]},
    )
    c = connector(server, truth, tokens["actions"]["token"])
    try:
        plan = action.plan(c, target)
        assert plan.protected and plan.undo is not None and plan.requests[0].body == {"role": "member"}
        verification = action.verify(c, action.apply(c, plan))
        assert verification.holds and verification.after["role"] == "member"
        assert action.plan(c, target).noop
        undo = plan.undo
        action.apply(c, undo)
        assert action.plan(c, target).before["role"] == "admin"
    finally:
        c.close()
    events = [e for e in _audit(server, truth, tokens, "org.update_member", start) if e.get("user_id") == owner["id"]]
    # newest first (the audit log's default order): the demotion, then the undo
    assert [(e["permission"], e["old_permission"], e["actor"]) for e in events] == [
        ("admin", "read", tokens["actions"]["login"]),
        ("read", "admin", tokens["actions"]["login"]),
    ]


def test_convert_member_directly(server, truth, tokens, targets):
    user, start = targets["convert"][0], datetime.now(UTC)
    action = {a.name: a for a in APP.actions}["convert_to_outside_collaborator"]
    assert action.plan and action.apply and action.verify
    c = connector(server, truth, tokens["actions"]["token"])
    try:
        plan = action.plan(c, _account_target(user))
        assert plan.before["member"] and plan.before["role"] == "member" and not plan.before["outside_collaborator"]
        assert not plan.noop and plan.protected is None
        assert [(r.method, r.path, r.body) for r in plan.requests] == [
            ("PUT", f"/orgs/{truth['org']['login']}/outside_collaborators/{user['login']}", None)
        ]
        outcome = action.apply(c, plan)
        assert "HTTP 204" in outcome.detail
        verification = action.verify(c, outcome)
        assert verification.holds and verification.after["outside_collaborator"], verification
        assert action.plan(c, _account_target(user)).noop
        # an outside collaborator all along: nothing to do; an owner: protected (plans only read)
        assert action.plan(c, _account_target(targets["collaborator"][0])).noop
        owner_plan = action.plan(c, _account_target(targets["owner"][1]))
        assert owner_plan.protected and owner_plan.before["role"] == "admin"
    finally:
        c.close()
    events = [e for e in _audit(server, truth, tokens, "org.remove_member", start) if e.get("user_id") == user["id"]]
    assert [e["actor"] for e in events] == [tokens["actions"]["login"]]


def test_denied_without_write_scope(server, truth, tokens, targets):
    user = targets["member"][1]
    action = {a.name: a for a in APP.actions}["remove_org_member"]
    assert action.plan and action.apply
    c = connector(server, truth, tokens["reduced"]["token"])
    try:
        plan = action.plan(c, _account_target(user))  # reading is allowed
        with pytest.raises(PermissionDeniedError) as denied:
            action.apply(c, plan)
        assert denied.value.status == 403 and "write:org" in (denied.value.provider_code or "")
    finally:
        c.close()


def test_forgotten_target_is_not_found(server, truth, tokens, targets):
    credential = targets["credential"][0]
    action = {a.name: a for a in APP.actions}["revoke_sso_authorization"]
    assert action.plan
    _forget(server, "app_grant", f"credential-authorization:{credential['credential_id']}")
    target = Target(TargetKind.APP_GRANT, {"grant_id": f"credential-authorization:{credential['credential_id']}"})
    c = connector(server, truth, tokens["actions"]["token"])
    try:
        with pytest.raises(NotFoundError):
            action.plan(c, target)
    finally:
        c.close()


# -- through the governance engine -----------------------------------------------------------------

# action, target pool, reference from a pool entry, the audit event GitHub writes, the lake check
CASES = {
    "remove_org_member": ("member", lambda u: str(u["id"]), "org.remove_member"),
    "remove_outside_collaborator": ("collaborator", lambda u: str(u["id"]), "org.remove_outside_collaborator"),
    # GitHub documents no conversion event; the membership's end is org.remove_member.
    "convert_to_outside_collaborator": ("convert", lambda u: str(u["id"]), "org.remove_member"),
    "demote_org_owner": ("owner", lambda u: f"{u['id']}/org:owner", "org.update_member"),
    "revoke_sso_authorization": (
        "credential",
        lambda c: f"credential-authorization:{c['credential_id']}",
        "org_credential_authorization.revoke",
    ),
}


def _run(server, truth, lake, action: str, reference: str, token: str, *, dry_run: bool, **governance: Any):
    request = GovernanceRequest(
        app="github",
        instance=TENANT,
        action=action,
        targets=(reference,),
        requested_by="tests",
        requested_at=datetime.now(UTC),
        run_id=f"{action}-{datetime.now(UTC):%H%M%S%f}",
        dry_run=dry_run,
    )
    rows = act(instance(**governance), request, lake, connection=connection(server, truth, token))
    assert len(rows) == 1
    return rows[0]


def _in_lake(lake: Lake, action: str, reference: str) -> bool:
    """Whether the newest snapshot still shows what the action removes."""
    if action == "demote_org_owner":
        table = lake.read_snapshot("privileges", "github", TENANT)
        return reference.split("/")[0] in set(table.column("account_id").to_pylist())
    if action == "revoke_sso_authorization":
        table = lake.read_snapshot("app_permissions", "github", TENANT)
        return reference in set(table.column("grant_id").to_pylist())
    table = lake.read_snapshot("accounts", "github", TENANT)
    if action == "convert_to_outside_collaborator":  # still a member (not yet an external account)
        return _account(lake, reference)["account_type"] == "member"
    return reference in set(table.column("account_id").to_pylist())


def _account(lake: Lake, account_id: str) -> dict[str, Any]:
    rows = lake.read_snapshot("accounts", "github", TENANT).to_pylist()
    return next(r for r in rows if r["account_id"] == account_id)


def _activities(lake: Lake) -> list[dict[str, Any]]:
    directory = lake.instance_dir("activities", "github", TENANT)
    return (
        ds.dataset(directory, format="parquet", partitioning=None)
        .to_table(columns=["action", "actor_login", "target_id", "raw"])
        .to_pylist()
    )


@pytest.mark.parametrize("action", sorted(CASES))
def test_engine_dry_run_apply_rescan_and_again(server, truth, tokens, targets, lake, action):
    pool, reference_of, event = CASES[action]
    entry = targets[pool][-1]
    reference = reference_of(entry)
    token = tokens["actions"]["token"]
    allow = {"allow_admin_targets": True} if pool == "owner" else {}
    assert _in_lake(lake, action, reference)

    before = len(_writes(server))
    row = _run(server, truth, lake, action, reference, token, dry_run=True, **allow)
    assert row["result"] == "planned", (row["detail"], row["provider_error"])
    assert len(_writes(server)) == before, "a dry run sent a change"

    row = _run(server, truth, lake, action, reference, token, dry_run=False, **allow)
    assert row["result"] == "applied" and row["verified"], row
    assert len(_writes(server)) == before + 1

    # before the next scan: the lake still names the target
    again = len(_writes(server))
    row = _run(server, truth, lake, action, reference, token, dry_run=False, **allow)
    assert row["result"] == "already-applied", row
    assert len(_writes(server)) == again

    sync(server, truth, tokens, lake)
    assert not _in_lake(lake, action, reference)
    if action == "convert_to_outside_collaborator":
        account = _account(lake, reference)
        assert (account["account_type"], account["provider_status"]) == ("external", "outside_collaborator"), account
    events = [e for e in _activities(lake) if e["action"] == event and e["actor_login"] == tokens["actions"]["login"]]
    subject = str(entry.get("id") or entry["login"])
    assert any(subject in (e["target_id"] or "") or subject in (e["raw"] or "") for e in events), events


def test_engine_protects_owners_unless_allowed(server, truth, tokens, targets, lake):
    owner = targets["owner"][1]
    row = _run(server, truth, lake, "remove_org_member", str(owner["id"]), tokens["actions"]["token"], dry_run=False)
    assert row["result"] == "refused", row


@pytest.mark.parametrize("action", sorted(CASES))
def test_engine_denied_without_permission(server, truth, tokens, targets, lake, action):
    pool, reference_of, _ = CASES[action]
    reference = reference_of(targets[pool][1 if pool != "owner" else 2])
    allow = {"allow_admin_targets": True} if pool == "owner" else {}
    before = len(_writes(server))
    row = _run(server, truth, lake, action, reference, tokens["reduced"]["token"], dry_run=False, **allow)
    assert row["result"] == "denied", row
    assert "scope" in (row["provider_error"] or row["detail"] or ""), row
    assert len(_writes(server)) == before + 1  # the provider refused the one change sent


# What to delete behind saaslens' back so the target is gone. Demoting: the owner's account (an owner
# demoted by someone else is already in the wanted state, test_engine_privilege_forgotten_is_already_applied).
FORGET = {
    "remove_org_member": ("account", lambda ref: ref),
    "remove_outside_collaborator": ("account", lambda ref: ref),
    "convert_to_outside_collaborator": ("account", lambda ref: ref),
    "demote_org_owner": ("account", lambda ref: ref.split("/")[0]),
    "revoke_sso_authorization": ("app_grant", lambda ref: ref),
}


@pytest.mark.parametrize("action", sorted(CASES))
def test_engine_not_found_after_forget(server, truth, tokens, targets, lake, action):
    pool, reference_of, _ = CASES[action]
    reference = reference_of(targets[pool][2 if pool != "owner" else 3])
    allow = {"allow_admin_targets": True} if pool == "owner" else {}
    kind, object_id = FORGET[action]
    _forget(server, kind, object_id(reference))
    row = _run(server, truth, lake, action, reference, tokens["actions"]["token"], dry_run=False, **allow)
    assert row["result"] == "not-found", row


def test_engine_privilege_forgotten_is_already_applied(server, truth, tokens, targets, lake):
    owner = targets["owner"][4]
    _forget(server, "privilege", f"{owner['id']}/org:owner")
    before = len(_writes(server))
    row = _run(
        server, truth, lake, "demote_org_owner", f"{owner['id']}/org:owner", tokens["actions"]["token"],
        dry_run=False, allow_admin_targets=True,
    )  # fmt: skip
    assert row["result"] == "already-applied", row
    assert len(_writes(server)) == before
