"""Google Workspace governance actions against the sandbox: first plan/apply/verify directly, then
through the governance engine (dry run, apply, the next scan and its audit event, a second apply,
denial, a target gone at Google)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from saaslens.config import InstanceConfig
from saaslens.connections import ConnectionInfo
from saaslens.connectors import registry
from saaslens.connectors.google_workspace import GoogleWorkspaceConnector
from saaslens.connectors.kit import Target
from saaslens.governance import Approval, GovernanceRequest, act
from saaslens.http import NotFoundError, PermissionDeniedError
from saaslens.lake.writer import Lake, snapshot_id_for
from saaslens.runner import RunContext, run_stage
from saaslens.vocabulary import TargetKind
from saaslens_sandbox.core import SandboxServer, TenantSpec

pytestmark = pytest.mark.integration

APP = "google_workspace"
TENANT = "initech"
S = "https://www.googleapis.com/auth/"
ANCHOR = (datetime.now(UTC) - timedelta(minutes=10)).replace(microsecond=0)
NO_DELAY = dict.fromkeys(("login", "admin", "token", "drive"), 0)
OPTIONS = {"max_workers": 2, "retry_initial_backoff_seconds": 0.05, "activities_lag_seconds": 0}
SCAN_STAGES = ["users", "privileges", "app_permissions", "files"]


@pytest.fixture(scope="module")
def server():
    options = {"anchor": ANCHOR.isoformat(), "report_delays": NO_DELAY, "events": 200, "files_per_user": 3.0}
    spec = TenantSpec(app=APP, name=TENANT, seed=61, users=120, options=options)
    with SandboxServer([spec]) as running:
        yield running


def truth(server: SandboxServer, tenant: str = TENANT) -> dict[str, Any]:
    return server.personality(APP, tenant).ground_truth()


def connection(server: SandboxServer, account: str, tenant: str = TENANT) -> ConnectionInfo:
    """`actions`: the service account delegated the write scopes; `scanner` scans; `auditor` holds
    read-only scopes only."""
    creds = truth(server, tenant)["credentials"]
    key_file = creds["service_accounts"][account]["key_file"]
    return ConnectionInfo(
        conn_id=f"gws_{tenant}_{account}",
        conn_type="google_workspace",
        host=server.tenant_url(APP, tenant),
        password=json.dumps(key_file),
        extra={"subject": creds["subject"]},
    )


def connector(server: SandboxServer, account: str = "actions") -> GoogleWorkspaceConnector:
    return GoogleWorkspaceConnector(OPTIONS, connection(server, account))


def action(name: str) -> Any:
    return next(a for a in registry.app_spec(APP).actions if a.name == name)


# -- choosing targets from the ground truth ------------------------------------------------------


def plain_users(t: dict[str, Any], *, suspended: bool = False) -> list[dict[str, Any]]:
    return [
        u
        for u in t["users"]
        if not u["isAdmin"] and u["suspended"] is suspended and not u["archived"] and not u["changePasswordAtNextLogin"]
    ]


def grants(t: dict[str, Any]) -> list[tuple[str, str]]:
    return [(user_id, item["clientId"]) for user_id, items in sorted(t["tokens"].items()) for item in items]


def shares(t: dict[str, Any], kind: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(file, permission) pairs the admin can reach: link shares ('anyone'), and shares with a user
    of the domain (whom the plan can act as to find the owner)."""
    domain = t["domains"][0]
    admin_id = next(u["id"] for u in t["users"] if u["primaryEmail"] == t["admin_email"])
    out = []
    for item in t["files"]:
        if item["owner_user_id"] == admin_id or item["trashed"]:
            continue
        for p in item["permissions"]:
            if p["role"] == "owner" or p["type"] != kind:
                continue
            if kind == "user" and not p["emailAddress"].endswith("@" + domain):
                continue
            out.append((item, p))
    return out


def user_by_id(t: dict[str, Any], user_id: str) -> dict[str, Any]:
    return next(u for u in t["users"] if u["id"] == user_id)


# -- what the sandbox saw ------------------------------------------------------------------------


def requests_seen(server: SandboxServer) -> list[dict[str, Any]]:
    base = server.tenant_url(APP, TENANT).split(f"/{APP}/")[0]
    return list(httpx.get(f"{base}/_sandbox/requests").json())


def changes_since(server: SandboxServer, mark: int) -> list[str]:
    """Non-GET requests to the tenant's APIs after `mark` entries of the request log (the token
    endpoint's POST is how a service account signs in, not a change)."""
    return [
        f"{r['method']} {r['raw_path']}"
        for r in requests_seen(server)[mark:]
        if r["method"] != "GET" and "/_sandbox/" not in r["raw_path"] and not r["raw_path"].endswith("/token")
    ]


def forget(server: SandboxServer, kind: str, object_id: str) -> None:
    base = server.tenant_url(APP, TENANT).split(f"/{APP}/")[0]
    response = httpx.post(f"{base}/_sandbox/{APP}/{TENANT}/forget", json={"kind": kind, "id": object_id})
    assert response.status_code == 200, response.text


def admin_events(server: SandboxServer, application: str, name: str) -> list[dict[str, Any]]:
    return [a for a in truth(server)["activities"][application] if any(e["name"] == name for e in a["events"])]


# -- direct: plan, apply, verify -------------------------------------------------------------------


def test_suspend_then_unsuspend_directly(server: SandboxServer) -> None:
    t = truth(server)
    user = plain_users(t)[0]
    target = Target(TargetKind.ACCOUNT, {"account_id": user["id"]}, user["primaryEmail"])
    gws = connector(server)
    try:
        plan = action("suspend_user").plan(gws, target)
        assert not plan.noop and plan.protected is None
        assert plan.before["suspended"] is False and plan.before["primaryEmail"] == user["primaryEmail"]
        assert [(r.method, r.path, dict(r.body or {})) for r in plan.requests] == [
            ("PUT", f"admin/directory/v1/users/{user['id']}", {"suspended": True})
        ]
        assert plan.undo is not None and dict(plan.undo.requests[0].body or {}) == {"suspended": False}
        outcome = action("suspend_user").apply(gws, plan)
        assert outcome.applied and "HTTP 200" in outcome.detail
        verification = action("suspend_user").verify(gws, outcome)
        assert verification.holds and verification.after["suspended"] is True
        assert verification.audit_event_id is not None  # no lag on this tenant: the SUSPEND_USER event
        assert user_by_id(truth(server), user["id"])["suspended"] is True
        assert action("suspend_user").plan(gws, target).noop  # in place: nothing to send
        back = action("unsuspend_user").plan(gws, target)
        assert not back.noop
        assert action("unsuspend_user").verify(gws, action("unsuspend_user").apply(gws, back)).holds
        assert user_by_id(truth(server), user["id"])["suspended"] is False
    finally:
        gws.close()
    events = admin_events(server, "admin", "SUSPEND_USER") + admin_events(server, "admin", "UNSUSPEND_USER")
    ours = [a for a in events if a["events"][0]["parameters"][0]["value"] == user["primaryEmail"]]
    assert {a["events"][0]["name"] for a in ours} == {"SUSPEND_USER", "UNSUSPEND_USER"}
    assert {a["actor"]["email"] for a in ours} == {t["admin_email"]}


def test_a_super_admin_is_protected_and_the_acting_admin_is_known(server: SandboxServer) -> None:
    t = truth(server)
    admin = next(u for u in t["users"] if u["primaryEmail"] == t["admin_email"])
    gws = connector(server)
    try:
        acting = gws.acting_account()
        assert acting is not None and acting.account_id == admin["id"] and acting.login == t["admin_email"]
        plan = action("suspend_user").plan(gws, Target(TargetKind.ACCOUNT, {"account_id": admin["id"]}))
        assert plan.protected and "super admin" in plan.protected
        super_role = next(r["roleId"] for r in t["roles"] if r["isSuperAdminRole"])
        mine = next(a for a in t["role_assignments"] if a["assignedTo"] == admin["id"] and a["roleId"] == super_role)
        keys = {"account_id": admin["id"], "privilege_id": mine["roleAssignmentId"]}
        plan = action("remove_admin_role_assignment").plan(gws, Target(TargetKind.PRIVILEGE, keys))
        assert plan.protected and "super admin role" in plan.protected
        by_group = next(a for a in t["role_assignments"] if a["assigneeType"] == "group")
        keys = {"account_id": "someone", "privilege_id": by_group["roleAssignmentId"]}
        plan = action("remove_admin_role_assignment").plan(gws, Target(TargetKind.PRIVILEGE, keys))
        assert plan.protected and "every member" in plan.protected
    finally:
        gws.close()


def test_authenticate_lists_the_delegated_action_scopes(server: SandboxServer) -> None:
    writer, reader = connector(server, "actions"), connector(server, "auditor")
    try:
        held = writer.authenticate()
        assert held.permissions_complete
        assert {a.permission for a in registry.app_spec(APP).actions} <= set(held.permissions)
        lacking = reader.authenticate()
        assert not {S + "admin.directory.user", S + "drive", S + "admin.directory.user.security"} & set(
            lacking.permissions
        )
    finally:
        writer.close()
        reader.close()


def test_delete_token_and_remove_share_directly(server: SandboxServer) -> None:
    t = truth(server)
    user_id, client_id = grants(t)[0]
    grant = Target(TargetKind.APP_GRANT, {"grant_id": f"{user_id}:{client_id}"})
    file_item, permission = shares(t, "user")[0]
    owner = user_by_id(t, file_item["owner_user_id"])
    share = Target(
        TargetKind.FILE_SHARE,
        {"file_id": file_item["id"], "share_id": permission["id"]},
        row={"principal_type": "user", "principal_email": permission["emailAddress"]},
    )
    gws = connector(server)
    try:
        plan = action("delete_oauth_token").plan(gws, grant)
        assert plan.before["client_id"] == client_id and plan.requests[0].method == "DELETE"
        verification = action("delete_oauth_token").verify(gws, action("delete_oauth_token").apply(gws, plan))
        assert verification.holds and verification.audit_event_id is not None
        assert client_id not in {i["clientId"] for i in truth(server)["tokens"].get(user_id, [])}
        with pytest.raises(NotFoundError):  # gone now: the engine calls that already-applied after its own run
            action("delete_oauth_token").plan(gws, grant)

        plan = action("remove_drive_permission").plan(gws, share)
        # Found through the share's internal principal, and sent as the file's owner.
        assert plan.before["acting_as"] == owner["primaryEmail"]
        assert plan.before["permission"]["role"] == permission["role"]
        assert plan.requests[0].path.endswith(f"/permissions/{permission['id']}?supportsAllDrives=true")
        assert plan.undo is not None and plan.undo.requests[0].method == "POST"
        verification = action("remove_drive_permission").verify(gws, action("remove_drive_permission").apply(gws, plan))
        assert verification.holds and verification.after["permission"] is None
        after = next(f for f in truth(server)["files"] if f["id"] == file_item["id"])
        assert permission["id"] not in {p["id"] for p in after["permissions"]}
    finally:
        gws.close()
    drive = admin_events(server, "drive", "change_user_access")
    ours = [a for a in drive if any(p.get("value") == file_item["id"] for p in a["events"][0]["parameters"])]
    assert ours and ours[-1]["actor"]["email"] == owner["primaryEmail"]


def test_a_credential_without_the_scope_is_denied_before_anything_is_sent(server: SandboxServer) -> None:
    t = truth(server)
    user = plain_users(t)[-1]
    mark = len(requests_seen(server))
    gws = connector(server, "auditor")
    try:
        with pytest.raises(PermissionDeniedError) as denied:
            action("suspend_user").plan(gws, Target(TargetKind.ACCOUNT, {"account_id": user["id"]}))
    finally:
        gws.close()
    assert denied.value.provider_code == "unauthorized_client"
    assert changes_since(server, mark) == []


def test_the_audit_event_appears_after_googles_lag() -> None:
    """Admin log events surface minutes after the change (https://support.google.com/a/answer/7061566):
    verify holds at once, the SUSPEND_USER event is found only once the lag has passed."""
    spec = TenantSpec(
        app=APP,
        name="lagged",
        seed=62,
        users=30,
        options={"anchor": ANCHOR.isoformat(), "report_delays": {"admin": 120}},
    )
    with SandboxServer([spec]) as lagged:
        user = plain_users(truth(lagged, "lagged"))[0]
        gws = GoogleWorkspaceConnector(OPTIONS, connection(lagged, "actions", "lagged"))
        try:
            suspend = action("suspend_user")
            outcome = suspend.apply(gws, suspend.plan(gws, Target(TargetKind.ACCOUNT, {"account_id": user["id"]})))
            early = suspend.verify(gws, outcome)
            assert early.holds and early.audit_event_id is None
            lagged.personality(APP, "lagged").advance_clock(121)
            assert suspend.verify(gws, outcome).audit_event_id is not None
        finally:
            gws.close()


# -- through the governance engine -----------------------------------------------------------------


@pytest.fixture(scope="module")
def lake(server: SandboxServer, tmp_path_factory: pytest.TempPathFactory) -> Lake:
    lake = Lake(tmp_path_factory.mktemp("gws-actions-lake"))
    scan(server, lake, ["authenticate", *SCAN_STAGES, "activities"])
    return lake


def instance(**governance: Any) -> InstanceConfig:
    return InstanceConfig(
        app=APP,
        name=TENANT,
        conn_id=f"gws_{TENANT}_scanner",
        actions_conn_id=f"gws_{TENANT}_actions",
        options=OPTIONS,
        governance={"require_approval": True, **governance},
    )


def scan(server: SandboxServer, lake: Lake, stages: list[str]) -> None:
    moment = datetime.now(UTC)
    ctx = RunContext(run_id=f"scan-{moment:%H%M%S%f}", snapshot_id=snapshot_id_for(moment))
    conn = connection(server, "scanner")
    for stage in stages:
        result = run_stage(instance(), stage, ctx, lake, connection=conn)
        assert result.status == "success", (stage, result)


def run(
    server: SandboxServer, lake: Lake, name: str, reference: str, *, dry_run: bool, account: str = "actions"
) -> dict[str, Any]:
    now = datetime.now(UTC)
    request = GovernanceRequest(
        app=APP,
        instance=TENANT,
        action=name,
        targets=(reference,),
        requested_by="tests",
        requested_at=now,
        run_id=f"run-{name}-{now:%H%M%S%f}",
        dry_run=dry_run,
        reason="e2e",
    )
    approval = None if dry_run else Approval(approved=True, by="approver@tests", at=now)
    rows = act(instance(), request, lake, connection=connection(server, account), approval=approval)
    assert len(rows) == 1
    return rows[0]


@dataclass(frozen=True)
class Case:
    action: str
    reference: str  # the target as an admin names it
    gone: str  # another target of the same kind, deleted at Google behind saaslens' back
    forget: tuple[str, str]  # how the sandbox deletes it: (kind, id)
    applied: Any  # truth -> bool: the change is in the tenant
    scanned: Any  # lake -> bool: the next scan shows it
    event: tuple[str, str, str]  # (application, event name, a parameter value naming the target)
    actor: str  # whose account the audit event names
    stage: str = "users"  # the snapshot stage whose next scan shows the change


def _account(lake: Lake, account_id: str) -> dict[str, Any]:
    rows = lake.read_snapshot("accounts", APP, TENANT).to_pylist()
    return next(r for r in rows if r["account_id"] == account_id)


def _pairs(lake: Lake, table: str, keys: tuple[str, ...]) -> set[tuple[Any, ...]]:
    return {tuple(r[k] for k in keys) for r in lake.read_snapshot(table, APP, TENANT).to_pylist()}


@pytest.fixture(scope="module")
def engine_cases(server: SandboxServer) -> dict[str, Case]:
    """Distinct targets for every action, chosen once, after the direct tests changed theirs."""
    t = truth(server)
    admin = t["admin_email"]
    users = plain_users(t)
    s_user, p_user, o_user, *spare = users[1:8]
    suspended = plain_users(t, suspended=True)
    holders = [g for g in grants(t) if g[0] not in {u["id"] for u in users[:8]}]
    (g_user, g_client), (gone_user, gone_client) = holders[0], next(g for g in holders if g[0] != holders[0][0])
    links = shares(t, "anyone")
    (link_file, link), (gone_file, gone_link) = links[0], next(x for x in links if x[0]["id"] != links[0][0]["id"])
    email = {u["id"]: u["primaryEmail"] for u in t["users"]}
    super_role = next(r["roleId"] for r in t["roles"] if r["isSuperAdminRole"])
    role_name = {r["roleId"]: r["roleName"] for r in t["roles"]}
    direct = [a for a in t["role_assignments"] if a["assigneeType"] == "user" and a["roleId"] != super_role]
    assignment, gone_assignment = direct[0], direct[1]
    return {
        "remove_admin_role_assignment": Case(
            "remove_admin_role_assignment",
            f"{assignment['assignedTo']}/{assignment['roleAssignmentId']}",
            f"{gone_assignment['assignedTo']}/{gone_assignment['roleAssignmentId']}",
            ("privilege", gone_assignment["roleAssignmentId"]),
            lambda tr: assignment["roleAssignmentId"] not in {a["roleAssignmentId"] for a in tr["role_assignments"]},
            lambda lake: (
                (assignment["assignedTo"], assignment["roleAssignmentId"])
                not in _pairs(lake, "privileges", ("account_id", "privilege_id"))
            ),
            ("admin", "UNASSIGN_ROLE", role_name[assignment["roleId"]]),
            admin,
            "privileges",
        ),
        "suspend_user": Case(
            "suspend_user",
            s_user["primaryEmail"],
            spare[0]["id"],
            ("account", spare[0]["id"]),
            lambda tr: user_by_id(tr, s_user["id"])["suspended"],
            lambda lake: _account(lake, s_user["id"])["status"] == "suspended",
            ("admin", "SUSPEND_USER", s_user["primaryEmail"]),
            admin,
        ),
        "unsuspend_user": Case(
            "unsuspend_user",
            suspended[0]["id"],
            suspended[1]["id"],
            ("account", suspended[1]["id"]),
            lambda tr: not user_by_id(tr, suspended[0]["id"])["suspended"],
            lambda lake: _account(lake, suspended[0]["id"])["status"] == "active",
            ("admin", "UNSUSPEND_USER", suspended[0]["primaryEmail"]),
            admin,
        ),
        "force_password_change": Case(
            "force_password_change",
            p_user["id"],
            spare[1]["id"],
            ("account", spare[1]["id"]),
            lambda tr: user_by_id(tr, p_user["id"])["changePasswordAtNextLogin"],
            lambda lake: json.loads(_account(lake, p_user["id"])["raw"])["changePasswordAtNextLogin"] is True,
            ("admin", "CHANGE_PASSWORD_ON_NEXT_LOGIN", p_user["primaryEmail"]),
            admin,
        ),
        "sign_out_user": Case(
            "sign_out_user",
            o_user["id"],
            spare[2]["id"],
            ("account", spare[2]["id"]),
            # The Directory API shows no sessions: the audit event is the trace a sign-out leaves.
            lambda tr: any(
                a["events"][0]["parameters"][0]["value"] == o_user["primaryEmail"]
                for a in tr["activities"]["admin"]
                if a["events"][0]["name"] == "RESET_SIGNIN_COOKIES"
            ),
            lambda lake: _account(lake, o_user["id"])["status"] == "active",
            ("admin", "RESET_SIGNIN_COOKIES", o_user["primaryEmail"]),
            admin,
        ),
        "delete_oauth_token": Case(
            "delete_oauth_token",
            f"{g_user}:{g_client}",
            f"{gone_user}:{gone_client}",
            ("app_grant", f"{gone_user}/{gone_client}"),
            lambda tr: g_client not in {i["clientId"] for i in tr["tokens"].get(g_user, [])},
            lambda lake: (f"{g_user}:{g_client}",) not in _pairs(lake, "app_permissions", ("grant_id",)),
            ("admin", "REVOKE_3LO_TOKEN", email[g_user]),
            admin,
            "app_permissions",
        ),
        "remove_drive_permission": Case(
            "remove_drive_permission",
            f"{link_file['id']}/{link['id']}",
            f"{gone_file['id']}/{gone_link['id']}",
            ("file_share", f"{gone_file['id']}/{gone_link['id']}"),
            lambda tr: (
                link["id"] not in {p["id"] for f in tr["files"] if f["id"] == link_file["id"] for p in f["permissions"]}
            ),
            lambda lake: (link_file["id"], link["id"]) not in _pairs(lake, "file_shares", ("file_id", "share_id")),
            ("drive", "change_document_access_scope", link_file["id"]),
            user_by_id(t, link_file["owner_user_id"])["primaryEmail"],
            "files",
        ),
    }


ACTIONS = [
    "remove_admin_role_assignment",
    "suspend_user",
    "unsuspend_user",
    "force_password_change",
    "sign_out_user",
    "delete_oauth_token",
    "remove_drive_permission",
]


def _event_seen(lake: Lake, case: Case) -> list[dict[str, Any]]:
    application, name, value = case.event
    rows = lake.read_events("activities", APP, TENANT).to_pylist()
    return [
        r
        for r in rows
        if r["action"] == f"{application}.{name}" and value in (r["raw"] or "") and r["actor_login"] == case.actor
    ]


@pytest.mark.parametrize("name", ACTIONS)
def test_the_engine_plans_applies_and_the_next_scan_sees_it(
    server: SandboxServer, lake: Lake, engine_cases: dict[str, Case], name: str
) -> None:
    case = engine_cases[name]
    mark = len(requests_seen(server))
    dry = run(server, lake, name, case.reference, dry_run=True)
    assert dry["result"] == "planned", dry
    assert changes_since(server, mark) == []
    assert not case.applied(truth(server)) or name == "sign_out_user"

    applied = run(server, lake, name, case.reference, dry_run=False)
    assert applied["result"] == "applied", applied
    assert applied["verified"] is True
    assert len(changes_since(server, mark)) == 1
    assert case.applied(truth(server))

    # Again, while the lake still lists the target: nothing to send. (After the next scan a removed
    # grant or share is no longer a target saaslens knows.)
    if name != "sign_out_user":  # a sign-out has no state to find in place: it is sent again
        mark = len(requests_seen(server))
        again = run(server, lake, name, case.reference, dry_run=False)
        assert again["result"] == "already-applied", again
        assert changes_since(server, mark) == []

    scan(server, lake, [case.stage, "activities"])
    assert case.scanned(lake)
    assert _event_seen(lake, case), f"no {case.event[1]} event by {case.actor} in the lake"


@pytest.mark.parametrize("name", ACTIONS)
def test_the_engine_records_denied_and_not_found(
    server: SandboxServer, lake: Lake, engine_cases: dict[str, Case], name: str
) -> None:
    case = engine_cases[name]
    mark = len(requests_seen(server))
    denied = run(server, lake, name, case.gone, dry_run=False, account="auditor")
    assert denied["result"] == "denied", denied
    assert denied["provider_error"].split()[0] == "unauthorized_client"
    assert changes_since(server, mark) == []

    forget(server, *case.forget)
    gone = run(server, lake, name, case.gone, dry_run=False)
    assert gone["result"] == "not-found", gone
    assert changes_since(server, mark) == []
