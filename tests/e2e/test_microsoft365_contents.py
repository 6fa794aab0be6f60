"""Microsoft 365 file contents for content inspection, against the sandbox's Graph: every listed file
downloads (GET .../content, 302 to a preauthenticated URL on another origin) to exactly the corpus'
bytes; the Graph token never reaches that origin; a file over the cap is refused before its body is read;
a file deleted behind saaslens' back is NotFoundError, a credential without Files.Read.All
PermissionDeniedError; the files stage's cTag, trash state and Purview labels equal the ground truth."""

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
from saaslens.connectors.microsoft365 import Microsoft365Connector
from saaslens.http import ContentTooLargeError, NotFoundError, PermissionDeniedError
from saaslens.lake.writer import Lake, snapshot_id_for
from saaslens.runner import RunContext, run_stage
from saaslens_sandbox.core import SandboxServer, TenantSpec
from saaslens_sandbox.microsoft365.tenant import ACTION_ROLES, DEFAULT_ROLES

pytestmark = pytest.mark.integration

APP = "microsoft365"
TENANT = "fabrikam"
ANCHOR = (datetime.now(UTC) - timedelta(minutes=10)).replace(microsecond=0)
OPTIONS = {"max_workers": 4, "retry_initial_backoff_seconds": 0.05}
CLIENTS = [
    {"client_id": "3f1c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a51", "client_secret": "sandbox-fabrikam-scan"},
    {
        "client_id": "3f1c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a52",
        "client_secret": "sandbox-fabrikam-actions",
        "roles": list(ACTION_ROLES),
    },
    # Reads the directory but holds no Files.* or Sites.* permission.
    {
        "client_id": "3f1c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a53",
        "client_secret": "sandbox-fabrikam-nofiles",
        "roles": [r for r in DEFAULT_ROLES if not r.startswith(("Files.", "Sites."))],
    },
    # Reads files but not the label names (no InformationProtectionPolicy.Read.All).
    {
        "client_id": "3f1c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a54",
        "client_secret": "sandbox-fabrikam-nolabels",
        "roles": [r for r in DEFAULT_ROLES if r != "InformationProtectionPolicy.Read.All"],
    },
]
SCAN, ACTIONS, NO_FILES, NO_LABEL_NAMES = range(4)
CONTENTS = registry.app_spec(APP).contents


@pytest.fixture(scope="module")
def server():
    options = {"anchor": ANCHOR.isoformat(), "clients": CLIENTS, "large_file_mb": 2, "events": 100}
    spec = TenantSpec(app=APP, name=TENANT, seed=73, users=50, options=options)
    with SandboxServer([spec]) as running:
        yield running


def personality(server: SandboxServer) -> Any:
    return server.personality(APP, TENANT)


def truth(server: SandboxServer) -> dict[str, Any]:
    return personality(server).ground_truth()


def connection(server: SandboxServer, which: int = SCAN) -> ConnectionInfo:
    creds = truth(server)["credentials"]
    client = CLIENTS[which]
    extra = {
        "tenant_id": creds["tenant_id"],
        "client_id": client["client_id"],
        "client_secret": client["client_secret"],
        "token_url": creds["token_url"],
    }
    return ConnectionInfo(f"m365_{TENANT}_{which}", "http", server.tenant_url(APP, TENANT), extra=extra)


def instance() -> InstanceConfig:
    return InstanceConfig(app=APP, name=TENANT, conn_id=f"m365_{TENANT}_0", options=OPTIONS)


def scan(server: SandboxServer, lake: Lake, which: int = SCAN) -> list[dict[str, Any]]:
    moment = datetime.now(UTC)
    ctx = RunContext(run_id=f"test-{moment:%H%M%S%f}", snapshot_id=snapshot_id_for(moment))
    for stage in ("authenticate", "files"):
        result = run_stage(instance(), stage, ctx, lake, connection=connection(server, which))
        assert result.status == "success", (stage, result)
    return lake.read_snapshot("files", APP, TENANT).to_pylist()


@pytest.fixture(scope="module")
def files(server, tmp_path_factory) -> list[dict[str, Any]]:
    return scan(server, Lake(tmp_path_factory.mktemp("m365-contents-lake")))


def expected_digest(server: SandboxServer, file_id: str) -> tuple[str, int]:
    """sha256 and length of what the sandbox holds for a file: the corpus document, or an upload."""
    contents = personality(server).tenant.contents
    item = next(f["item"] for f in truth(server)["files"] if f["item"]["id"] == file_id)
    digest = hashlib.sha256()
    for piece in contents.chunks(item, 0, contents.size_of(item)):
        digest.update(piece)
    return digest.hexdigest(), contents.size_of(item)


def fetch(c: Microsoft365Connector, row: dict[str, Any], max_bytes: int = 64 << 20) -> tuple[str, int, Any]:
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


def test_every_listed_file_downloads_exactly_the_corpus_bytes(server, files):
    t = truth(server)
    rows = readable(files)
    listed = {f["item"]["id"] for f in t["files"] if "file" in f["item"]}
    assert {r["file_id"] for r in rows} == listed
    # The corpus' specials are among them, one shared with anyone, one with a partner outside.
    specials = personality(server).tenant.contents.special
    assert set(specials) <= listed and len(specials) == 5  # with large_file_mb: the 2 MiB CSV too
    shared = {r["file_id"]: r["visibility"] for r in files if r["file_id"] in specials}
    assert "public" in shared.values() and "external" in shared.values()
    personality(server).download_log.clear()
    with closing(Microsoft365Connector(OPTIONS, connection(server))) as c:
        for row in rows:
            digest, written, fetched = fetch(c, row)
            wanted, size = expected_digest(server, row["file_id"])
            assert (digest, written) == (wanted, size), row["name"]
            assert fetched.bytes == size == row["size_bytes"]
            assert fetched.mime_type == row["mime_type"] and fetched.name == row["name"]
    # Every file went through the preauthenticated URL, and the ground truth covers every listed item:
    # files by the corpus' oracle, folders as the scan's skip.
    assert len(personality(server).download_log) == len(rows)
    expect = t["dlp"]["expect"]
    assert set(expect) == {r["file_id"] for r in files}
    assert {f for f, e in expect.items() if e == "scanned"} == set(t["dlp"]["matches"])
    folders = {r["file_id"] for r in files if CONTENTS.skip(r)}
    assert folders and {f: expect[f] for f in folders} == {f: "skipped:no-content: a folder" for f in folders}
    assert {f: "skipped:" + str(CONTENTS.skip(r)) for r in files if (f := r["file_id"]) in folders} == {
        f: expect[f].replace("skipped:no-content: ", "skipped:") for f in folders
    }
    assert t["dlp"]["planted_values"] and set(t["dlp"]["planted_values"]) <= listed


def test_the_graph_token_never_reaches_the_storage_origin(server, files):
    rows = readable(files)[:5]
    log = personality(server).download_log
    log.clear()
    base = server.tenant_url(APP, TENANT)
    api_host = httpx.URL(base).netloc.decode()
    with closing(Microsoft365Connector(OPTIONS, connection(server))) as c:
        for row in rows:
            fetch(c, row)
    assert len(log) == len(rows)
    assert all(not entry["authorization"] and not entry["cookie"] for entry in log), log
    assert all(entry["host"] != api_host for entry in log), (api_host, log)
    # The server's own request log agrees: every storage request came without a credential.
    origin = base.split(f"/{APP}/")[0]
    seen = httpx.get(f"{origin}/_sandbox/requests").json()
    storage = [r for r in seen if "/_layouts/15/download.aspx" in r["raw_path"]]
    assert storage and not any(r["credentialed"] for r in storage)
    graph = [r for r in seen if r["raw_path"].endswith("/content") and "/items/" in r["raw_path"]]
    assert graph and all(r["credentialed"] for r in graph)


def test_the_storage_url_serves_byte_ranges_and_refuses_a_bad_tempauth(server, files):
    row = max(readable(files), key=lambda r: r["size_bytes"])
    creds = truth(server)["credentials"]
    token = httpx.post(
        creds["token_url"],
        data={
            "grant_type": "client_credentials",
            "client_id": CLIENTS[SCAN]["client_id"],
            "client_secret": CLIENTS[SCAN]["client_secret"],
            "scope": "https://graph.microsoft.com/.default",
        },
    ).json()["access_token"]
    raw = json.loads(row["raw"])
    base = server.tenant_url(APP, TENANT)
    answer = httpx.get(
        f"{base}/v1.0/drives/{raw['parentReference']['driveId']}/items/{row['file_id']}/content",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 302
    location = answer.headers["location"]
    assert httpx.URL(location).netloc != httpx.URL(base).netloc
    whole = httpx.get(location).content
    part = httpx.get(location, headers={"Range": "bytes=100-1123"})
    assert part.status_code == 206 and part.content == whole[100:1124]
    assert part.headers["content-range"] == f"bytes 100-1123/{len(whole)}"
    assert httpx.get(location, headers={"Range": f"bytes={len(whole)}-"}).status_code == 416
    forged = location.replace("tempauth=", "tempauth=1")
    assert httpx.get(forged).status_code == 401


def test_a_file_over_the_cap_is_refused_before_its_body_is_read(server, files):
    row = max(readable(files), key=lambda r: r["size_bytes"])
    assert row["size_bytes"] >= 2 << 20  # the large CSV
    with closing(Microsoft365Connector(OPTIONS, connection(server))) as c, tempfile.TemporaryFile() as sink:
        assert CONTENTS is not None
        with pytest.raises(ContentTooLargeError) as refused:
            CONTENTS.fetch(c, row, sink, 4096)
        sink.seek(0, 2)
        assert sink.tell() == 0  # nothing of the body was written
    assert refused.value.size == row["size_bytes"] and refused.value.cap == 4096


def test_a_credential_without_files_read_all_is_denied(server, files):
    row = readable(files)[0]
    with (
        closing(Microsoft365Connector(OPTIONS, connection(server, NO_FILES))) as c,
        pytest.raises(PermissionDeniedError) as no,
    ):
        fetch(c, row)
    assert no.value.provider_code == "accessDenied"
    assert "secret" not in str(no.value) and CLIENTS[NO_FILES]["client_secret"] not in str(no.value)


def test_the_files_stage_records_content_version_trash_state_and_labels(server, files):
    t = truth(server)
    by_id = {f["item"]["id"]: f for f in t["files"]}
    assert {r["file_id"] for r in files} == set(by_id)
    for row in files:
        listed = by_id[row["file_id"]]
        assert row["content_version"] == listed["item"]["cTag"]
        assert row["trashed"] is False
        assert (row["sensitivity_label_id"], row["sensitivity_label"]) == (
            listed["sensitivity_label_id"],
            listed["sensitivity_label"],
        ), row["name"]
    labelled = [r for r in files if r["sensitivity_label"]]
    assert labelled, "the tenant has labelled files"
    assert {r["sensitivity_label"] for r in labelled} <= {label["name"] for label in t["sensitivity_labels"]}


def test_without_the_label_policy_permission_ids_are_kept_without_names(server, tmp_path):
    rows = scan(server, Lake(tmp_path), NO_LABEL_NAMES)
    labelled = {f["item"]["id"]: f["sensitivity_label_id"] for f in truth(server)["files"] if f["sensitivity_label_id"]}
    got = {r["file_id"]: r["sensitivity_label_id"] for r in rows if r["sensitivity_label_id"]}
    assert got == labelled
    assert all(r["sensitivity_label"] is None for r in rows)


def test_a_file_deleted_behind_saaslens_back_is_not_found(server, files):
    row = readable(files)[-1]
    origin = server.tenant_url(APP, TENANT).split(f"/{APP}/")[0]
    answer = httpx.post(f"{origin}/_sandbox/{APP}/{TENANT}/forget", json={"kind": "file", "id": row["file_id"]})
    assert answer.status_code == 200, answer.text
    with closing(Microsoft365Connector(OPTIONS, connection(server))) as c, pytest.raises(NotFoundError) as gone:
        fetch(c, row)
    assert gone.value.provider_code == "itemNotFound"
