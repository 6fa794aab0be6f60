"""Slack file governance through the governance engine, against the sandbox: delete_file (files.delete)
and revoke_public_link (files.revokePublicURL) - a dry run changes nothing, an apply changes the tenant
and the next files scan shows it, the next activities scan stores the Audit Logs API entry Slack writes
(file_deleted, file_public_link_revoked), a second run is already-applied, and the reversible one is
undone by its undo plan (files.sharedPublicURL). delete_file has no undo: Slack keeps no trash."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import closing
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
from saaslens.lake.writer import Lake, snapshot_id_for
from saaslens.runner import RunContext, StageResult, run_stage
from saaslens.vocabulary import Remedy, TargetKind
from saaslens_sandbox.core import RateLimitConfig, SandboxServer, TenantSpec
from saaslens_sandbox.slack.generator import ACTION_SCOPES, WEB_SCOPES

pytestmark = pytest.mark.integration
TENANT = "filegov"
ANCHOR = (datetime.now(UTC) - timedelta(minutes=10)).replace(microsecond=0)
ACTIONS = {a.name: a for a in APP.actions}
STAGES = ["files", "activities"]
_runs = itertools.count()
TOKENS = {
    "owner": {"token": f"xoxp-sandbox-{TENANT}-owner"},
    "actions": {"token": f"xoxp-sandbox-{TENANT}-actions", "scopes": [*WEB_SCOPES, *ACTION_SCOPES], "acts_as": "admin"},
    # A member (no admin) who may write files: files.delete refuses them another member's file.
    "member": {"token": f"xoxp-sandbox-{TENANT}-member", "scopes": [*WEB_SCOPES, "files:write"], "acts_as": "member"},
}


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    spec = TenantSpec(
        app="slack",
        name=TENANT,
        seed=44,
        users=80,
        options={"anchor": ANCHOR.isoformat(), "files": 60, "tokens": list(TOKENS.values())},
        rate_limits=RateLimitConfig(enabled=False),
    )
    with SandboxServer([spec]) as running:
        yield running


def truth(server: SandboxServer) -> dict[str, Any]:
    return server.personality("slack", TENANT).ground_truth()


def credential(server: SandboxServer, key: str) -> ConnectionInfo:
    url = server.tenant_url("slack", TENANT)
    extra = {"audit_base_url": f"{url}/audit/v1", "scim_base_url": f"{url}/scim/v1"}
    return ConnectionInfo(f"slack_{TENANT}_{key}", "http", url, password=f"xoxp-sandbox-{TENANT}-{key}", extra=extra)


def scan_instance() -> InstanceConfig:
    return InstanceConfig(
        app="slack",
        name=TENANT,
        conn_id=f"slack_{TENANT}",
        options={"retry_initial_backoff_seconds": 0.05, "activities_lag_seconds": 0},
    )


def sync(server: SandboxServer, lake: Lake, stages: list[str]) -> dict[str, StageResult]:
    moment = datetime.now(UTC)
    ctx = RunContext(run_id=f"test-{moment:%H%M%S%f}", snapshot_id=snapshot_id_for(moment))
    conn = credential(server, "owner")
    return {stage: run_stage(scan_instance(), stage, ctx, lake, connection=conn) for stage in stages}


@pytest.fixture(scope="module")
def lake(server: SandboxServer, tmp_path_factory: pytest.TempPathFactory) -> Lake:
    lake = Lake(tmp_path_factory.mktemp("slack-file-actions-lake"))
    results = sync(server, lake, ["authenticate", *STAGES])
    assert {s: r.status for s, r in results.items()} == dict.fromkeys(results, "success")
    return lake


def rows(lake: Lake, table: str) -> list[dict[str, Any]]:
    return lake.read_snapshot(table, "slack", TENANT).to_pylist()


def writes_since(server: SandboxServer, count: int) -> list[dict[str, Any]]:
    log = httpx.get(f"{server.url}/_sandbox/requests").json()
    return [r for r in log[count:] if r["method"] not in ("GET", "HEAD") and f"/slack/{TENANT}/" in r["raw_path"]]


def logged(server: SandboxServer) -> int:
    return len(httpx.get(f"{server.url}/_sandbox/requests").json())


def run(server: SandboxServer, lake: Lake, action: str, reference: str, *, dry_run: bool) -> dict[str, Any]:
    inst = InstanceConfig(
        app="slack",
        name=TENANT,
        conn_id=f"slack_{TENANT}",
        actions_conn_id=f"slack_{TENANT}_actions",
        options=scan_instance().options,
        governance=GovernanceSettings(require_approval=False),
    )
    request = GovernanceRequest(
        app="slack",
        instance=TENANT,
        action=action,
        targets=(reference,),
        requested_by="tests",
        requested_at=datetime.now(UTC),
        run_id=f"slack-file-actions-{next(_runs)}",
        dry_run=dry_run,
    )
    (row,) = act(inst, request, lake, connection=credential(server, "actions"))
    return row


def audit_in_lake(server: SandboxServer, lake: Lake, action: str, file_id: str) -> list[dict[str, Any]]:
    actor = next(c["user_id"] for c in truth(server)["credentials"] if c["token"].endswith("-actions"))
    return [
        e
        for e in lake.read_events("activities", "slack", TENANT).to_pylist()
        if e["action"] == action and e["actor_id"] == actor and e["target_id"] == file_id
    ]


def test_the_file_actions_declare_what_slack_allows():
    delete, revoke = ACTIONS["delete_file"], ACTIONS["revoke_public_link"]
    assert delete.implemented and not delete.reversible and delete.remedies == ()
    assert revoke.implemented and revoke.reversible and revoke.remedies == (Remedy.REMOVE_PUBLIC_LINK,)
    assert delete.docs.endswith("/files.delete") and revoke.docs.endswith("/files.revokePublicURL")
    # Slack's Web API offers no move, restrict-to-owner, label or trash for a file.
    offered = {remedy for action in APP.actions for remedy in action.remedies}
    assert not offered & {Remedy.QUARANTINE_FILE, Remedy.RESTRICT_TO_OWNER, Remedy.TRASH_FILE}
    assert Remedy.APPLY_SENSITIVITY_LABEL not in offered


def test_delete_file_dry_run_apply_rescan_audit_repeat(server, lake):
    listed = {f["id"]: f for f in truth(server)["files"]}
    file_id = next(r["file_id"] for r in rows(lake, "files") if not listed[r["file_id"]]["is_external"])

    count = logged(server)
    planned = run(server, lake, "delete_file", file_id, dry_run=True)
    assert planned["result"] == "planned", planned
    assert writes_since(server, count) == []
    assert file_id in {f["id"] for f in truth(server)["files"]}

    applied = run(server, lake, "delete_file", file_id, dry_run=False)
    assert applied["result"] == "applied" and applied["verified"] is True, applied
    assert file_id not in {f["id"] for f in truth(server)["files"]}

    count = logged(server)
    again = run(server, lake, "delete_file", file_id, dry_run=False)
    assert again["result"] == "already-applied", again
    assert writes_since(server, count) == []

    results = sync(server, lake, STAGES)
    assert {s: r.status for s, r in results.items()} == dict.fromkeys(results, "success")
    assert file_id not in {r["file_id"] for r in rows(lake, "files")}
    assert file_id not in {r["file_id"] for r in rows(lake, "file_shares")}
    assert audit_in_lake(server, lake, "file_deleted", file_id), "no file_deleted entry in the lake"
    # Its content is gone from the file host too.
    url = listed[file_id]["url_private"]
    token = {"Authorization": f"Bearer xoxp-sandbox-{TENANT}-owner"}
    assert httpx.get(url, headers=token).status_code == 404
    # A deleted file plans nothing, and nothing could undo it: Slack has no trash.
    with closing(SlackConnector({}, credential(server, "actions"))) as c:
        plan = ACTIONS["delete_file"].plan(c, Target(TargetKind.FILE, {"file_id": file_id}))
    assert plan.noop and plan.undo is None and plan.before == {"id": file_id, "deleted": True}


def test_delete_file_of_an_unknown_file_is_not_found_and_a_member_may_not_delete_others_files(server, lake):
    listed = {f["id"]: f for f in truth(server)["files"]}
    file_id = [r["file_id"] for r in rows(lake, "files") if not listed[r["file_id"]]["is_external"]][-1]
    origin = server.tenant_url("slack", TENANT).split("/slack/")[0]
    answer = httpx.post(f"{origin}/_sandbox/slack/{TENANT}/forget", json={"kind": "file", "id": file_id})
    assert answer.status_code == 200, answer.text
    missing = run(server, lake, "delete_file", file_id, dry_run=False)
    assert missing["result"] == "not-found", missing
    # files.delete as a member who neither owns the file nor administers: cant_delete_file.
    other = [r["file_id"] for r in rows(lake, "files") if not listed[r["file_id"]]["is_external"]][-2]
    owner = listed[other]["user"]
    member = next(c["user_id"] for c in truth(server)["credentials"] if c["token"] == TOKENS["member"]["token"])
    assert member != owner
    refused = httpx.post(
        f"{server.tenant_url('slack', TENANT)}/files.delete",
        data={"file": other},
        headers={"Authorization": f"Bearer {TOKENS['member']['token']}"},
    )
    assert refused.json() == {"ok": False, "error": "cant_delete_file"}
    assert other in {f["id"] for f in truth(server)["files"]}


def test_revoke_public_link_dry_run_apply_rescan_audit_repeat_undo(server, lake):
    share = next(r for r in rows(lake, "file_shares") if r["share_id"] == "public_url")
    file_id = share["file_id"]
    reference = f"{file_id}/public_url"

    def public() -> bool:
        return next(f["public_url_shared"] for f in truth(server)["files"] if f["id"] == file_id)

    count = logged(server)
    assert run(server, lake, "revoke_public_link", reference, dry_run=True)["result"] == "planned"
    assert writes_since(server, count) == [] and public()

    applied = run(server, lake, "revoke_public_link", reference, dry_run=False)
    assert applied["result"] == "applied" and applied["verified"] is True, applied
    assert not public()
    count = logged(server)
    assert run(server, lake, "revoke_public_link", reference, dry_run=False)["result"] == "already-applied"
    assert writes_since(server, count) == []

    results = sync(server, lake, STAGES)
    assert {s: r.status for s, r in results.items()} == dict.fromkeys(results, "success")
    assert (file_id, "public_url") not in {(r["file_id"], r["share_id"]) for r in rows(lake, "file_shares")}
    assert audit_in_lake(server, lake, "file_public_link_revoked", file_id)

    # The undo plan shares the link again (files.sharedPublicURL), which Slack records as created.
    action = ACTIONS["revoke_public_link"]
    target = Target(TargetKind.FILE_SHARE, {"file_id": file_id, "share_id": "public_url"})
    with closing(SlackConnector({}, credential(server, "actions"))) as c:
        undo = action.plan(c, target).undo
        assert undo is not None and [r.path for r in undo.requests] == ["files.sharedPublicURL"]
        assert action.apply(c, undo).applied
    assert public()
    results = sync(server, lake, STAGES)
    assert {s: r.status for s, r in results.items()} == dict.fromkeys(results, "success")
    assert (file_id, "public_url") in {(r["file_id"], r["share_id"]) for r in rows(lake, "file_shares")}
    assert audit_in_lake(server, lake, "file_public_link_created", file_id)
