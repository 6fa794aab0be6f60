"""Slack file contents for content inspection, against the sandbox: every listed file downloads from its
url_private to exactly the corpus' bytes; the token goes to Slack's file host and the Web API only, and a
url_private anywhere else is refused without a request; a file over the cap is refused before its body
is read; a file deleted behind saaslens' back or with files.delete is NotFoundError; a token without
files:read, or one the file host does not accept (its HTML sign-in page), PermissionDeniedError; the
files stage's content version, trash state and (absent) labels equal the ground truth, and the audit
log's change events name listed files."""

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
from saaslens.connectors.slack import SlackConnector
from saaslens.http import ContentTooLargeError, MalformedResponseError, NotFoundError, PermissionDeniedError
from saaslens.lake.writer import Lake, snapshot_id_for
from saaslens.runner import RunContext, run_stage
from saaslens_sandbox.core import RateLimitConfig, SandboxServer, TenantSpec
from saaslens_sandbox.slack.generator import WEB_SCOPES

pytestmark = pytest.mark.integration

APP = "slack"
TENANT = "dlpacme"
ANCHOR = (datetime.now(UTC) - timedelta(minutes=10)).replace(microsecond=0)
OPTIONS = {"max_workers": 4, "retry_initial_backoff_seconds": 0.05, "activities_lag_seconds": 0}
TOKENS = {
    "owner": {"token": f"xoxp-sandbox-{TENANT}-owner"},
    # Reads users and groups but holds no files:read.
    "nofiles": {"token": f"xoxp-sandbox-{TENANT}-nofiles", "scopes": [s for s in WEB_SCOPES if s != "files:read"]},
    "actions": {
        "token": f"xoxp-sandbox-{TENANT}-actions",
        "scopes": [*WEB_SCOPES, "admin.users:write", "admin.apps:write", "files:write", "admin"],
        "acts_as": "admin",
    },
}
CONTENTS = registry.app_spec(APP).contents


@pytest.fixture(scope="module")
def server():
    options = {"anchor": ANCHOR.isoformat(), "tokens": list(TOKENS.values()), "large_file_mb": 2, "files": 40}
    spec = TenantSpec(
        app=APP, name=TENANT, seed=31, users=60, options=options, rate_limits=RateLimitConfig(enabled=False)
    )
    with SandboxServer([spec]) as running:
        yield running


def personality(server: SandboxServer) -> Any:
    return server.personality(APP, TENANT)


def truth(server: SandboxServer) -> dict[str, Any]:
    return personality(server).ground_truth()


def connection(server: SandboxServer, which: str = "owner") -> ConnectionInfo:
    url = server.tenant_url(APP, TENANT)
    extra = {"audit_base_url": f"{url}/audit/v1"}
    return ConnectionInfo(f"slack_{TENANT}_{which}", "http", url, password=TOKENS[which]["token"], extra=extra)


def instance() -> InstanceConfig:
    return InstanceConfig(app=APP, name=TENANT, conn_id=f"slack_{TENANT}_owner", options=OPTIONS)


def sync(server: SandboxServer, lake: Lake, stages: tuple[str, ...] = ("authenticate", "files")) -> None:
    moment = datetime.now(UTC)
    ctx = RunContext(run_id=f"test-{moment:%H%M%S%f}", snapshot_id=snapshot_id_for(moment))
    for stage in stages:
        result = run_stage(instance(), stage, ctx, lake, connection=connection(server))
        assert result.status == "success", (stage, result)


@pytest.fixture(scope="module")
def lake(server, tmp_path_factory) -> Lake:
    lake = Lake(tmp_path_factory.mktemp("slack-contents-lake"))
    sync(server, lake, ("authenticate", "files", "activities"))
    return lake


@pytest.fixture(scope="module")
def files(lake) -> list[dict[str, Any]]:
    return lake.read_snapshot("files", APP, TENANT).to_pylist()


def connector(server: SandboxServer, which: str = "owner") -> SlackConnector:
    return SlackConnector(OPTIONS, connection(server, which))


def fetch(c: SlackConnector, row: dict[str, Any], max_bytes: int = 64 << 20) -> tuple[str, int, Any]:
    assert CONTENTS is not None
    with tempfile.TemporaryFile() as sink:
        fetched = CONTENTS.fetch(c, row, sink, max_bytes)
        sink.seek(0)
        digest = hashlib.sha256()
        while piece := sink.read(1 << 20):
            digest.update(piece)
        return digest.hexdigest(), sink.tell(), fetched


def expected_digest(server: SandboxServer, file_id: str) -> tuple[str, int]:
    """sha256 and length of the corpus document the sandbox holds for a file."""
    tenant = personality(server).tenant
    document = tenant.contents.document(tenant.file_doc(file_id))
    digest = hashlib.sha256()
    for piece in document.chunks():
        digest.update(piece)
    return digest.hexdigest(), document.size


def readable(files: list[dict[str, Any]]) -> list[dict[str, Any]]:
    assert CONTENTS is not None and CONTENTS.skip is not None
    return [row for row in files if CONTENTS.skip(row) is None]


def test_every_listed_file_downloads_exactly_the_corpus_bytes(server, files):
    t = truth(server)
    listed = {f["id"] for f in t["files"]}
    assert {r["file_id"] for r in files} == listed
    hosted = {f["id"] for f in t["files"] if not f["is_external"]}
    rows = readable(files)
    assert {r["file_id"] for r in rows} == hosted and len(hosted) < len(listed)  # external files are skipped
    # The corpus' specials are among them (with large_file_mb: the 2 MiB CSV too), one with its public
    # link shared, one in a Slack Connect channel.
    specials = personality(server).tenant.contents.special
    assert set(specials) <= hosted and len(specials) == 5
    shared = {r["file_id"]: r["visibility"] for r in files if r["file_id"] in specials}
    assert "public" in shared.values() and "external" in shared.values()
    log = personality(server).file_log
    log.clear()
    with closing(connector(server)) as c:
        for row in rows:
            digest, written, fetched = fetch(c, row)
            wanted, size = expected_digest(server, row["file_id"])
            assert (digest, written) == (wanted, size), row["name"]
            assert fetched.bytes == size == row["size_bytes"]
            assert fetched.mime_type == row["mime_type"] and fetched.name == row["name"]
    assert len(log) == len(rows) and all(entry["token_known"] for entry in log)
    # The ground truth covers every listed file: the oracle for hosted ones, the skip for external ones.
    dlp = t["dlp"]
    assert set(dlp["expect"]) == listed
    assert {f for f, e in dlp["expect"].items() if e.startswith("skipped:")} == listed - hosted
    assert set(dlp["matches"]) == {f for f, e in dlp["expect"].items() if e == "scanned"}
    assert any(dlp["matches"].values()) and dlp["planted_values"]
    assert sorted(e for e in dlp["expect"].values() if e.startswith("unreadable:")) == [
        "unreadable:corrupt",
        "unreadable:encrypted",
        "unreadable:zip-bomb",
    ]


def test_the_token_goes_to_the_file_host_and_the_web_api_only(server, files):
    rows = readable(files)[:5]
    base = server.tenant_url(APP, TENANT)
    api_netloc = httpx.URL(base).netloc.decode()
    log = personality(server).file_log
    log.clear()
    with closing(connector(server)) as c:
        for row in rows:
            fetch(c, row)
        # Every request reached the file host, its own origin (files.slack.com in Slack), with the token.
        assert len(log) == len(rows)
        assert {entry["host"] for entry in log} == {httpx.URL(truth(server)["file_host"]).netloc.decode()}
        assert all(entry["host"] != api_netloc and entry["authorization"] for entry in log)
        # A url_private anywhere but the file host is refused without a request, naming the file.
        origin = base.split(f"/{APP}/")[0]
        before = len(httpx.get(f"{origin}/_sandbox/requests").json())
        for url in (
            "https://files.slack.com.attacker.example/files-pri/T1-F1/x.txt",
            "https://attacker.example/files-pri/T1-F1/x.txt",
            "http://files.slack.com/files-pri/T1-F1/x.txt",
            "https://user@files.slack.com/files-pri/T1-F1/x.txt",
        ):
            raw = {**json.loads(rows[0]["raw"]), "url_private": url, "url_private_download": url}
            forged = {**rows[0], "raw": json.dumps(raw)}
            with pytest.raises(MalformedResponseError) as refused:
                fetch(c, forged)
            assert rows[0]["file_id"] in str(refused.value) and "not fetched" in str(refused.value)
        after = httpx.get(f"{origin}/_sandbox/requests").json()[before:]
        assert [r["raw_path"] for r in after] == ["/_sandbox/requests"]  # only the listing itself: no fetch
    assert len(log) == len(rows)


def test_the_file_host_serves_byte_ranges_and_requires_the_token(server, files):
    row = max(readable(files), key=lambda r: r["size_bytes"])
    url = json.loads(row["raw"])["url_private"]
    token = {"Authorization": f"Bearer {TOKENS['owner']['token']}"}
    whole = httpx.get(url, headers=token)
    assert whole.status_code == 200 and whole.headers["accept-ranges"] == "bytes"
    part = httpx.get(url, headers={**token, "Range": "bytes=100-1123"})
    assert part.status_code == 206 and part.content == whole.content[100:1124]
    assert part.headers["content-range"] == f"bytes 100-1123/{len(whole.content)}"
    assert httpx.get(url, headers={**token, "Range": f"bytes={len(whole.content)}-"}).status_code == 416
    # Without a token Slack accepts: its sign-in page (200, HTML); without files:read: 403.
    signin = httpx.get(url)
    assert signin.status_code == 200 and signin.headers["content-type"].startswith("text/html")
    nofiles = httpx.get(url, headers={"Authorization": f"Bearer {TOKENS['nofiles']['token']}"})
    assert nofiles.status_code == 403


def test_a_file_over_the_cap_is_refused_before_its_body_is_read(server, files):
    row = max(readable(files), key=lambda r: r["size_bytes"])
    assert row["size_bytes"] >= 2 << 20  # the large CSV
    assert CONTENTS is not None
    with closing(connector(server)) as c, tempfile.TemporaryFile() as sink:
        with pytest.raises(ContentTooLargeError) as refused:
            CONTENTS.fetch(c, row, sink, 4096)
        sink.seek(0, 2)
        assert sink.tell() == 0  # nothing of the body was written
    assert refused.value.size == row["size_bytes"] and refused.value.cap == 4096


def test_a_token_without_files_read_or_one_the_file_host_refuses_is_denied(server, files):
    row = readable(files)[0]
    with closing(connector(server, "nofiles")) as c, pytest.raises(PermissionDeniedError) as no:
        fetch(c, row)
    assert no.value.status == 403 and TOKENS["nofiles"]["token"] not in str(no.value)
    # A token the file host does not accept gets Slack's sign-in page, never scanned as the file.
    url = server.tenant_url(APP, TENANT)
    bad = ConnectionInfo("slack_bad", "http", url, password="xoxp-sandbox-revoked-token")
    with closing(SlackConnector(OPTIONS, bad)) as c, pytest.raises(PermissionDeniedError) as html:
        fetch(c, row)
    assert "HTML page" in str(html.value) and "xoxp-sandbox-revoked-token" not in str(html.value)


def test_the_files_stage_records_content_version_trash_state_and_no_labels(server, files):
    by_id = {f["id"]: f for f in truth(server)["files"]}
    assert {r["file_id"] for r in files} == set(by_id)
    for row in files:
        listed = by_id[row["file_id"]]
        assert row["content_version"] == str(listed["created"])  # hosted files: bytes fixed at upload
        assert row["trashed"] is False
        assert row["sensitivity_label"] is None and row["sensitivity_label_id"] is None
    assert registry.app_spec(APP).reads_labels is False


def test_change_events_name_listed_files(server, lake, files):
    assert CONTENTS is not None
    events = lake.read_events("activities", APP, TENANT).to_pylist()
    named = {CONTENTS.event_file(e) for e in events if e["action"] in CONTENTS.change_events}
    listed = {r["file_id"] for r in files}
    assert named and None not in named
    assert named & listed
    # Other file actions (a download) are not change events.
    assert not {e["action"] for e in events if e["action"] in CONTENTS.change_events} & {"file_downloaded"}


def test_a_file_gone_behind_saaslens_back_or_deleted_is_not_found(server, files):
    forgotten, deleted = readable(files)[-2:]
    origin = server.tenant_url(APP, TENANT).split(f"/{APP}/")[0]
    answer = httpx.post(f"{origin}/_sandbox/{APP}/{TENANT}/forget", json={"kind": "file", "id": forgotten["file_id"]})
    assert answer.status_code == 200, answer.text
    token = {"Authorization": f"Bearer {TOKENS['actions']['token']}"}
    gone = httpx.post(
        f"{server.tenant_url(APP, TENANT)}/files.delete", data={"file": deleted["file_id"]}, headers=token
    )
    assert gone.json() == {"ok": True}
    with closing(connector(server)) as c:
        for row in (forgotten, deleted):
            with pytest.raises(NotFoundError) as missing:
                fetch(c, row)
            assert missing.value.status == 404
