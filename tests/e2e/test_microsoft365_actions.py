"""Microsoft 365 governance actions against the sandbox: first plan/apply/verify directly, then through
the governance engine (dry run, apply, the next scan, a second apply, denial, a target gone)."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pyarrow.parquet as pq
import pytest

from saaslens.config import InstanceConfig
from saaslens.connections import ConnectionInfo
from saaslens.connectors import registry
from saaslens.connectors.kit import Target
from saaslens.connectors.microsoft365 import Microsoft365Connector
from saaslens.http import NotFoundError, PermissionDeniedError
from saaslens.lake.writer import Lake, snapshot_id_for
from saaslens.runner import RunContext, run_stage
from saaslens.vocabulary import TargetKind
from saaslens_sandbox.core import SandboxServer, TenantSpec

pytestmark = pytest.mark.integration

APP = "microsoft365"
TENANT = "northwind"
STAGES = ["authenticate", "users", "privileges", "app_permissions", "files"]
ANCHOR = (datetime.now(UTC) - timedelta(minutes=10)).replace(microsecond=0)
# sharepoint_audit: the scans read the unified audit log too, where SharePoint records a removed share.
OPTIONS = {
    "max_workers": 2,
    "retry_initial_backoff_seconds": 0.05,
    "activities_lag_seconds": 0,
    "sharepoint_audit": True,
}


@pytest.fixture(scope="module")
def server():
    spec = TenantSpec(app=APP, name=TENANT, seed=41, users=400, options={"anchor": ANCHOR.isoformat()})
    with SandboxServer([spec]) as running:
        yield running


def truth(server: SandboxServer) -> dict[str, Any]:
    return server.personality(APP, TENANT).ground_truth()


def connection(server: SandboxServer, which: str) -> ConnectionInfo:
    """`actions`: the client with write permissions; `scan`: the read-only scan client."""
    creds = truth(server)["credentials"]
    client = creds["actions"] if which == "actions" else creds["clients"][0]
    extra = {
        "tenant_id": creds["tenant_id"],
        "client_id": client["client_id"],
        "client_secret": client["client_secret"],
        "token_url": creds["token_url"],
    }
    return ConnectionInfo(f"m365_{TENANT}_{which}", "http", server.tenant_url(APP, TENANT), extra=extra)


def connector(server: SandboxServer, which: str = "actions") -> Microsoft365Connector:
    return Microsoft365Connector(OPTIONS, connection(server, which))


def action(name: str) -> Any:
    return next(a for a in registry.app_spec(APP).actions if a.name == name)


# -- choosing targets from the ground truth ------------------------------------------------------


def plain_users(t: dict[str, Any]) -> list[dict[str, Any]]:
    """Enabled members holding no directory role: targets no guard rail refuses."""
    admins = set(t["admin_user_ids"])
    return [u for u in t["users"] if u["accountEnabled"] and u["userType"] == "Member" and u["id"] not in admins]


def third_party_assignments(t: dict[str, Any]) -> list[dict[str, Any]]:
    ours = {c["client_id"] for c in t["credentials"]["clients"]}
    own_sps = {sp["id"] for sp in t["service_principals"] if sp["appId"] in ours}
    return [a for a in t["app_role_assignments"] if a["principalId"] not in own_sps]


def direct_role_members(t: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        m
        for m in t["directory_role_members"]
        if m["member_type"] == "user" and m["role_name"] not in ("Global Administrator",)
    ]


def removable_shares(t: dict[str, Any]) -> list[tuple[str, str]]:
    """Shares in SharePoint site libraries: a OneDrive leaves the scan with its owner when another
    test deletes that user."""
    libraries = {d["id"] for d in t["drives"] if d["driveType"] == "documentLibrary"}
    return [
        (f["item"]["id"], p["id"])
        for f in t["files"]
        if f["drive_id"] in libraries
        for p in f["permissions"]
        if "owner" not in p["roles"] and not p.get("inheritedFrom")
    ]


def sp_of_app(t: dict[str, Any], sp_id: str) -> str:
    return next(sp["appId"] for sp in t["service_principals"] if sp["id"] == sp_id)


# -- what the sandbox saw ------------------------------------------------------------------------


def requests_seen(server: SandboxServer) -> list[dict[str, Any]]:
    base = server.tenant_url(APP, TENANT).split(f"/{APP}/")[0]
    return httpx.get(f"{base}/_sandbox/requests").json()


def changes_since(server: SandboxServer, mark: int) -> list[str]:
    """Non-GET requests to the tenant's Graph API after `mark` entries of the request log (the
    token endpoint's POST is how a client signs in, not a change)."""
    return [
        f"{r['method']} {r['raw_path']}"
        for r in requests_seen(server)[mark:]
        if r["method"] != "GET" and "/_sandbox/" not in r["raw_path"] and "/oauth2/" not in r["raw_path"]
    ]


def forget(server: SandboxServer, kind: str, object_id: str) -> None:
    base = server.tenant_url(APP, TENANT).split(f"/{APP}/")[0]
    answer = httpx.post(f"{base}/_sandbox/{APP}/{TENANT}/forget", json={"kind": kind, "id": object_id})
    assert answer.status_code == 200, answer.text


def audits_by(t: dict[str, Any], activity: str, sp_id: str) -> list[dict[str, Any]]:
    return [
        a
        for a in t["directory_audits"]
        if a["activityDisplayName"] == activity
        and ((a["initiatedBy"] or {}).get("app") or {}).get("servicePrincipalId") == sp_id
    ]


class _closing:
    def __init__(self, c: Microsoft365Connector) -> None:
        self.c = c

    def __enter__(self) -> Microsoft365Connector:
        return self.c

    def __exit__(self, *exc: object) -> None:
        self.c.close()


# -- authenticate --------------------------------------------------------------------------------


def test_authenticate_names_each_action_permission_only_for_the_actions_client(server):
    implemented = {a.permission for a in registry.app_spec(APP).actions if a.implemented}
    with _closing(connector(server)) as acting:
        report = acting.authenticate()
        assert acting.acting_account() is None  # an app-only token acts as no user
    assert report.permissions_complete
    assert implemented <= set(report.permissions)
    with _closing(connector(server, "scan")) as scanning:
        scan_report = scanning.authenticate()
    assert scan_report.permissions_complete
    assert not implemented & set(scan_report.permissions)


# -- plan / apply / verify directly --------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    action: str
    kind: TargetKind
    audit: str | None  # the directoryAudit activity Entra records, None where it records none there
    pick: Any  # (truth, index) -> (keys, row)


def _user_case(t: dict[str, Any], k: int) -> tuple[dict[str, str], dict[str, Any]]:
    user = plain_users(t)[k]
    return {"account_id": user["id"]}, {"account_id": user["id"], "login": user["userPrincipalName"]}


def _delegated_case(t: dict[str, Any], k: int) -> tuple[dict[str, str], dict[str, Any]]:
    grant = [g for g in t["oauth2_permission_grants"] if g["principalId"]][k]
    return {"grant_id": grant["id"]}, {"grant_id": grant["id"], "client_id": sp_of_app(t, grant["clientId"])}


def _app_role_case(t: dict[str, Any], k: int) -> tuple[dict[str, str], dict[str, Any]]:
    assignment = third_party_assignments(t)[k]
    return {"grant_id": assignment["id"]}, {
        "grant_id": assignment["id"],
        "client_id": sp_of_app(t, assignment["principalId"]),
    }


def _role_case(t: dict[str, Any], k: int) -> tuple[dict[str, str], dict[str, Any]]:
    member = direct_role_members(t)[k]
    keys = {"account_id": member["member_id"], "privilege_id": member["role_id"]}
    return keys, dict(keys)


def _share_case(t: dict[str, Any], k: int) -> tuple[dict[str, str], dict[str, Any]]:
    file_id, share_id = removable_shares(t)[k]
    return {"file_id": file_id, "share_id": share_id}, {"file_id": file_id, "share_id": share_id}


CASES = {
    "block_sign_in": Case("block_sign_in", TargetKind.ACCOUNT, "Disable account", _user_case),
    "revoke_sign_in_sessions": Case("revoke_sign_in_sessions", TargetKind.SESSION, "Update user", _user_case),
    "force_password_change": Case("force_password_change", TargetKind.ACCOUNT, "Update user", _user_case),
    "revoke_delegated_grant": Case(
        "revoke_delegated_grant", TargetKind.APP_GRANT, "Remove delegated permission grant", _delegated_case
    ),
    "revoke_app_role_assignment": Case(
        "revoke_app_role_assignment",
        TargetKind.APP_GRANT,
        "Remove app role assignment from service principal",
        _app_role_case,
    ),
    "remove_role_member": Case("remove_role_member", TargetKind.PRIVILEGE, "Remove member from role", _role_case),
    "remove_file_share": Case("remove_file_share", TargetKind.FILE_SHARE, None, _share_case),
}
# Each test takes its own targets, so the module's tests never share one: index base per test.
DIRECT, DENIED, GONE, ENGINE, ENGINE_DENIED, ENGINE_GONE = range(6)


_INITIAL: dict[int, dict[str, Any]] = {}
# The user actions draw from one pool of users: each its own stretch of it.
USER_OFFSET = {"block_sign_in": 0, "revoke_sign_in_sessions": 10, "force_password_change": 20, "unblock": 30}


def target_for(server: SandboxServer, case: Case, slot: int) -> Target:
    """The `slot`-th candidate of the tenant as generated (not as earlier tests left it), so every
    test of the module has targets no other test touches."""
    if id(server) not in _INITIAL:  # a copy: the truth's permission lists are the tenant's own, changed by actions
        _INITIAL[id(server)] = copy.deepcopy(truth(server))
    initial = _INITIAL[id(server)]
    keys, row = case.pick(initial, slot + USER_OFFSET.get(case.action, 0))
    return Target(case.kind, keys, row.get("login", ""), row)


@pytest.mark.parametrize("name", sorted(CASES))
def test_plan_apply_verify_against_the_sandbox(server, name):
    case = CASES[name]
    act = action(name)
    target = target_for(server, case, DIRECT)
    sp_id = truth(server)["credentials"]["actions"]["service_principal_id"]
    audits_before = len(audits_by(truth(server), case.audit, sp_id)) if case.audit else 0
    with _closing(connector(server)) as c:
        mark = len(requests_seen(server))
        plan = act.plan(c, target)
        assert changes_since(server, mark) == []  # planning only reads
        assert not plan.noop and plan.requests
        # Most directory roles are privileged: removing one is a protected change the engine asks for.
        assert (plan.protected is None) is (name != "remove_role_member" or "Reader" in str(plan.before["role"]))
        outcome = act.apply(c, plan)
        assert outcome.applied and ": HTTP 2" in outcome.detail and "secret" not in outcome.detail
        sent = changes_since(server, mark)
        assert [s.split(" ")[0] for s in sent] == [r.method for r in plan.requests]
        verification = act.verify(c, outcome)
        assert verification.holds, verification.detail
        if name in ("block_sign_in", "force_password_change"):
            assert act.plan(c, target).noop  # the change is in place: a second run sends nothing
        elif name != "revoke_sign_in_sessions":
            with pytest.raises(NotFoundError):  # what was removed is gone
                act.plan(c, target)
    if case.audit:
        assert len(audits_by(truth(server), case.audit, sp_id)) == audits_before + 1


def test_block_then_unblock_restores_the_account(server):
    target = target_for(server, CASES["block_sign_in"], USER_OFFSET["unblock"])
    user_id = target.keys["account_id"]
    with _closing(connector(server)) as c:
        blocked = action("block_sign_in").apply(c, action("block_sign_in").plan(c, target))
        assert action("block_sign_in").verify(c, blocked).holds
        undo = blocked.plan.undo
        assert undo is not None and undo.requests[0].body == {"accountEnabled": True}
        plan = action("unblock_sign_in").plan(c, target)
        assert action("unblock_sign_in").verify(c, action("unblock_sign_in").apply(c, plan)).holds
    user = next(u for u in truth(server)["users"] if u["id"] == user_id)
    assert user["accountEnabled"] is True


def test_a_global_administrator_is_a_protected_target(server):
    t = truth(server)
    admin = next(
        m
        for m in t["directory_role_members"]
        if m["role_name"] == "Global Administrator" and m["member_type"] == "user"
    )
    target = Target(TargetKind.ACCOUNT, {"account_id": admin["member_id"]})
    with _closing(connector(server)) as c:
        plan = action("block_sign_in").plan(c, target)
        assert plan.protected and "Global Administrator" in plan.protected
        # Graph itself refuses an app holding no privileged role (user-update.md, sensitive actions).
        with pytest.raises(PermissionDeniedError) as denied:
            action("block_sign_in").apply(c, plan)
    assert denied.value.provider_code == "Authorization_RequestDenied"


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_scan_credential_is_denied_with_graphs_code(server, name):
    case = CASES[name]
    target = target_for(server, case, DENIED)
    with _closing(connector(server, "scan")) as c:
        plan = action(name).plan(c, target)  # reading is allowed
        with pytest.raises(PermissionDeniedError) as denied:
            action(name).apply(c, plan)
    expected = "accessDenied" if case.kind is TargetKind.FILE_SHARE else "Authorization_RequestDenied"
    assert denied.value.provider_code == expected


FORGET = {
    TargetKind.ACCOUNT: lambda k: ("account", k["account_id"]),
    TargetKind.SESSION: lambda k: ("account", k["account_id"]),
    TargetKind.APP_GRANT: lambda k: ("app_grant", k["grant_id"]),
    TargetKind.PRIVILEGE: lambda k: ("privilege", f"{k['privilege_id']}/{k['account_id']}"),
    TargetKind.FILE_SHARE: lambda k: ("file_share", f"{k['file_id']}/{k['share_id']}"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_target_gone_at_the_provider_is_not_found(server, name):
    case = CASES[name]
    target = target_for(server, case, GONE)
    forget(server, *FORGET[case.kind](target.keys))
    with _closing(connector(server)) as c, pytest.raises(NotFoundError):
        action(name).plan(c, target)


# -- through the governance engine ---------------------------------------------------------------


governance = pytest.importorskip("saaslens.governance")


def instance(**governance_settings: Any) -> InstanceConfig:
    return InstanceConfig(
        app=APP,
        name=TENANT,
        conn_id=f"m365_{TENANT}_scan",
        actions_conn_id=f"m365_{TENANT}_actions",
        options=OPTIONS,
        governance={"require_approval": False, **governance_settings},
    )


def scan(server: SandboxServer, lake: Lake, stages: list[str]) -> None:
    moment = datetime.now(UTC)
    ctx = RunContext(run_id=f"test-{moment:%H%M%S%f}", snapshot_id=snapshot_id_for(moment))
    for stage in stages:
        result = run_stage(instance(), stage, ctx, lake, connection=connection(server, "scan"))
        assert result.status == "success", (stage, result)


def rows(lake: Lake, table: str) -> list[dict[str, Any]]:
    directory = lake.root / table / f"app={APP}" / f"instance={TENANT}"
    if not directory.exists():
        directory = next(lake.root.glob(f"**/{table}/**/instance={TENANT}"), directory)
    files = sorted(directory.rglob("*.parquet"))
    return [row for f in files for row in pq.read_table(f).to_pylist()]


def latest(lake: Lake, table: str) -> list[dict[str, Any]]:
    found = rows(lake, table)
    newest = max((r["snapshot_id"] for r in found), default=None)
    return [r for r in found if r["snapshot_id"] == newest]


@pytest.fixture(scope="module")
def lake(server, tmp_path_factory):
    lake = Lake(tmp_path_factory.mktemp("m365-actions-lake"))
    scan(server, lake, STAGES)
    return lake


def reference(target: Target) -> str:
    return "&".join(f"{k}={v}" for k, v in target.keys.items())


def run(server, lake, name: str, target: Target, *, dry_run: bool, which: str = "actions", **settings: Any):
    request = governance.GovernanceRequest(
        app=APP,
        instance=TENANT,
        action=name,
        targets=(reference(target),),
        requested_by="tests",
        requested_at=datetime.now(UTC),
        run_id=f"{name}-{datetime.now(UTC):%H%M%S%f}",
        dry_run=dry_run,
    )
    if name == "remove_role_member":  # most directory roles are privileged: the instance opts in
        settings.setdefault("allow_admin_targets", True)
    (row,) = governance.act(instance(**settings), request, lake, connection=connection(server, which))
    return row


def lake_shows(lake: Lake, case: Case, keys: dict[str, str]) -> bool:
    """Whether the newest snapshot still shows the state the action removes."""
    if case.kind in (TargetKind.ACCOUNT, TargetKind.SESSION):
        account = next(r for r in latest(lake, "accounts") if r["account_id"] == keys["account_id"])
        return account["status"] == "active"
    if case.kind is TargetKind.APP_GRANT:
        return any(r["grant_id"] == keys["grant_id"] for r in latest(lake, "app_permissions"))
    if case.kind is TargetKind.PRIVILEGE:
        return any(
            r["account_id"] == keys["account_id"] and r["privilege_id"] == keys["privilege_id"]
            for r in latest(lake, "privileges")
        )
    return any(
        r["file_id"] == keys["file_id"] and r["share_id"] == keys["share_id"] for r in latest(lake, "file_shares")
    )


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_engine_dry_runs_applies_and_the_next_scan_sees_it(server, lake, name):
    case = CASES[name]
    target = target_for(server, case, ENGINE)
    sp_id = truth(server)["credentials"]["actions"]["service_principal_id"]

    mark = len(requests_seen(server))
    planned = run(server, lake, name, target, dry_run=True)
    assert planned["result"] == "planned", planned
    assert changes_since(server, mark) == []

    mark = len(requests_seen(server))
    applied = run(server, lake, name, target, dry_run=False)
    assert applied["result"] == "applied" and applied["verified"], applied
    assert changes_since(server, mark)

    mark = len(requests_seen(server))
    second = run(server, lake, name, target, dry_run=False)
    if name == "revoke_sign_in_sessions":
        assert second["result"] == "applied"  # no "already revoked" state: each call moves the cut-off
    else:
        assert second["result"] == "already-applied", second
        assert changes_since(server, mark) == []

    # The next scan shows the change; for the sessions revoke the account stays active (the lake
    # keeps no session state), for the password change too: the activities stream shows both.
    stage = {
        TargetKind.ACCOUNT: "users",
        TargetKind.SESSION: "users",
        TargetKind.APP_GRANT: "app_permissions",
        TargetKind.PRIVILEGE: "privileges",
        TargetKind.FILE_SHARE: "files",
    }[case.kind]
    scan(server, lake, [stage, "activities"])
    if name in (
        "block_sign_in",
        "revoke_delegated_grant",
        "revoke_app_role_assignment",
        "remove_role_member",
        "remove_file_share",
    ):
        assert not lake_shows(lake, case, dict(target.keys))
    if case.audit:
        events = [
            r
            for r in rows(lake, "activities")
            if r["action"] == case.audit and r["actor_id"] == sp_id and r["actor_type"] == "ServicePrincipal"
        ]
        assert events, f"no {case.audit!r} event by the action credentials' service principal in the lake"
    if case.kind is TargetKind.FILE_SHARE:
        # SharePoint writes the removal to the unified audit log (Audit.SharePoint), read through the
        # Management Activity API: the operation for what was removed, the action app as the actor.
        removed = next(
            p for f in _INITIAL[id(server)]["files"] for p in f["permissions"] if p["id"] == target.keys["share_id"]
        )
        item = next(f["item"] for f in _INITIAL[id(server)]["files"] if f["item"]["id"] == target.keys["file_id"])
        scope = (removed.get("link") or {}).get("scope")
        operation = {
            "anonymous": "AnonymousLinkRemoved",
            "organization": "CompanyLinkRemoved",
            "users": "SecureLinkDeleted",
        }
        expected = operation.get(scope, "SharingRevoked")
        client_id = truth(server)["credentials"]["actions"]["client_id"]
        events = [
            r
            for r in rows(lake, "activities")
            if r["category"] == "file" and r["action"] == expected and r["target_id"] == item["webUrl"]
        ]
        assert [(e["actor_id"], e["actor_type"], e["actor_login"]) for e in events] == [
            (client_id, "Application", "saaslens (actions)")
        ], f"no single {expected!r} record of {item['webUrl']} by the action app in the lake"


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_engine_records_denied_and_not_found(server, lake, name):
    case = CASES[name]
    target = target_for(server, case, ENGINE_DENIED)
    denied = run(server, lake, name, target, dry_run=False, which="scan")
    assert denied["result"] == "denied", denied
    expected = "accessDenied" if case.kind is TargetKind.FILE_SHARE else "Authorization_RequestDenied"
    assert expected in (denied["provider_error"] or "")

    gone = target_for(server, case, ENGINE_GONE)
    forget(server, *FORGET[case.kind](gone.keys))
    mark = len(requests_seen(server))
    missing = run(server, lake, name, gone, dry_run=False)
    assert missing["result"] == "not-found", missing
    assert changes_since(server, mark) == []


def test_the_engine_unblocks_what_it_blocked_and_the_next_scan_sees_it(server, lake):
    """unblock_sign_in through the engine: a blocked account (blocked here, then scanned) is
    enabled again, once; the next scan shows it active and the "Enable account" audit event."""
    target = target_for(server, CASES["block_sign_in"], USER_OFFSET["unblock"] + 10)
    sp_id = truth(server)["credentials"]["actions"]["service_principal_id"]
    assert run(server, lake, "block_sign_in", target, dry_run=False)["result"] == "applied"
    scan(server, lake, ["users"])
    assert not lake_shows(lake, CASES["block_sign_in"], dict(target.keys))  # blocked, as scanned

    mark = len(requests_seen(server))
    assert run(server, lake, "unblock_sign_in", target, dry_run=True)["result"] == "planned"
    assert changes_since(server, mark) == []
    applied = run(server, lake, "unblock_sign_in", target, dry_run=False)
    assert applied["result"] == "applied" and applied["verified"], applied
    mark = len(requests_seen(server))
    assert run(server, lake, "unblock_sign_in", target, dry_run=False)["result"] == "already-applied"
    assert changes_since(server, mark) == []

    scan(server, lake, ["users", "activities"])
    assert lake_shows(lake, CASES["block_sign_in"], dict(target.keys))  # active again
    events = [
        r
        for r in rows(lake, "activities")
        if r["action"] == "Enable account" and r["actor_id"] == sp_id and r["target_id"] == target.keys["account_id"]
    ]
    assert events, "no 'Enable account' event by the action credentials' service principal in the lake"
