"""Which files a content scan reads, the lake's fingerprint key, and the DLP DAG's schedule: pure parts
of saaslens.runner.content_scan and saaslens.orchestration.content_dag."""

from __future__ import annotations

import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from saaslens.connectors.kit import FetchedContent, FileContents
from saaslens.dlp.policies import load_policies
from saaslens.lake.writer import Lake
from saaslens.orchestration.content_dag import DEFAULT_SCHEDULE, content_schedule
from saaslens.runner.content_scan import files_to_scan, fingerprint_key, policy_version

CONTENTS = FileContents(fetch=lambda c, row, sink, cap: FetchedContent(0, None), permission=None, docs="")
V = "v1"
MODIFIED = datetime(2026, 1, 2, tzinfo=UTC)


def row(file_id: str, version: str | None = "c1", modified: datetime = MODIFIED) -> dict:
    return {"file_id": file_id, "content_version": version, "modified_at": modified}


def scan(version: str, status: str = "scanned", policy: str = V) -> dict:
    return {"content_version": version, "status": status, "policy_version": policy}


def test_unscanned_and_changed_files_are_chosen_and_the_rest_left():
    files = [row("new"), row("same"), row("changed", "c2"), row("failed"), row("unreadable")]
    previous = {
        "same": scan("c1"),
        "changed": scan("c1"),
        "failed": scan("c1", "failed"),
        "unreadable": scan("c1", "unreadable"),
    }
    chosen = [r["file_id"] for r in files_to_scan(files, previous, CONTENTS, version=V)]
    assert chosen == ["new", "changed", "failed"]


def test_changed_detector_settings_rescan_everything():
    files = [row("a"), row("b")]
    previous = {"a": scan("c1", policy="old"), "b": scan("c1", policy="old")}
    assert len(files_to_scan(files, previous, CONTENTS, version=V)) == 2


def test_without_a_content_version_the_modified_time_is_the_version():
    files = [row("a", None), row("b", None, datetime(2026, 3, 1, tzinfo=UTC))]
    previous = {"a": scan(MODIFIED.isoformat()), "b": scan(MODIFIED.isoformat())}
    assert [r["file_id"] for r in files_to_scan(files, previous, CONTENTS, version=V)] == ["b"]


def test_an_event_scan_reads_the_named_files_whatever_their_version():
    files = [row("a"), row("b"), row("c")]
    previous = {"a": scan("c1"), "b": scan("c1"), "c": scan("c1")}
    chosen = files_to_scan(files, previous, CONTENTS, version=V, only={"b", "gone"})
    assert [r["file_id"] for r in chosen] == ["b"]


def test_policy_version_follows_detector_settings_not_policies(tmp_path: Path):
    base = load_policies()
    other_policies = base.model_copy(update={"policies": ()})
    other_detectors = base.model_copy(update={"detectors": base.detectors.model_copy(update={"min_confidence": 0.9})})
    assert policy_version(base) == policy_version(other_policies)
    assert policy_version(base) != policy_version(other_detectors)


def test_the_fingerprint_key_is_made_once_and_private(tmp_path: Path):
    lake = Lake(tmp_path)
    key = fingerprint_key(lake)
    path = tmp_path / "_state" / "dlp" / "fingerprint.key"
    assert len(key) == 32 and fingerprint_key(lake) == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.write_bytes(b"short")
    with pytest.raises(ValueError, match=r"fingerprint\.key"):
        fingerprint_key(lake)


def test_the_dag_schedule_comes_from_the_policies_file(tmp_path: Path):
    policies = tmp_path / "p.yaml"
    policies.write_text("version: 1\nscanning:\n  schedule: '*/30 * * * *'\n")
    assert content_schedule(policies) == "*/30 * * * *"
    policies.write_text("version: 1\n")
    assert content_schedule(policies) == DEFAULT_SCHEDULE
    assert content_schedule(tmp_path / "missing.yaml") == DEFAULT_SCHEDULE
