"""Dropbox governance actions against the sandbox: suspend and unsuspend through the connector's plan /
apply / verify, then through the governance engine (dry run, apply, already applied, next scan with
the team_log event as proof, denied, not found).

One team is synced once for the module; every test takes targets of its own from it."""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from saaslens.config import GovernanceSettings, InstanceConfig
from saaslens.connections import ConnectionInfo
from saaslens.connectors.dropbox import APP
from saaslens.connectors.dropbox.connector import DropboxConnector
from saaslens.connectors.kit import Target
from saaslens.governance import GovernanceRequest, act
from saaslens.http.errors import ApiError, NotFoundError, PermissionDeniedError
from saaslens.lake.writer import Lake, snapshot_id_for
from saaslens.runner import RunContext, run_stage
from saaslens.vocabulary import TargetKind
from saaslens_sandbox.core import RateLimitConfig, SandboxServer, TenantSpec

pytestmark = pytest.mark.integration
TENANT = "gov"
ANCHOR = (datetime.now(UTC) - timedelta(minutes=10)).replace(microsecond=0)
STATUS_AFTER = {"suspend_user": "suspended", "unsuspend_user": "active"}
ACTIONS = {a.name: a for a in APP.actions}
# Dropbox's RPC reads are POSTs too: a write is any other route.
READS = re.compile(
    r"/2/(team/token/get_authenticated_admin|team/members/(list_v2|list/continue_v2|get_info_v2)"
    r"|team/groups/(list|members/list)(/continue)?|team/linked_apps/list_members_linked_apps"
    r"|team_log/get_events(/continue)?)"
)


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    spec = TenantSpec(
        app="dropbox",
        name=TENANT,
        seed=51,
        users=120,
        options={"anchor": ANCHOR.isoformat()},
        rate_limits=RateLimitConfig(window_seconds=5),
    )
    with SandboxServer([spec]) as running:
        yield running


def truth(server: SandboxServer) -> dict[str, Any]:
    return server.personality("dropbox", TENANT).ground_truth()


def credential(server: SandboxServer, link: str) -> ConnectionInfo:
    credentials = truth(server)["credentials"]
    return ConnectionInfo(
        f"dropbox_{TENANT}_{link}",
        "http",
        server.tenant_url("dropbox", TENANT),
        login=credentials["client_id"],
        password=credentials["client_secret"],
        extra={"refresh_token": credentials["refresh_tokens"][link]["token"]},
    )


def connector(server: SandboxServer, link: str = "actions") -> DropboxConnector:
    return DropboxConnector({"retry_initial_backoff_seconds": 0.05}, credential(server, link))


def scan_instance() -> InstanceConfig:
    # No lag: the event an action writes is scanned by the very next activities run.
    return InstanceConfig(
        app="dropbox",
        name=TENANT,
        conn_id=f"dropbox_{TENANT}",
        options={"retry_initial_backoff_seconds": 0.05, "activities_lag_seconds": 0},
    )


def sync(server: SandboxServer, lake: Lake, stages: list[str]) -> dict[str, Any]:
    moment = datetime.now(UTC)
    ctx = RunContext(run_id=f"dbx-{moment:%H%M%S%f}", snapshot_id=snapshot_id_for(moment))
    conn = credential(server, "scanner")
    return {stage: run_stage(scan_instance(), stage, ctx, lake, connection=conn).status for stage in stages}


@pytest.fixture(scope="module")
def lake(server: SandboxServer, tmp_path_factory: pytest.TempPathFactory) -> Lake:
    lake = Lake(tmp_path_factory.mktemp("dropbox-actions-lake"))
    stages = ["authenticate", "users", "privileges", "activities"]
    assert sync(server, lake, stages) == dict.fromkeys(stages, "success")
    return lake


# -- targets and the sandbox's state ----------------------------------------------------------------

_taken: set[str] = set()


def _accounts(lake: Lake) -> list[dict[str, Any]]:
    return lake.read_snapshot("accounts", "dropbox", TENANT).to_pylist()


def pick(server: SandboxServer, lake: Lake, status: str) -> Target:
    """An unused ordinary (no admin role) member in `status`, never the admin who linked the app."""
    acting = truth(server)["team"]["admin_id"]
    for row in _accounts(lake):
        member = row["account_id"]
        if row["provider_status"] == status and not row["is_admin"] and member != acting and member not in _taken:
            _taken.add(member)
            return Target(TargetKind.ACCOUNT, {"account_id": member}, row=row)
    raise AssertionError(f"the team has no unused {status} member")


def status_of(server: SandboxServer, member_id: str) -> str:
    return next(
        m["profile"]["status"][".tag"] for m in truth(server)["members"] if m["profile"]["team_member_id"] == member_id
    )


def _log(server: SandboxServer) -> list[dict[str, Any]]:
    return httpx.get(f"{server.url}/_sandbox/requests", timeout=30).json()


def logged(server: SandboxServer) -> int:
    return len(_log(server))


def writes_since(server: SandboxServer, count: int) -> list[str]:
    """Routes, below the tenant, of the requests after the first `count` that are not reads."""
    prefix = f"/dropbox/{TENANT}"
    routes = [r["raw_path"][len(prefix) :] for r in _log(server)[count:] if r["raw_path"].startswith(prefix + "/")]
    return [route for route in routes if route != "/oauth2/token" and not READS.fullmatch(route)]


def forget(server: SandboxServer, member_id: str) -> None:
    response = httpx.post(
        f"{server.url}/_sandbox/dropbox/{TENANT}/forget", json={"kind": "account", "id": member_id}, timeout=30
    )
    assert response.status_code == 200, response.text


# -- the connector's functions, directly ---------------------------------------------------------------


@pytest.mark.parametrize(("action", "source"), [("suspend_user", "active"), ("unsuspend_user", "suspended")])
def test_plan_reads_only_apply_changes_verify_reads_back_with_the_audit_event(server, lake, action, source):
    spec = ACTIONS[action]
    assert spec.implemented and spec.plan and spec.apply and spec.verify
    target = pick(server, lake, source)
    member = target.keys["account_id"]
    c = connector(server)
    count = logged(server)
    plan = spec.plan(c, target)
    assert writes_since(server, count) == [], "plan must only read"
    assert status_of(server, member) == source
    assert not plan.noop and plan.protected is None and plan.undo is not None and len(plan.requests) == 1
    outcome = spec.apply(c, plan)
    assert outcome.applied and outcome.applied_at is not None
    route = "/2/team/members/" + ("suspend" if action == "suspend_user" else "unsuspend")
    assert writes_since(server, count) == [route]
    assert status_of(server, member) == STATUS_AFTER[action]
    assert "sandbox-dropbox" not in outcome.detail  # never a credential
    verification = spec.verify(c, outcome)
    assert verification.holds, verification
    assert verification.after["status"] == STATUS_AFTER[action]
    assert verification.audit_event_id, verification.detail
    events = [
        e
        for e in truth(server)["events"]
        if e["event_type"][".tag"] == "member_change_status" and e["context"].get("team_member_id") == member
    ]
    assert [(e["details"]["previous_value"][".tag"], e["details"]["new_value"][".tag"]) for e in events] == [
        (source, STATUS_AFTER[action])
    ]


def test_a_member_already_suspended_plans_a_noop_and_an_invited_one_is_refused_unsent(server, lake):
    spec = ACTIONS["suspend_user"]
    assert spec.plan and spec.apply
    c = connector(server)
    already = pick(server, lake, "suspended")
    count = logged(server)
    plan = spec.plan(c, already)
    assert plan.noop and not spec.apply(c, plan).applied
    invited = pick(server, lake, "invited")
    with pytest.raises(ApiError, match="only active members"):
        spec.plan(c, invited)
    assert writes_since(server, count) == []


def test_suspending_a_suspended_member_is_dropboxs_409(server, lake):
    """team/members/suspend answers 409 suspend_inactive_user for a member not active: the plan's
    no-op check is what keeps a repeat from failing."""
    target = pick(server, lake, "suspended")
    body = {"user": {".tag": "team_member_id", "team_member_id": target.keys["account_id"]}, "wipe_data": False}
    with pytest.raises(ApiError) as raised:
        connector(server).client.request("POST", "2/team/members/suspend", json=body, idempotent=False)
    assert raised.value.status == 409 and raised.value.provider_code == "suspend_inactive_user"


def test_team_admins_are_protected_and_the_acting_account_is_the_linking_admin(server, lake):
    c = connector(server)
    acting = c.acting_account()
    assert acting is not None and acting.account_id == truth(server)["team"]["admin_id"]
    team_admin = next(
        m["profile"]["team_member_id"]
        for m in truth(server)["members"]
        if any(r["name"] == "Team admin" for r in m["roles"])
        and m["profile"]["team_member_id"] != acting.account_id
        and m["profile"]["status"][".tag"] == "active"
    )
    plan = ACTIONS["suspend_user"].plan(c, Target(TargetKind.ACCOUNT, {"account_id": team_admin}))  # type: ignore[misc]
    assert plan.protected and "Team admin" in plan.protected


def test_direct_errors_are_typed_denied_and_not_found(server, lake):
    spec = ACTIONS["suspend_user"]
    assert spec.plan and spec.apply
    with pytest.raises(PermissionDeniedError) as raised:
        c = connector(server, "scanner")  # a link without members.write
        spec.apply(c, spec.plan(c, pick(server, lake, "active")))
    assert raised.value.provider_code == "missing_scope" and "members.write" in str(raised.value)
    gone = pick(server, lake, "active")
    forget(server, gone.keys["account_id"])
    with pytest.raises(NotFoundError):
        spec.plan(connector(server), gone)


# -- through the governance engine ---------------------------------------------------------------------

_runs = itertools.count()


def run(
    server: SandboxServer, lake: Lake, action: str, target: Target, *, dry_run: bool, link: str = "actions"
) -> dict:
    inst = InstanceConfig(
        app="dropbox",
        name=TENANT,
        conn_id=f"dropbox_{TENANT}",
        actions_conn_id=f"dropbox_{TENANT}_{link}",
        options=scan_instance().options,
        governance=GovernanceSettings(require_approval=False),
    )
    request = GovernanceRequest(
        app="dropbox",
        instance=TENANT,
        action=action,
        targets=(target.keys["account_id"],),
        requested_by="tests",
        requested_at=datetime.now(UTC),
        run_id=f"dropbox-actions-{next(_runs)}",
        dry_run=dry_run,
    )
    (row,) = act(inst, request, lake, connection=credential(server, link))
    return row


@pytest.mark.parametrize(("action", "source"), [("suspend_user", "active"), ("unsuspend_user", "suspended")])
def test_engine_dry_run_apply_repeat_rescan_and_the_team_log_event(server, lake, action, source):
    target = pick(server, lake, source)
    member = target.keys["account_id"]

    count = logged(server)
    assert run(server, lake, action, target, dry_run=True)["result"] == "planned"
    assert writes_since(server, count) == []
    assert status_of(server, member) == source

    applied = run(server, lake, action, target, dry_run=False)
    assert applied["result"] == "applied", applied
    assert applied["verified"] is True
    count = logged(server)
    again = run(server, lake, action, target, dry_run=False)
    assert again["result"] == "already-applied", again
    assert writes_since(server, count) == []

    # team_log/get_events takes whole seconds with the end exclusive: the change's second must be over
    # for a window ending now to hold its event (a later window's lookback would read it otherwise).
    time.sleep(1.1)
    assert sync(server, lake, ["users", "activities"]) == {"users": "success", "activities": "success"}
    row = next(r for r in _accounts(lake) if r["account_id"] == member)
    assert row["provider_status"] == STATUS_AFTER[action]
    events = [
        e
        for e in lake.read_events("activities", "dropbox", TENANT).to_pylist()
        if e["action"] == "member_change_status" and e["target_id"] == member
    ]
    assert len(events) == 1 and events[0]["actor_type"] == "app", events


def test_engine_denied_and_not_found(server, lake):
    denied = run(server, lake, "suspend_user", pick(server, lake, "active"), dry_run=False, link="scanner")
    assert denied["result"] == "denied", denied
    assert "missing_scope" in (denied.get("provider_error") or "")
    gone = pick(server, lake, "active")
    forget(server, gone.keys["account_id"])
    missing = run(server, lake, "suspend_user", gone, dry_run=False)
    assert missing["result"] == "not-found", missing
