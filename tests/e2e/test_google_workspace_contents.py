"""Google Drive file contents for content inspection, against the sandbox's Drive: every listed file
(trashed ones too) downloads with files.get?alt=media, or exports with files.export for Docs, Sheets and
Slides, to exactly the corpus' bytes; the token only ever reaches the Drive API; a file over the cap is
refused before its body is read, an export over Google's 10 MB limit is too large; a file deleted
behind saaslens' back is NotFoundError, a credential without drive.readonly PermissionDeniedError; the
files stage's content version, trash state and Drive labels equal the ground truth."""

from __future__ import annotations

import hashlib
import json
import tempfile
from contextlib import closing
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from saaslens.config import InstanceConfig
from saaslens.connections import ConnectionInfo
from saaslens.connectors import registry
from saaslens.connectors.google_workspace import GoogleWorkspaceConnector
from saaslens.http import ContentTooLargeError, NotFoundError, PermissionDeniedError
from saaslens.lake.writer import Lake, snapshot_id_for
from saaslens.runner import RunContext, run_stage
from saaslens_sandbox.core import SandboxServer, TenantSpec
from saaslens_sandbox.google_workspace.generator import ALL_SCOPES

pytestmark = pytest.mark.integration

APP = "google_workspace"
TENANT, NO_LABELS = "hooli", "piedpiper"
S = "https://www.googleapis.com/auth/"
ANCHOR = (datetime.now(UTC) - timedelta(minutes=10)).replace(microsecond=0)
OPTIONS = {"max_workers": 4, "retry_initial_backoff_seconds": 0.05}
ACCOUNTS = [
    {"name": "scanner", "scopes": list(ALL_SCOPES)},
    # Lists files (metadata) but cannot read their content.
    {"name": "metadata-only", "scopes": [s for s in ALL_SCOPES if s != S + "drive.readonly"]},
]
CONTENTS = registry.app_spec(APP).contents


@pytest.fixture(scope="module")
def server():
    common = {"anchor": ANCHOR.isoformat(), "service_accounts": ACCOUNTS, "events": 100}
    specs = [
        TenantSpec(app=APP, name=TENANT, seed=71, users=40, options={**common, "large_file_mb": 2}),
        TenantSpec(app=APP, name=NO_LABELS, seed=72, users=15, options={**common, "drive_labels": False}),
    ]
    with SandboxServer(specs) as running:
        yield running


def personality(server: SandboxServer, tenant: str = TENANT) -> Any:
    return server.personality(APP, tenant)


def truth(server: SandboxServer, tenant: str = TENANT) -> dict[str, Any]:
    return personality(server, tenant).ground_truth()


def connection(server: SandboxServer, account: str = "scanner", tenant: str = TENANT) -> ConnectionInfo:
    creds = truth(server, tenant)["credentials"]
    return ConnectionInfo(
        conn_id=f"gws_{tenant}_{account}",
        conn_type="google_workspace",
        host=server.tenant_url(APP, tenant),
        password=json.dumps(creds["service_accounts"][account]["key_file"]),
        extra={"subject": creds["subject"]},
    )


def scan(server: SandboxServer, lake: Lake, tenant: str = TENANT) -> list[dict[str, Any]]:
    moment = datetime.now(UTC)
    ctx = RunContext(run_id=f"test-{moment:%H%M%S%f}", snapshot_id=snapshot_id_for(moment))
    config = InstanceConfig(app=APP, name=tenant, conn_id=f"gws_{tenant}_scanner", options=OPTIONS)
    for stage in ("authenticate", "users", "files"):
        result = run_stage(config, stage, ctx, lake, connection=connection(server, tenant=tenant))
        assert result.status == "success", (stage, result)
    return lake.read_snapshot("files", APP, tenant).to_pylist()


@pytest.fixture(scope="module")
def files(server, tmp_path_factory) -> list[dict[str, Any]]:
    return scan(server, Lake(tmp_path_factory.mktemp("gws-contents-lake")))


def connector(server: SandboxServer, account: str = "scanner") -> GoogleWorkspaceConnector:
    return GoogleWorkspaceConnector(OPTIONS, connection(server, account))


def expected(server: SandboxServer, row: dict[str, Any]) -> tuple[str, int]:
    """sha256 and length of what a correct fetch writes: the blob's corpus bytes, or the export's."""
    t = personality(server).tenant
    item = t.files[t.file_index[row["file_id"]]]
    if row["mime_type"].startswith("application/vnd.google-apps."):
        content = t.contents.export_of(item, CONTENTS_EXPORT[row["mime_type"]]).content()
        return hashlib.sha256(content).hexdigest(), len(content)
    digest = hashlib.sha256()
    size = 0
    for piece in t.contents.chunks(item, 0, None):
        digest.update(piece)
        size += len(piece)
    return digest.hexdigest(), size


CONTENTS_EXPORT = {
    "application/vnd.google-apps.document": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.google-apps.spreadsheet": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.google-apps.presentation": (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation"
    ),
}


def fetch(c: GoogleWorkspaceConnector, row: dict[str, Any], max_bytes: int = 64 << 20) -> tuple[str, int, Any]:
    assert CONTENTS is not None
    with tempfile.TemporaryFile() as sink:
        fetched = CONTENTS.fetch(c, row, sink, max_bytes)
        sink.seek(0)
        digest = hashlib.sha256()
        while piece := sink.read(1 << 20):
            digest.update(piece)
        return digest.hexdigest(), sink.tell(), fetched


def readable(files: list[dict[str, Any]]) -> list[dict[str, Any]]:
    assert CONTENTS is not None and CONTENTS.skip is not None
    return [row for row in files if CONTENTS.skip(row) is None]


def requests_seen(server: SandboxServer) -> list[dict[str, Any]]:
    origin = server.tenant_url(APP, TENANT).split(f"/{APP}/")[0]
    return list(httpx.get(f"{origin}/_sandbox/requests").json())


def test_every_listed_file_downloads_exactly_the_corpus_bytes(server, files):
    t = truth(server)
    rows = readable(files)
    assert any(r["trashed"] for r in rows), "trashed files are listed and read too"
    assert {r["file_id"] for r in files} == {f["id"] for f in t["files"]}
    specials = personality(server).tenant.contents.special
    assert len(specials) == 5 and set(specials) <= {r["file_id"] for r in rows}  # with the 2 MiB CSV
    shared = {r["visibility"] for r in files if r["file_id"] in specials}
    assert {"public", "external"} <= shared
    natives = 0
    with closing(connector(server)) as c:
        for row in rows:
            digest, written, fetched = fetch(c, row)
            assert (digest, written) == expected(server, row), row["name"]
            assert fetched.bytes == written
            if row["mime_type"] in CONTENTS_EXPORT:
                natives += 1
                assert fetched.mime_type == CONTENTS_EXPORT[row["mime_type"]]
                assert fetched.name.startswith(row["name"]) and fetched.name.endswith((".docx", ".xlsx", ".pptx"))
            else:
                assert written == row["size_bytes"] and fetched.mime_type == row["mime_type"]
    assert natives, "Docs editors files were exported"
    # The ground truth covers exactly the listed files: every readable one with an outcome.
    dlp = t["dlp"]
    assert set(dlp["expect"]) == {r["file_id"] for r in files}
    assert {f for f, e in dlp["expect"].items() if e.startswith("skipped:")} == {
        r["file_id"] for r in files if CONTENTS.skip(r)
    }
    assert set(dlp["matches"]) == {f for f, e in dlp["expect"].items() if e == "scanned"}


def test_the_token_reaches_only_the_drive_api_and_ranges_are_served(server, files):
    rows = readable(files)[:6]
    mark = len(requests_seen(server))
    with closing(connector(server)) as c:
        for row in rows:
            fetch(c, row)
    seen = [
        r
        for r in requests_seen(server)[mark:]
        if not r["raw_path"].endswith("/token") and "/_sandbox/" not in r["raw_path"]
    ]
    base_path = httpx.URL(server.tenant_url(APP, TENANT)).path
    assert len(seen) == len(rows) and all(r["credentialed"] for r in seen), [(r["raw_path"], r["query"]) for r in seen]
    assert all(r["raw_path"].startswith(f"{base_path}/drive/v3/files/") for r in seen), seen
    # A partial download, as Drive serves one; a range past the end is unsatisfiable.
    blob = max((r for r in rows if r["size_bytes"]), key=lambda r: r["size_bytes"])
    with closing(connector(server)) as c:
        client = c.api("drive", S + "drive.readonly")
        with c.delegated(S + "drive.readonly").acting_as(blob["owner_email"]):
            path = f"drive/v3/files/{blob['file_id']}"
            whole = client.request("GET", path, params={"alt": "media"}, parse_json=False)[0].content
            part = client.request(
                "GET", path, params={"alt": "media"}, headers={"Range": "bytes=10-109"}, parse_json=False
            )[0]
    assert part.status_code == 206 and part.content == whole[10:110]
    assert part.headers["content-range"] == f"bytes 10-109/{len(whole)}"


def test_a_file_over_the_cap_is_refused_before_its_body_is_read(server, files):
    row = max(readable(files), key=lambda r: r["size_bytes"] or 0)
    assert row["size_bytes"] >= 2 << 20  # the large CSV
    with closing(connector(server)) as c, tempfile.TemporaryFile() as sink:
        assert CONTENTS is not None
        with pytest.raises(ContentTooLargeError) as refused:
            CONTENTS.fetch(c, row, sink, 4096)
        sink.seek(0, 2)
        assert sink.tell() == 0
    assert refused.value.size == row["size_bytes"] and refused.value.cap == 4096


def test_an_export_over_googles_limit_is_too_large(server, files):
    row = next(r for r in readable(files) if r["mime_type"] in CONTENTS_EXPORT)
    contents = personality(server).tenant.contents
    contents.export_limit = 100
    try:
        with closing(connector(server)) as c, pytest.raises(ContentTooLargeError) as refused:
            fetch(c, row)
    finally:
        contents.export_limit = 10 * 2**20
    assert "10 MB" in str(refused.value)


def test_a_credential_without_drive_readonly_is_denied(server, files):
    row = next(r for r in readable(files) if r["mime_type"] not in CONTENTS_EXPORT)
    with closing(connector(server, "metadata-only")) as c, pytest.raises(PermissionDeniedError) as no:
        fetch(c, row)
    assert no.value.provider_code == "unauthorized_client" or "drive.readonly" in str(no.value)
    assert "PRIVATE KEY" not in str(no.value)
    # The Drive API itself refuses content to a token holding only the metadata scope.
    creds = truth(server)["credentials"]
    token_row = next(r for r in readable(files) if r["mime_type"] in CONTENTS_EXPORT)
    with closing(connector(server)) as c:
        client = c.api("drive", S + "drive.metadata.readonly")
        acting = c.delegated(S + "drive.metadata.readonly").acting_as(token_row["owner_email"])
        with acting, pytest.raises(PermissionDeniedError) as scope:
            path = f"drive/v3/files/{token_row['file_id']}/export"
            client.request("GET", path, params={"mimeType": "text/plain"}, parse_json=False)
    assert scope.value.provider_code == "insufficientPermissions" and creds


def test_the_files_stage_records_content_version_trash_state_and_labels(server, files):
    t = truth(server)
    by_id = {f["id"]: f for f in t["files"]}
    for row in files:
        item = by_id[row["file_id"]]
        wanted = f"md5:{item['md5Checksum']}" if item.get("md5Checksum") else f"v{item['version']}"
        assert row["content_version"] == wanted, row["name"]
        assert row["trashed"] is item["trashed"]
        label = t["file_labels"][row["file_id"]]
        assert (row["sensitivity_label_id"], row["sensitivity_label"]) == (label["id"], label["name"]), row["name"]
    names = {r["sensitivity_label"] for r in files if r["sensitivity_label"]}
    assert any(n.startswith("Data classification: ") for n in names) and "Legal hold" in names


def test_without_drive_labels_files_carry_none(server, tmp_path):
    rows = scan(server, Lake(tmp_path), NO_LABELS)
    assert rows and all(r["sensitivity_label"] is None and r["sensitivity_label_id"] is None for r in rows)


def test_a_file_deleted_behind_saaslens_back_is_not_found(server, files):
    row = readable(files)[-1]
    origin = server.tenant_url(APP, TENANT).split(f"/{APP}/")[0]
    answer = httpx.post(f"{origin}/_sandbox/{APP}/{TENANT}/forget", json={"kind": "file", "id": row["file_id"]})
    assert answer.status_code == 200, answer.text
    with closing(connector(server)) as c, pytest.raises(NotFoundError) as gone:
        fetch(c, row)
    assert gone.value.provider_code == "notFound"
