"""Microsoft 365 file governance through the governance engine, against the sandbox: delete_file (to the
recycle bin), restrict_to_owner, quarantine_file and apply_sensitivity_label each dry-run without a
change, apply and verify, show in the next files scan, leave SharePoint's unified-audit record for the
next activities scan, answer a second run with already-applied and, where reversible, are undone by
their undo plan. A metered-API refusal is recorded as denied with Graph's code; an unset option fails
naming it."""

from __future__ import annotations

import copy
import json
from contextlib import closing
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pyarrow.parquet as pq
import pytest

from saaslens.config import InstanceConfig
from saaslens.connections import ConnectionInfo
from saaslens.connectors import registry
from saaslens.connectors.kit import Target, send_plan
from saaslens.connectors.microsoft365 import Microsoft365Connector
from saaslens.lake.writer import Lake, snapshot_id_for
from saaslens.runner import RunContext, run_stage
from saaslens.vocabulary import Remedy, TargetKind
from saaslens_sandbox.core import SandboxServer, TenantSpec

pytestmark = pytest.mark.integration
governance = pytest.importorskip("saaslens.governance")

APP = "microsoft365"
TENANT, NO_BILLING = "contoso", "litware"
ANCHOR = (datetime.now(UTC) - timedelta(minutes=10)).replace(microsecond=0)
BASE_OPTIONS = {
    "max_workers": 2,
    "retry_initial_backoff_seconds": 0.05,
    "activities_lag_seconds": 0,
    "sharepoint_audit": True,
}


@pytest.fixture(scope="module")
def server():
    common = {"anchor": ANCHOR.isoformat(), "events": 100}
    specs = [
        TenantSpec(app=APP, name=TENANT, seed=91, users=80, options={**common, "metered_billing": True}),
        TenantSpec(app=APP, name=NO_BILLING, seed=92, users=30, options=common),
    ]
    with SandboxServer(specs) as running:
        yield running


def truth(server: SandboxServer, tenant: str = TENANT) -> dict[str, Any]:
    return server.personality(APP, tenant).ground_truth()


_INITIAL: dict[str, dict[str, Any]] = {}


def initial(server: SandboxServer, tenant: str = TENANT) -> dict[str, Any]:
    if tenant not in _INITIAL:
        _INITIAL[tenant] = copy.deepcopy(truth(server, tenant))
    return _INITIAL[tenant]


def quarantine(server: SandboxServer) -> tuple[str, str]:
    """A drive with a folder and a file outside it: (drive id, folder id)."""
    t = initial(server)
    for folder in (f for f in t["files"] if "folder" in f["item"]):
        outside = [
            f
            for f in t["files"]
            if f["drive_id"] == folder["drive_id"]
            and "file" in f["item"]
            and f["item"]["parentReference"].get("id") != folder["item"]["id"]
        ]
        if outside:
            return folder["drive_id"], folder["item"]["id"]
    raise AssertionError("the tenant has no drive with a folder and a file outside it")


def label_id(server: SandboxServer, name: str, tenant: str = TENANT) -> str:
    return next(label["id"] for label in initial(server, tenant)["sensitivity_labels"] if label["name"] == name)


def options(server: SandboxServer, tenant: str = TENANT, **extra: Any) -> dict[str, Any]:
    found = dict(BASE_OPTIONS)
    if tenant == TENANT:
        drive, folder = quarantine(server)
        found |= {
            "quarantine_drive_id": drive,
            "quarantine_folder_id": folder,
            "sensitivity_label_id": label_id(server, "Highly Confidential"),
        }
    return {**found, **extra}


def connection(server: SandboxServer, tenant: str = TENANT, which: str = "actions") -> ConnectionInfo:
    creds = truth(server, tenant)["credentials"]
    client = creds["actions"] if which == "actions" else creds["clients"][0]
    extra = {
        "tenant_id": creds["tenant_id"],
        "client_id": client["client_id"],
        "client_secret": client["client_secret"],
        "token_url": creds["token_url"],
    }
    return ConnectionInfo(f"m365_{tenant}_{which}", "http", server.tenant_url(APP, tenant), extra=extra)


def instance(server: SandboxServer, tenant: str = TENANT, **extra: Any) -> InstanceConfig:
    return InstanceConfig(
        app=APP,
        name=tenant,
        conn_id=f"m365_{tenant}_scan",
        actions_conn_id=f"m365_{tenant}_actions",
        options=options(server, tenant, **extra),
        governance={"require_approval": False},
    )


def scan(server: SandboxServer, lake: Lake, stages: list[str], tenant: str = TENANT) -> None:
    moment = datetime.now(UTC)
    ctx = RunContext(run_id=f"test-{moment:%H%M%S%f}", snapshot_id=snapshot_id_for(moment))
    for stage in stages:
        result = run_stage(instance(server, tenant), stage, ctx, lake, connection=connection(server, tenant, "scan"))
        assert result.status == "success", (stage, result)


def rows(lake: Lake, table: str, tenant: str = TENANT) -> list[dict[str, Any]]:
    directory = lake.root / table / f"app={APP}" / f"instance={tenant}"
    if not directory.exists():
        directory = next(lake.root.glob(f"**/{table}/**/instance={tenant}"), directory)
    return [row for f in sorted(directory.rglob("*.parquet")) for row in pq.read_table(f).to_pylist()]


def latest(lake: Lake, table: str, tenant: str = TENANT) -> list[dict[str, Any]]:
    found = rows(lake, table, tenant)
    newest = max((r["snapshot_id"] for r in found), default=None)
    return [r for r in found if r["snapshot_id"] == newest]


@pytest.fixture(scope="module")
def lake(server, tmp_path_factory):
    lake = Lake(tmp_path_factory.mktemp("m365-file-actions-lake"))
    scan(server, lake, ["authenticate", "users", "files"])
    scan(server, lake, ["authenticate", "users", "files"], NO_BILLING)
    return lake


def requests_seen(server: SandboxServer) -> list[dict[str, Any]]:
    origin = server.tenant_url(APP, TENANT).split(f"/{APP}/")[0]
    return httpx.get(f"{origin}/_sandbox/requests").json()


def changes_since(server: SandboxServer, mark: int) -> list[str]:
    return [
        f"{r['method']} {r['raw_path']}"
        for r in requests_seen(server)[mark:]
        if r["method"] not in ("GET",)
        and "/_sandbox/" not in r["raw_path"]
        and "/oauth2/" not in r["raw_path"]
        and not r["raw_path"].endswith("/extractSensitivityLabels")  # a read, sent as POST
    ]


def run(server, lake, name: str, file_id: str, *, dry_run: bool, tenant: str = TENANT, **extra: Any) -> dict:
    request = governance.GovernanceRequest(
        app=APP,
        instance=tenant,
        action=name,
        targets=(f"file_id={file_id}",),
        requested_by="tests",
        requested_at=datetime.now(UTC),
        run_id=f"{name}-{datetime.now(UTC):%H%M%S%f}",
        dry_run=dry_run,
    )
    (row,) = governance.act(instance(server, tenant, **extra), request, lake, connection=connection(server, tenant))
    return row


def action(name: str) -> Any:
    return next(a for a in registry.app_spec(APP).actions if a.name == name)


def target(lake: Lake, file_id: str) -> Target:
    row = next(r for r in latest(lake, "files") if r["file_id"] == file_id)
    return Target(TargetKind.FILE, {"file_id": file_id}, row["name"], row)


def audit_events(lake: Lake, server: SandboxServer, operation: str, name: str) -> list[dict[str, Any]]:
    client_id = truth(server)["credentials"]["actions"]["client_id"]
    return [
        r
        for r in rows(lake, "activities")
        if r["category"] == "file"
        and r["action"] == operation
        and r["actor_id"] == client_id
        and r["target_name"] == name
    ]


def engine_cycle(server, lake, name: str, file_id: str) -> dict[str, Any]:
    """Dry run (nothing sent), apply (sent, verified), second apply (already-applied, nothing sent)."""
    mark = len(requests_seen(server))
    planned = run(server, lake, name, file_id, dry_run=True)
    assert planned["result"] == "planned", planned
    assert changes_since(server, mark) == []

    mark = len(requests_seen(server))
    applied = run(server, lake, name, file_id, dry_run=False)
    assert applied["result"] == "applied" and applied["verified"], applied
    assert changes_since(server, mark)

    mark = len(requests_seen(server))
    second = run(server, lake, name, file_id, dry_run=False)
    assert second["result"] == "already-applied", second
    assert changes_since(server, mark) == []
    return applied


# -- choosing files from the ground truth ---------------------------------------------------------------


def ordinary_files(server: SandboxServer, *, drive: str | None = None) -> list[dict[str, Any]]:
    specials = set(server.personality(APP, TENANT).tenant.contents.special)
    return [
        f
        for f in initial(server)["files"]
        if "file" in f["item"] and f["item"]["id"] not in specials and (drive is None or f["drive_id"] == drive)
    ]


def shared(f: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        p
        for p in f["permissions"]
        if "owner" not in p["roles"] and "siteGroup" not in (p.get("grantedToV2") or {}) and not p.get("inheritedFrom")
    ]


def test_every_file_action_is_built_with_its_remedy():
    built = {a.name: a for a in registry.app_spec(APP).actions if a.target is TargetKind.FILE and a.implemented}
    assert {n: a.remedies for n, a in built.items()} == {
        "delete_file": (Remedy.TRASH_FILE,),
        "restrict_to_owner": (Remedy.RESTRICT_TO_OWNER,),
        "quarantine_file": (Remedy.QUARANTINE_FILE,),
        "apply_sensitivity_label": (Remedy.APPLY_SENSITIVITY_LABEL,),
    }
    assert {n for n, a in built.items() if a.reversible} == {
        "restrict_to_owner",
        "quarantine_file",
        "apply_sensitivity_label",
    }


def test_delete_file_moves_it_to_the_recycle_bin(server, lake):
    f = ordinary_files(server)[0]
    item = f["item"]
    engine_cycle(server, lake, "delete_file", item["id"])
    scan(server, lake, ["files", "activities"])
    assert item["id"] not in {r["file_id"] for r in latest(lake, "files")}
    assert item["id"] in {r["item"]["id"] for r in truth(server)["recycle_bin"]}
    assert len(audit_events(lake, server, "FileRecycled", item["name"])) == 1


def test_restrict_to_owner_removes_every_sharing_and_its_undo_shares_again(server, lake):
    f = next(f for f in ordinary_files(server)[1:] if any(p.get("link") for p in shared(f)))
    item = f["item"]
    before = shared(f)
    visibility = target(lake, item["id"]).row["visibility"]
    assert visibility in ("public", "internal", "external")
    with closing(Microsoft365Connector(options(server), connection(server))) as c:
        undo = action("restrict_to_owner").plan(c, target(lake, item["id"])).undo
    assert undo is not None and undo.requests
    engine_cycle(server, lake, "restrict_to_owner", item["id"])
    scan(server, lake, ["files", "activities"])
    left = {s["share_id"] for s in latest(lake, "file_shares") if s["file_id"] == item["id"]}
    assert left.isdisjoint({p["id"] for p in before})
    assert next(r for r in latest(lake, "files") if r["file_id"] == item["id"])["visibility"] == "private"
    removed_ops = {
        "anonymous": "AnonymousLinkRemoved",
        "organization": "CompanyLinkRemoved",
        "users": "SecureLinkDeleted",
    }
    for permission in before:
        operation = removed_ops.get((permission.get("link") or {}).get("scope"), "SharingRevoked")
        assert audit_events(lake, server, operation, item["name"]), operation

    with closing(Microsoft365Connector(options(server), connection(server))) as c:
        outcome = send_plan(c.client, undo, idempotent=False)
    assert outcome.applied and "HTTP 2" in outcome.detail
    scan(server, lake, ["files"])
    after = next(f for f in truth(server)["files"] if f["item"]["id"] == item["id"])["permissions"]
    scopes = {p["link"]["scope"] for p in before if p.get("link")} - {"users"}
    assert scopes <= {p["link"]["scope"] for p in after if p.get("link")}
    emails = {_email(p) for p in before if not p.get("link")}
    assert emails <= {_email(p) for p in after}
    # New links, new URLs: none of the removed permissions is back as it was.
    assert {p["id"] for p in after}.isdisjoint({p["id"] for p in before if p.get("link")})
    assert next(r for r in latest(lake, "files") if r["file_id"] == item["id"])["visibility"] == visibility


def _email(permission: dict[str, Any]) -> str:
    return str(((permission.get("grantedToV2") or {}).get("user") or {}).get("email")).lower()


def test_quarantine_moves_the_file_leaves_a_notice_and_its_undo_releases_it(server, lake):
    drive, folder = quarantine(server)
    f = next(f for f in ordinary_files(server, drive=drive) if f["item"]["parentReference"].get("id") != folder)
    item = f["item"]
    original_parent = item["parentReference"]["id"]
    with closing(Microsoft365Connector(options(server), connection(server))) as c:
        undo = action("quarantine_file").plan(c, target(lake, item["id"])).undo
    assert undo is not None
    engine_cycle(server, lake, "quarantine_file", item["id"])
    scan(server, lake, ["files", "activities"])
    row = next(r for r in latest(lake, "files") if r["file_id"] == item["id"])
    assert json.loads(row["raw"])["parentReference"]["id"] == folder
    notices = [r for r in latest(lake, "files") if r["name"] == f"{item['name']} - QUARANTINED.txt"]
    assert len(notices) == 1
    assert json.loads(notices[0]["raw"])["parentReference"]["id"] == original_parent
    assert audit_events(lake, server, "FileMoved", item["name"])
    assert audit_events(lake, server, "FileUploaded", notices[0]["name"])
    # The notice is listed content like any file: the ground truth knows it holds nothing sensitive.
    assert truth(server)["dlp"]["matches"][notices[0]["file_id"]] == {}

    with closing(Microsoft365Connector(options(server), connection(server))) as c:
        assert send_plan(c.client, undo, idempotent=False).applied
    scan(server, lake, ["files"])
    row = next(r for r in latest(lake, "files") if r["file_id"] == item["id"])
    assert json.loads(row["raw"])["parentReference"]["id"] == original_parent
    assert not [r for r in latest(lake, "files") if r["name"] == notices[0]["name"]]


def test_a_file_outside_the_quarantine_drive_is_refused_and_an_unset_option_is_named(server, lake):
    drive, _ = quarantine(server)
    elsewhere = next(f for f in ordinary_files(server) if f["drive_id"] != drive)["item"]["id"]
    refused = run(server, lake, "quarantine_file", elsewhere, dry_run=True)
    assert refused["result"] == "failed" and "moves items only within a drive" in str(refused), refused
    unset = run(server, lake, "quarantine_file", elsewhere, dry_run=True, quarantine_folder_id=None)
    assert unset["result"] == "failed" and "quarantine_folder_id" in str(unset), unset


def test_apply_sensitivity_label_and_its_undo_restore_the_previous_label(server, lake):
    wanted = label_id(server, "Highly Confidential")
    general = label_id(server, "General")
    f = next(
        f
        for f in ordinary_files(server)
        if f["sensitivity_label_id"] == general and f["item"]["name"].endswith((".docx", ".xlsx", ".pptx", ".pdf"))
    )
    item = f["item"]
    with closing(Microsoft365Connector(options(server), connection(server))) as c:
        plan = action("apply_sensitivity_label").plan(c, target(lake, item["id"]))
    assert plan.before["sensitivity_label_id"] == general and plan.undo is not None
    engine_cycle(server, lake, "apply_sensitivity_label", item["id"])
    scan(server, lake, ["files", "activities"])
    row = next(r for r in latest(lake, "files") if r["file_id"] == item["id"])
    assert (row["sensitivity_label_id"], row["sensitivity_label"]) == (wanted, "Highly Confidential")
    assert row["content_version"] != item["cTag"]  # SharePoint rewrote the file with its label
    assert len(audit_events(lake, server, "FileSensitivityLabelChanged", item["name"])) == 1

    with closing(Microsoft365Connector(options(server), connection(server))) as c:
        assert send_plan(c.client, plan.undo, idempotent=True, parse_json=False).applied
    scan(server, lake, ["files"])
    row = next(r for r in latest(lake, "files") if r["file_id"] == item["id"])
    assert row["sensitivity_label_id"] == general


def test_the_metered_label_api_without_billing_is_denied_with_graphs_code(server, lake):
    t = initial(server, NO_BILLING)
    f = next(f for f in t["files"] if f["item"]["name"].endswith((".docx", ".xlsx", ".pptx", ".pdf")))
    denied = run(
        server,
        lake,
        "apply_sensitivity_label",
        f["item"]["id"],
        dry_run=False,
        tenant=NO_BILLING,
        sensitivity_label_id=label_id(server, "Confidential", NO_BILLING),
    )
    assert denied["result"] == "denied", denied
    assert "paymentRequired" in (denied["provider_error"] or "")
    unset = run(server, lake, "apply_sensitivity_label", f["item"]["id"], dry_run=True, tenant=NO_BILLING)
    assert unset["result"] == "failed" and "sensitivity_label_id" in str(unset), unset
