"""GitHub Enterprise Managed Users against the sandbox: the enterprise audit log stream, and
suspend_managed_user through the governance engine (dry run, apply, the next scans, already-applied,
denied, not-found, protected), acting with the setup user's scim:enterprise token."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pyarrow.dataset as ds
import pytest

from saaslens.config import InstanceConfig
from saaslens.connections import ConnectionInfo
from saaslens.connectors.base import HttpContext
from saaslens.connectors.github.connector import SCIM_WRITE, GitHubConnector
from saaslens.governance import GovernanceRequest, act
from saaslens.lake.writer import Lake, snapshot_id_for
from saaslens.runner import RunContext, run_stage
from saaslens_sandbox.core import RateLimitConfig, SandboxServer, TenantSpec

pytestmark = pytest.mark.integration

TENANT = "emu"
ENTERPRISE = "emu-corp"
ANCHOR = (datetime.now(UTC) - timedelta(minutes=10)).replace(microsecond=0).isoformat()
STAGES = ["authenticate", "users", "activities"]
OPTIONS = {
    "max_workers": 2,
    "retry_initial_backoff_seconds": 0.05,
    "activities_lag_seconds": 0,
    "enterprise": ENTERPRISE,
}
SUSPEND = "suspend_managed_user"


@pytest.fixture(scope="module")
def server():
    spec = TenantSpec(
        app="github",
        name=TENANT,
        seed=43,
        users=120,
        options={"anchor": ANCHOR, "enterprise": ENTERPRISE, "managed_users": True},
        rate_limits=RateLimitConfig(scale=40, window_seconds=1),
    )
    with SandboxServer([spec]) as running:
        yield running


@pytest.fixture(scope="module")
def truth(server) -> dict[str, Any]:
    return server.personality("github", TENANT).ground_truth()


@pytest.fixture(scope="module")
def tokens(truth) -> dict[str, dict[str, Any]]:
    def scoped(scopes: set[str]) -> dict[str, Any]:
        return next(t for t in truth["credentials"]["tokens"] if t["kind"] == "classic" and set(t["scopes"]) == scopes)

    return {
        # an organization and enterprise owner: org listings, both audit logs, SCIM reads
        "scan": scoped({"read:org", "read:audit_log", "admin:enterprise"}),
        "scim": scoped({"scim:enterprise"}),  # the setup user's
        "no_scim": scoped({"admin:org", "read:audit_log"}),  # an organization owner's, no SCIM scope
    }


@pytest.fixture(scope="module")
def targets(truth, tokens) -> list[dict[str, Any]]:
    """Plain members with a SCIM identity, none holding a token; each test takes its own."""
    holders = {t["user_id"] for t in truth["credentials"]["tokens"]}
    identities = {i["user_id"]: i for i in truth["scim_identities"]}
    members = [u for u in truth["users"] if u["role"] == "member" and u["id"] not in holders and u["id"] in identities]
    assert len(members) >= 4
    return members


def connection(server, truth, token: str) -> ConnectionInfo:
    return ConnectionInfo(
        f"github_{TENANT}",
        "http",
        server.tenant_url("github", TENANT),
        password=token,
        extra={"org": truth["org"]["login"]},
    )


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
    for stage in stages:
        result = run_stage(instance(), stage, ctx, lake, connection=conn)
        assert result.status == "success", (stage, result)


@pytest.fixture(scope="module")
def lake(server, truth, tokens, tmp_path_factory) -> Lake:
    lake = Lake(tmp_path_factory.mktemp("github-emu-lake"))
    sync(server, truth, tokens, lake)
    return lake


def _writes(server) -> list[dict[str, Any]]:
    log = httpx.get(f"{server.tenant_url('github', TENANT).rsplit('/github/', 1)[0]}/_sandbox/requests").json()
    return [r for r in log if r["method"] != "GET" and f"/github/{TENANT}/" in r["raw_path"]]


def _run(server, truth, lake, reference: str, token: str, *, dry_run: bool, **governance: Any) -> dict[str, Any]:
    request = GovernanceRequest(
        app="github",
        instance=TENANT,
        action=SUSPEND,
        targets=(reference,),
        requested_by="tests",
        requested_at=datetime.now(UTC),
        run_id=f"{SUSPEND}-{datetime.now(UTC):%H%M%S%f}",
        dry_run=dry_run,
    )
    rows = act(instance(**governance), request, lake, connection=connection(server, truth, token))
    assert len(rows) == 1
    return rows[0]


def _activities(lake: Lake) -> list[dict[str, Any]]:
    directory = lake.instance_dir("activities", "github", TENANT)
    columns = ["event_id", "action", "actor_login", "target_id", "raw"]
    return ds.dataset(directory, format="parquet", partitioning=None).to_table(columns=columns).to_pylist()


def _account(lake: Lake, account_id: str) -> dict[str, Any]:
    rows = lake.read_snapshot("accounts", "github", TENANT).to_pylist()
    return next(r for r in rows if r["account_id"] == account_id)


# -----------------------------------------------------------------------------------------------------


def test_enterprise_stream_equals_ground_truth(server, lake):
    """The scans stored every event of the enterprise audit log (the organization's events, each once
    although both logs list them, and the enterprise's own), and no other."""
    now = server.personality("github", TENANT).ground_truth()
    expected = {e["_document_id"] for e in now["enterprise_audit_events"]}
    stored = [row["event_id"] for row in _activities(lake)]
    assert len(stored) == len(set(stored)), "an event stored twice"
    assert set(stored) == expected
    assert {e["_document_id"] for e in now["audit_events"]} <= expected


def test_authenticate_reports_scim_and_the_enterprise_stream(server, truth, tokens):
    scim = GitHubConnector(OPTIONS, connection(server, truth, tokens["scim"]["token"]), HttpContext())
    scan = GitHubConnector(OPTIONS, connection(server, truth, tokens["scan"]["token"]), HttpContext())
    weak = GitHubConnector(OPTIONS, connection(server, truth, tokens["no_scim"]["token"]), HttpContext())
    try:
        report = scim.authenticate()
        assert report.permissions_complete and SCIM_WRITE in report.permissions, report.permissions
        assert SCIM_WRITE not in scan.authenticate().permissions  # an enterprise owner, not the setup user
        weak_report = weak.authenticate()
        assert weak_report.permissions_complete and SCIM_WRITE not in weak_report.permissions
        activities = scan.authenticate().stages["activities"]
        assert activities.allowed and "enterprise_audit_log: readable" in (activities.reason or "")
        skipped = weak_report.stages["activities"]  # an organization owner only: the enterprise log is refused
        assert skipped.allowed and "enterprise_audit_log: skipped" in (skipped.reason or ""), skipped
    finally:
        for connector in (scim, scan, weak):
            connector.close()


def test_suspend_dry_run_apply_rescan_and_again(server, truth, tokens, targets, lake):
    user = targets[0]
    reference, token = str(user["id"]), tokens["scim"]["token"]
    assert _account(lake, reference)["status"] == "active"

    before = len(_writes(server))
    row = _run(server, truth, lake, reference, token, dry_run=True)
    assert row["result"] == "planned", (row["detail"], row["provider_error"])
    assert len(_writes(server)) == before, "a dry run sent a change"

    row = _run(server, truth, lake, reference, token, dry_run=False)
    assert row["result"] == "applied" and row["verified"], row
    sent = _writes(server)[before:]
    assert [(r["method"], r["raw_path"].split(f"/github/{TENANT}", 1)[1].split("/Users/")[0]) for r in sent] == [
        ("PATCH", f"/scim/v2/enterprises/{ENTERPRISE}")
    ]

    # before the next scan the lake still names the old login, which still finds the identity
    again = len(_writes(server))
    row = _run(server, truth, lake, reference, token, dry_run=False)
    assert row["result"] == "already-applied", row
    assert len(_writes(server)) == again

    sync(server, truth, tokens, lake)
    account = _account(lake, reference)
    assert account["status"] == "suspended" and account["login"] != user["login"], account
    events = [e for e in _activities(lake) if e["action"] in ("user.suspend", "external_identity.deprovision")]
    mine = [e for e in events if f'"user_id":{user["id"]}' in (e["raw"] or "").replace(" ", "")]
    setup = truth["setup_user"]["login"]
    assert sorted(e["action"] for e in mine) == ["external_identity.deprovision", "user.suspend"], events
    assert {e["actor_login"] for e in mine} == {setup} == {tokens["scim"]["login"]}


def test_denied_without_scim_scope(server, truth, tokens, targets, lake):
    before = len(_writes(server))
    row = _run(server, truth, lake, str(targets[1]["id"]), tokens["no_scim"]["token"], dry_run=False)
    assert row["result"] == "denied", row
    assert "scim:enterprise" in (row["provider_error"] or row["detail"] or ""), row
    assert len(_writes(server)) == before  # refused when reading the SCIM identity: nothing sent


def test_forgotten_user_is_not_found(server, truth, tokens, targets, lake):
    user = targets[2]
    base = server.tenant_url("github", TENANT).rsplit("/github/", 1)[0]
    forgot = httpx.post(f"{base}/_sandbox/github/{TENANT}/forget", json={"kind": "account", "id": str(user["id"])})
    assert forgot.status_code == 200, forgot.text
    row = _run(server, truth, lake, str(user["id"]), tokens["scim"]["token"], dry_run=False)
    assert row["result"] == "not-found", row


def test_enterprise_owner_is_protected(server, truth, tokens, lake):
    owner_id = tokens["scan"]["user_id"]  # holds the enterprise_owner role in SCIM
    identity = next(i for i in truth["scim_identities"] if i["user_id"] == owner_id)
    assert "enterprise_owner" in identity["roles"]
    before = len(_writes(server))
    row = _run(server, truth, lake, str(owner_id), tokens["scim"]["token"], dry_run=False)
    assert row["result"] == "refused" and "enterprise owner" in row["detail"], row
    assert len(_writes(server)) == before
