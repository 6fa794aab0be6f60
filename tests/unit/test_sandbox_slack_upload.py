"""The Slack personality's live change, advance({"upload_file": ...}): a member uploads a file carrying
planted sensitive values (and creates its public link), and the change reaches every surface the
near-real-time content inspection path reads - files.list / files.info, the file host, the Audit Logs
API (file_uploaded, file_public_link_created) and the ground truth - and a sync of the files and
activities stages makes runner.content_scan.changed_files name the new file."""

from __future__ import annotations

import collections
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from saaslens import settings
from saaslens.config import InstanceConfig
from saaslens.dlp.extract import open_extraction
from saaslens.dlp.inspect import inspect_pieces
from saaslens.dlp.policies import load_policies
from saaslens.lake.writer import Lake
from saaslens.runner.content_scan import changed_files
from saaslens_sandbox.core import RateLimitConfig, SandboxServer, TenantSpec
from tests.e2e.lake_sync import sync

APP = "slack"
TENANT = "uploads"
# An hour ago: the generated audit history ends there, so a sync after the upload reads only new entries.
ANCHOR = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0)
OWNER = {"Authorization": f"Bearer xoxp-sandbox-{TENANT}-owner"}
SYNC_OPTIONS = {"activities_lag_seconds": 0}
KEY = b"test-sandbox-slack-upload-key"


@pytest.fixture(scope="module")
def server():
    spec = TenantSpec(
        app=APP,
        name=TENANT,
        seed=35,
        users=60,
        options={"anchor": ANCHOR.isoformat(), "files": 30},
        rate_limits=RateLimitConfig(enabled=False),
    )
    with SandboxServer([spec]) as running:
        yield running


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server.url, timeout=30) as c:
        yield c


def personality(server: SandboxServer) -> Any:
    return server.personality(APP, TENANT)


def advance(client: httpx.Client, body: Any) -> httpx.Response:
    return client.post(f"/_sandbox/{APP}/{TENANT}/advance", json=body)


def api(client: httpx.Client, method: str, **params: Any) -> dict[str, Any]:
    response = client.get(f"/{APP}/{TENANT}/{method}", params=params, headers=OWNER)
    assert response.status_code == 200, response.text
    return response.json()


def audit(client: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    response = client.get(f"/{APP}/{TENANT}/audit/v1/logs", params={"limit": 9999, **params}, headers=OWNER)
    assert response.status_code == 200, response.text
    return response.json()["entries"]


def scanned_counts(data: bytes, name: str, mime_type: str, directory: Path) -> dict[str, int]:
    """What saaslens' own extraction and detectors report in the bytes, by detector."""
    policies = load_policies(settings.INCLUDE_DIR / "dlp_policies.yaml")
    path = directory / ("content" + Path(name).suffix)
    path.write_bytes(data)
    extraction = open_extraction(path, name=name, mime_type=mime_type)
    inspection = inspect_pieces(
        extraction.chunks(), policies.build_detectors(), KEY, min_confidence=policies.detectors.min_confidence
    )
    return {d: s.count for d, s in inspection.found.items() if s.count}


@pytest.fixture(scope="module")
def before(server) -> dict[str, Any]:
    """The ground truth before any upload."""
    return personality(server).ground_truth()


@pytest.fixture(scope="module")
def upload(client, before) -> dict[str, Any]:
    started = time.time()
    response = advance(client, {"upload_file": {"public": True}})
    assert response.status_code == 200, response.text
    body = response.json()
    assert started <= body["visible_at"] <= time.time()
    return body


def test_the_answer_names_a_new_file_with_a_planted_card_or_credential(upload, before):
    assert upload["file_id"].startswith("F")
    assert upload["file_id"] not in {f["id"] for f in before["files"]}
    assert upload["audit_actions"] == ["file_uploaded", "file_public_link_created"]
    assert upload["public"] is True
    assert upload["name"].rsplit(".", 1)[-1] in ("txt", "csv", "docx")
    assert any(d == "payment_card" or d.startswith("credential") for d in upload["planted"])
    assert all(isinstance(n, int) and n > 0 for n in upload["planted"].values())


def test_files_list_and_files_info_answer_the_uploaded_file(client, upload, before):
    listed = api(client, "files.list", count=1000)
    assert listed["ok"] is True
    assert listed["files"][0]["id"] == upload["file_id"]  # newest first
    assert listed["paging"]["total"] == len(before["files"]) + 1
    file = listed["files"][0]
    uploader = next(u for u in before["users"] if u["id"] == upload["user_id"])
    assert file["user"] == upload["user_id"]
    assert not (uploader.get("is_admin") or uploader.get("is_restricted") or uploader.get("deleted"))
    assert file["created"] == upload["created"] and abs(file["created"] - upload["visible_at"]) < 2
    assert file["mode"] == "hosted" and file["is_external"] is False
    assert file["public_url_shared"] is True and file["is_public"] is True
    channel = file["channels"][0]
    assert file["channels"] == [channel] and file["groups"] == [] and file["ims"] == []
    assert list(file["shares"]["public"]) == [channel]
    assert file["shares"]["public"][channel][0]["share_user_id"] == upload["user_id"]
    info = api(client, "files.info", file=upload["file_id"])
    assert info["file"] == file
    # Only the files it was uploaded by and in filter to it.
    assert upload["file_id"] in {f["id"] for f in api(client, "files.list", user=upload["user_id"])["files"]}
    assert upload["file_id"] in {f["id"] for f in api(client, "files.list", channel=channel)["files"]}


def test_its_download_serves_the_planted_values_the_answer_counts(client, upload, tmp_path):
    file = api(client, "files.info", file=upload["file_id"])["file"]
    response = httpx.get(file["url_private_download"], headers=OWNER, timeout=30)
    assert response.status_code == 200
    assert len(response.content) == file["size"] > 0
    private = httpx.get(file["url_private"], headers=OWNER, timeout=30)
    assert private.content == response.content
    found = scanned_counts(response.content, file["name"], file["mimetype"], tmp_path)
    assert found == upload["planted"]


def test_the_audit_log_lists_both_entries_by_the_uploader_on_the_file(client, upload):
    entries = [
        e
        for e in audit(client, oldest=int(upload["visible_at"]) - 5)
        if (e["entity"].get("file") or {}).get("id") == upload["file_id"]
    ]
    assert [e["action"] for e in entries] == ["file_public_link_created", "file_uploaded"]  # newest first
    assert [e["id"] for e in reversed(entries)] == upload["audit_ids"]
    for entry in entries:
        assert entry["actor"]["user"]["id"] == upload["user_id"]
        assert entry["entity"]["type"] == "file"
        assert entry["entity"]["file"]["name"] == upload["name"]
        assert entry["date_create"] <= upload["visible_at"]
    by_entity = audit(client, entity=upload["file_id"])
    assert {e["action"] for e in by_entity} == {"file_uploaded", "file_public_link_created"}


def test_older_audit_entries_still_name_the_same_files(server, upload, before):
    """Audit entries name files by position: the upload moved every file after it by one."""
    after = personality(server).ground_truth()["audit_logs"]
    assert after[: len(before["audit_logs"])] == before["audit_logs"]


def test_the_ground_truth_includes_the_file_and_its_findings(server, upload):
    truth = personality(server).ground_truth()
    file_id = upload["file_id"]
    assert file_id in {f["id"] for f in truth["files"]}
    assert truth["dlp"]["expect"][file_id] == "scanned"
    assert truth["dlp"]["matches"][file_id] == upload["planted"]
    planted = truth["dlp"]["planted_values"][file_id]
    assert len(planted) >= 1 and len(planted) <= sum(upload["planted"].values())


def test_a_private_upload_without_a_link_writes_file_uploaded_only(client, upload):
    body = {"upload_file": {"public": False, "channel_type": "private_channel", "name": "q4-payroll.csv"}}
    response = advance(client, body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["file_id"] != upload["file_id"] and answer["name"] == "q4-payroll.csv"
    assert answer["audit_actions"] == ["file_uploaded"]
    file = api(client, "files.info", file=answer["file_id"])["file"]
    assert file["filetype"] == "csv" and file["mimetype"] == "text/csv"
    assert file["is_public"] is False and file["public_url_shared"] is False
    assert file["channels"] == [] and len(file["groups"]) == 1 and list(file["shares"]) == ["private"]
    actions = [e["action"] for e in audit(client, entity=answer["file_id"])]
    assert actions == ["file_uploaded"]


def test_a_named_uploader_is_the_actor(client, before):
    admin = next(u for u in before["users"] if u.get("is_admin") and not u.get("deleted") and not u.get("is_bot"))
    response = advance(client, {"upload_file": {"user_id": admin["id"], "public": True, "name": "keys.docx"}})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["user_id"] == admin["id"]
    assert {e["actor"]["user"]["id"] for e in audit(client, entity=answer["file_id"])} == {admin["id"]}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"upload_file": {"public": True, "colour": "red"}},
        {"something_else": {}},
        {"upload_file": {"user_id": "WNOSUCHUSER"}},
        {"upload_file": {"name": "../etc/passwd"}},
        {"upload_file": {"name": ""}},
        {"upload_file": {"channel_type": "im"}},
    ],
)
def test_invalid_changes_are_400_and_change_nothing(client, server, body):
    count = len(personality(server).tenant.files)
    response = advance(client, body)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid advance body"
    assert len(personality(server).tenant.files) == count


def test_a_deactivated_member_cannot_upload(client, before):
    gone = next(u for u in before["users"] if u.get("deleted") and not u.get("is_bot") and u["id"] != "USLACKBOT")
    assert advance(client, {"upload_file": {"user_id": gone["id"]}}).status_code == 400


def test_a_sync_of_files_and_activities_names_the_upload_as_changed(server, client, tmp_path):
    lake = Lake(tmp_path / "lake")
    truth = personality(server).ground_truth()
    sync(server, lake, APP, TENANT, truth, stages=["authenticate", "files", "activities"], options=SYNC_OPTIONS)
    answer = advance(client, {"upload_file": {"public": True}}).json()
    since = datetime.now(UTC)
    sync(server, lake, APP, TENANT, truth, stages=["authenticate", "files", "activities"], options=SYNC_OPTIONS)
    files = lake.read_snapshot("files", APP, TENANT).to_pylist()
    assert answer["file_id"] in {row["file_id"] for row in files}
    instance = InstanceConfig(app=APP, name=TENANT, conn_id=f"{APP}_{TENANT}", options=SYNC_OPTIONS)
    changed = changed_files(lake, instance, since)
    assert changed is not None and answer["file_id"] in changed
    # Nothing older than the generated history's end is named: only uploads (this one and the earlier tests').
    uploads = {
        (e["entity"].get("file") or {}).get("id")
        for e in audit(client, oldest=int(ANCHOR.timestamp()) + 1)
        if e["action"] in ("file_uploaded", "file_public_link_created")
    }
    assert set(changed) <= uploads
    assert collections.Counter(changed)[answer["file_id"]] == 1
