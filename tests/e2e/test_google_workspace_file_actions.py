"""Google Drive file governance through the governance engine, against the sandbox: trash_file,
restrict_to_owner, quarantine_file and apply_sensitivity_label each dry-run without a change, apply and
verify, show in the next files scan, leave the Drive log's event for the next activities scan (labels
leave none the sandbox could confirm), answer a second run with already-applied and are undone by their
undo plan. An unset option fails naming it; a customer without Drive labels is recorded as denied with
Google's message."""

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
from saaslens.connectors.google_workspace import GoogleWorkspaceConnector
from saaslens.connectors.google_workspace.actions import DRIVE_WRITE_SCOPE, FOLDER_MIME, NOTICE_PATH, NOTICE_PROPERTY
from saaslens.connectors.kit import Target
from saaslens.governance import GovernanceRequest, act
from saaslens.lake.writer import Lake, snapshot_id_for
from saaslens.runner import RunContext, run_stage
from saaslens.vocabulary import Remedy, TargetKind
from saaslens_sandbox.core import SandboxServer, TenantSpec

pytestmark = pytest.mark.integration

APP = "google_workspace"
TENANT, NO_LABELS = "umbrella", "hooli"
ANCHOR = (datetime.now(UTC) - timedelta(minutes=10)).replace(microsecond=0)
NO_DELAY = dict.fromkeys(("login", "admin", "token", "drive"), 0)
BASE_OPTIONS = {"max_workers": 2, "retry_initial_backoff_seconds": 0.05, "activities_lag_seconds": 0}


@pytest.fixture(scope="module")
def server():
    common = {"anchor": ANCHOR.isoformat(), "report_delays": NO_DELAY, "events": 60, "files_per_user": 3.0}
    specs = [
        TenantSpec(app=APP, name=TENANT, seed=81, users=40, options=common),
        TenantSpec(app=APP, name=NO_LABELS, seed=82, users=12, options={**common, "drive_labels": False}),
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


def connection(server: SandboxServer, account: str, tenant: str = TENANT) -> ConnectionInfo:
    creds = truth(server, tenant)["credentials"]
    return ConnectionInfo(
        conn_id=f"gws_{tenant}_{account}",
        conn_type="google_workspace",
        host=server.tenant_url(APP, tenant),
        password=json.dumps(creds["service_accounts"][account]["key_file"]),
        extra={"subject": creds["subject"]},
    )


def classification(server: SandboxServer) -> tuple[str, dict[str, str]]:
    """The badged classification label's id and its choices (name -> id)."""
    label = next(x for x in initial(server)["drive_labels"] if x["fields"])
    choices = label["fields"][0]["selectionOptions"]["choices"]
    return label["id"], {c["properties"]["displayName"]: c["id"] for c in choices}


@pytest.fixture(scope="module")
def quarantine_folder(server: SandboxServer) -> str:
    """The admin's quarantine folder, created once (files.create as the admin, a private folder)."""
    with closing(GoogleWorkspaceConnector(BASE_OPTIONS, connection(server, "actions"))) as c:
        _, folder = c.api("drive", DRIVE_WRITE_SCOPE).request(
            "POST", "drive/v3/files", json={"name": "Quarantine", "mimeType": FOLDER_MIME}, idempotent=False
        )
    return str(folder["id"])


def options(server: SandboxServer, tenant: str = TENANT, **extra: Any) -> dict[str, Any]:
    found = dict(BASE_OPTIONS)
    if tenant == TENANT:
        label, choices = classification(server)
        found |= {"sensitivity_label_id": label, "sensitivity_label_choice_id": choices["Restricted"]}
    return {**found, **extra}


def instance(server: SandboxServer, tenant: str = TENANT, **extra: Any) -> InstanceConfig:
    return InstanceConfig(
        app=APP,
        name=tenant,
        conn_id=f"gws_{tenant}_scanner",
        actions_conn_id=f"gws_{tenant}_actions",
        options=options(server, tenant, **extra),
        governance={"require_approval": False},
    )


def scan(server: SandboxServer, lake: Lake, stages: list[str], tenant: str = TENANT) -> None:
    moment = datetime.now(UTC)
    ctx = RunContext(run_id=f"scan-{moment:%H%M%S%f}", snapshot_id=snapshot_id_for(moment))
    for stage in stages:
        result = run_stage(instance(server, tenant), stage, ctx, lake, connection=connection(server, "scanner", tenant))
        assert result.status == "success", (stage, result)


@pytest.fixture(scope="module")
def lake(server: SandboxServer, tmp_path_factory: pytest.TempPathFactory) -> Lake:
    lake = Lake(tmp_path_factory.mktemp("gws-file-actions-lake"))
    initial(server), initial(server, NO_LABELS)
    scan(server, lake, ["authenticate", "users", "files"])
    scan(server, lake, ["authenticate", "users", "files"], NO_LABELS)
    return lake


def files(lake: Lake, tenant: str = TENANT) -> dict[str, dict[str, Any]]:
    return {r["file_id"]: r for r in lake.read_snapshot("files", APP, tenant).to_pylist()}


def shares_of(lake: Lake, file_id: str) -> set[tuple[str, str, str | None]]:
    rows = lake.read_snapshot("file_shares", APP, TENANT).to_pylist()
    return {(r["principal_type"], r["role"], r["principal_email"]) for r in rows if r["file_id"] == file_id}


def drive_events(lake: Lake, name: str, file_id: str, actor: str) -> list[dict[str, Any]]:
    rows = _activities(lake)
    return [
        r for r in rows if r["action"] == f"drive.{name}" and r["target_id"] == file_id and r["actor_login"] == actor
    ]


def _activities(lake: Lake) -> list[dict[str, Any]]:
    directory = lake.instance_dir("activities", APP, TENANT)
    return [row for f in sorted(directory.rglob("*.parquet")) for row in pq.read_table(f).to_pylist()]


def requests_seen(server: SandboxServer) -> list[dict[str, Any]]:
    base = server.tenant_url(APP, TENANT).split(f"/{APP}/")[0]
    return list(httpx.get(f"{base}/_sandbox/requests").json())


def changes_since(server: SandboxServer, mark: int) -> list[str]:
    """Non-GET requests to the tenants' APIs after `mark` (the token endpoint's POST signs in)."""
    return [
        f"{r['method']} {r['raw_path']}"
        for r in requests_seen(server)[mark:]
        if r["method"] != "GET" and "/_sandbox/" not in r["raw_path"] and not r["raw_path"].endswith("/token")
    ]


def run(server, lake, name: str, file_id: str, *, dry_run: bool, tenant: str = TENANT, **extra: Any) -> dict:
    now = datetime.now(UTC)
    request = GovernanceRequest(
        app=APP,
        instance=tenant,
        action=name,
        targets=(f"file_id={file_id}",),
        requested_by="tests",
        requested_at=now,
        run_id=f"{name}-{now:%H%M%S%f}",
        dry_run=dry_run,
    )
    (row,) = act(instance(server, tenant, **extra), request, lake, connection=connection(server, "actions", tenant))
    return row


def engine_cycle(server, lake, name: str, file_id: str, **extra: Any) -> dict[str, Any]:
    """Dry run (nothing sent), apply (sent, verified), second apply (already-applied, nothing sent)."""
    mark = len(requests_seen(server))
    planned = run(server, lake, name, file_id, dry_run=True, **extra)
    assert planned["result"] == "planned", planned
    assert changes_since(server, mark) == []

    mark = len(requests_seen(server))
    applied = run(server, lake, name, file_id, dry_run=False, **extra)
    assert applied["result"] == "applied" and applied["verified"], applied
    assert changes_since(server, mark)

    mark = len(requests_seen(server))
    second = run(server, lake, name, file_id, dry_run=False, **extra)
    assert second["result"] == "already-applied", second
    assert changes_since(server, mark) == []
    return applied


def action(name: str) -> Any:
    return next(a for a in registry.app_spec(APP).actions if a.name == name)


def target(lake: Lake, file_id: str) -> Target:
    row = files(lake)[file_id]
    return Target(TargetKind.FILE, {"file_id": file_id}, row["name"], row)


def undo(server: SandboxServer, lake: Lake, name: str, file_id: str, **extra: Any) -> Any:
    """The undo plan the action planned before it was applied."""
    with closing(GoogleWorkspaceConnector(options(server, **extra), connection(server, "actions"))) as c:
        plan = action(name).plan(c, target(lake, file_id)).undo
    assert plan is not None
    return plan


def run_undo(server: SandboxServer, name: str, plan: Any) -> None:
    with closing(GoogleWorkspaceConnector(options(server), connection(server, "actions"))) as c:
        outcome = action(name).apply(c, plan)
    assert outcome.applied and "HTTP 2" in outcome.detail, outcome


# -- choosing files from the ground truth -------------------------------------------------------------


def ordinary(server: SandboxServer) -> list[dict[str, Any]]:
    """Files of active, non-admin users, not trashed, not the corpus' specials, not folders."""
    t = initial(server)
    specials = set(server.personality(APP, TENANT).tenant.contents.special)
    plain = {u["id"]: u for u in t["users"] if not u["isAdmin"] and not u["suspended"] and not u["archived"]}
    return [
        f
        for f in t["files"]
        if f["owner_user_id"] in plain and not f["trashed"] and f["id"] not in specials and f["mimeType"] != FOLDER_MIME
    ]


def shared(f: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in f["permissions"] if p["role"] != "owner"]


def owner_email(f: dict[str, Any]) -> str:
    return str(f["owners"][0]["emailAddress"])


_USED: set[str] = set()


def pick(server: SandboxServer, test: Any) -> dict[str, Any]:
    found = next(f for f in ordinary(server) if f["id"] not in _USED and test(f))
    _USED.add(found["id"])
    return found


# -- the tests ------------------------------------------------------------------------------------------


def test_every_file_action_is_built_with_its_remedy():
    built = {a.name: a for a in registry.app_spec(APP).actions if a.target is TargetKind.FILE and a.implemented}
    assert {n: a.remedies for n, a in built.items()} == {
        "trash_file": (Remedy.TRASH_FILE,),
        "restrict_to_owner": (Remedy.RESTRICT_TO_OWNER,),
        "quarantine_file": (Remedy.QUARANTINE_FILE,),
        "apply_sensitivity_label": (Remedy.APPLY_SENSITIVITY_LABEL,),
    }
    assert all(a.reversible for a in built.values())


def test_trash_file_and_its_undo(server, lake):
    f = pick(server, lambda f: True)
    back = undo(server, lake, "trash_file", f["id"])
    engine_cycle(server, lake, "trash_file", f["id"])
    scan(server, lake, ["files", "activities"])
    assert files(lake)[f["id"]]["trashed"] is True
    assert len(drive_events(lake, "trash", f["id"], owner_email(f))) == 1

    run_undo(server, "trash_file", back)
    scan(server, lake, ["files", "activities"])
    assert files(lake)[f["id"]]["trashed"] is False
    assert len(drive_events(lake, "untrash", f["id"], owner_email(f))) == 1


def test_restrict_to_owner_removes_every_share_and_its_undo_gives_them_back(server, lake):
    f = pick(server, lambda f: len(shared(f)) >= 1 and any(p["type"] in ("anyone", "domain") for p in shared(f)))
    before = shares_of(lake, f["id"])
    visibility = files(lake)[f["id"]]["visibility"]
    assert visibility != "private"
    back = undo(server, lake, "restrict_to_owner", f["id"])
    assert len(back.requests) == len(shared(f)) and {r.method for r in back.requests} == {"POST"}
    engine_cycle(server, lake, "restrict_to_owner", f["id"])
    scan(server, lake, ["files", "activities"])
    assert {s[1] for s in shares_of(lake, f["id"])} == {"owner"}
    assert files(lake)[f["id"]]["visibility"] == "private"
    kinds = {p["type"] for p in shared(f)}
    if kinds & {"user", "group"}:
        assert drive_events(lake, "change_user_access", f["id"], owner_email(f))
    assert drive_events(lake, "change_document_access_scope", f["id"], owner_email(f))

    run_undo(server, "restrict_to_owner", back)
    scan(server, lake, ["files"])
    assert shares_of(lake, f["id"]) == before
    assert files(lake)[f["id"]]["visibility"] == visibility


def notices_of(server: SandboxServer, file_id: str) -> list[dict[str, Any]]:
    """The files carrying the quarantine notice's appProperty for `file_id`, as the sandbox holds them."""
    return [x for x in truth(server)["files"] if (x.get("appProperties") or {}).get(NOTICE_PROPERTY) == file_id]


def content_of(server: SandboxServer, file_id: str, subject: str) -> str:
    """A file's bytes (files.get alt=media) as `subject`."""
    connector = GoogleWorkspaceConnector(BASE_OPTIONS, connection(server, "actions"))
    with closing(connector), connector.delegated(DRIVE_WRITE_SCOPE).acting_as(subject):
        response, _ = connector.api("drive", DRIVE_WRITE_SCOPE).request(
            "GET", f"drive/v3/files/{file_id}", params={"alt": "media"}, parse_json=False
        )
    return response.text


def test_quarantine_moves_the_file_into_the_private_folder_and_its_undo_releases_it(server, lake, quarantine_folder):
    f = pick(server, lambda f: len(shared(f)) >= 1)
    original = list(f["parents"])
    before = shares_of(lake, f["id"])
    back = undo(server, lake, "quarantine_file", f["id"], quarantine_folder_id=quarantine_folder)
    engine_cycle(server, lake, "quarantine_file", f["id"], quarantine_folder_id=quarantine_folder)
    scan(server, lake, ["files", "activities"])
    row = files(lake)[f["id"]]
    assert json.loads(row["raw"])["parents"] == [quarantine_folder]
    assert {s[1] for s in shares_of(lake, f["id"])} == {"owner"} and row["visibility"] == "private"
    moves = drive_events(lake, "move", f["id"], owner_email(f))
    assert len(moves) == 1
    # The owner was writer on the folder only for the move: the folder stays the admin's alone.
    folder = next(x for x in truth(server)["files"] if x["id"] == quarantine_folder)
    assert [p["role"] for p in folder["permissions"]] == ["owner"]
    # A notice in the folder the file left, the owner's, tied to the file by its appProperty, with the text.
    (notice,) = notices_of(server, f["id"])
    assert notice["parents"] == original and notice["name"] == f"{f['name']} (quarantined).txt"
    assert notice["owner_user_id"] == f["owner_user_id"] and notice["mimeType"] == "text/plain"
    text = content_of(server, notice["id"], owner_email(f))
    assert text.startswith("This file was moved to quarantine by the security team") and f["name"] in text
    assert files(lake)[notice["id"]]["name"] == notice["name"]  # the next files scan sees it
    assert len(drive_events(lake, "upload", notice["id"], owner_email(f))) == 1

    run_undo(server, "quarantine_file", back)
    scan(server, lake, ["files", "activities"])
    assert json.loads(files(lake)[f["id"]]["raw"])["parents"] == original
    assert shares_of(lake, f["id"]) == before
    assert notices_of(server, f["id"]) == [] and notice["id"] not in files(lake)
    assert len(drive_events(lake, "delete", notice["id"], owner_email(f))) == 1


def upload_as(server: SandboxServer, subject: str, metadata: dict[str, Any], text: str) -> str:
    """files.create with uploadType=multipart as `subject` (metadata, then the text); the new file's id."""
    boundary = "test_boundary_0123456789"
    body = (
        f"--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{json.dumps(metadata)}\r\n"
        f"--{boundary}\r\nContent-Type: text/plain\r\n\r\n{text}\r\n--{boundary}--\r\n"
    )
    connector = GoogleWorkspaceConnector(BASE_OPTIONS, connection(server, "actions"))
    with closing(connector), connector.delegated(DRIVE_WRITE_SCOPE).acting_as(subject):
        _, created = connector.api("drive", DRIVE_WRITE_SCOPE).request(
            "POST",
            "upload/drive/v3/files?uploadType=multipart",
            content=body.encode(),
            headers={"Content-Type": f"multipart/related; boundary={boundary}"},
            idempotent=False,
        )
    return str(created["id"])


def test_the_quarantine_undo_deletes_only_saaslens_notice(server, lake, quarantine_folder):
    """The undo finds the notice by its appProperty, but deletes only the file that also has the
    notice's name and folder: files carrying the same appProperty under another name or in another
    folder are left alone."""
    f = pick(server, lambda f: True)
    back = undo(server, lake, "quarantine_file", f["id"], quarantine_folder_id=quarantine_folder)
    (delete,) = [r for r in back.requests if r.method == "DELETE" and r.path.startswith(NOTICE_PATH)]
    assert delete.body is not None and delete.body["find"]["parents"] == f["parents"]
    applied = run(server, lake, "quarantine_file", f["id"], dry_run=False, quarantine_folder_id=quarantine_folder)
    assert applied["result"] == "applied" and applied["verified"], applied
    (notice,) = notices_of(server, f["id"])
    mark = {NOTICE_PROPERTY: f["id"]}
    other_name = {"name": "notes.txt", "parents": f["parents"], "appProperties": mark}
    other_folder = {"name": notice["name"], "appProperties": mark}
    kept = {upload_as(server, owner_email(f), m, "not saaslens' notice") for m in (other_name, other_folder)}
    assert len(notices_of(server, f["id"])) == 3

    run_undo(server, "quarantine_file", back)
    assert {x["id"] for x in notices_of(server, f["id"])} == kept


def test_quarantine_without_its_folder_option_fails_naming_it(server, lake):
    f = ordinary(server)[-1]
    unset = run(server, lake, "quarantine_file", f["id"], dry_run=True)
    assert unset["result"] == "failed" and "quarantine_folder_id" in str(unset), unset


def test_apply_sensitivity_label_and_its_undo_restores_the_previous_choice(server, lake):
    label, _ = classification(server)
    labels = initial(server)["file_labels"]
    f = pick(server, lambda f: labels[f["id"]]["id"] == label and not labels[f["id"]]["name"].endswith("Restricted"))
    previous = labels[f["id"]]["name"]
    assert files(lake)[f["id"]]["sensitivity_label"] == previous
    back = undo(server, lake, "apply_sensitivity_label", f["id"])
    engine_cycle(server, lake, "apply_sensitivity_label", f["id"])
    scan(server, lake, ["files"])
    row = files(lake)[f["id"]]
    assert (row["sensitivity_label_id"], row["sensitivity_label"]) == (label, "Data classification: Restricted")

    run_undo(server, "apply_sensitivity_label", back)
    scan(server, lake, ["files"])
    assert files(lake)[f["id"]]["sensitivity_label"] == previous

    # A file without the label: applied, and undone by removing it.
    g = pick(server, lambda f: labels[f["id"]]["id"] is None)
    removal = undo(server, lake, "apply_sensitivity_label", g["id"])
    assert removal.requests[0].body == {"labelModifications": [{"labelId": label, "removeLabel": True}]}
    assert run(server, lake, "apply_sensitivity_label", g["id"], dry_run=False)["result"] == "applied"
    run_undo(server, "apply_sensitivity_label", removal)
    scan(server, lake, ["files"])
    assert files(lake)[g["id"]]["sensitivity_label_id"] is None


def test_the_label_action_names_its_unset_option_and_is_denied_without_drive_labels(server, lake):
    f = ordinary(server)[-2]
    unset = run(server, lake, "apply_sensitivity_label", f["id"], dry_run=True, sensitivity_label_id=None)
    assert unset["result"] == "failed" and "sensitivity_label_id" in str(unset), unset
    other = next(x for x in initial(server, NO_LABELS)["files"] if x["mimeType"] != FOLDER_MIME)
    label, _ = classification(server)
    denied = run(
        server,
        lake,
        "apply_sensitivity_label",
        other["id"],
        dry_run=False,
        tenant=NO_LABELS,
        sensitivity_label_id=label,
    )
    assert denied["result"] == "denied", denied
    assert "Drive labels are not available" in (denied["provider_error"] or ""), denied
