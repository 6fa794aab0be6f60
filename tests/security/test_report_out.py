"""Issue 10, item 1: `saaslens report --out DIR` must never delete what saaslens did not write.

A report directory carries its own marker (`.saaslens-report`); an existing destination is
replaced only when it is empty or is such a report, and the lake itself is never a destination."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from bench.report_bench import generate_lake
from saaslens.reports.build import ReportError, build_report

REPORT_MARKER = ".saaslens-report"  # the name docs/reports.md gives
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def lake(tmp_path) -> Path:
    """A small lake of its own per test: a failure here may well be a deleted lake."""
    root = tmp_path / "lake"
    generate_lake(root, [("okta", "hq")], accounts_per_instance=40, events_per_instance=200, now=NOW)
    return root


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_a_directory_holding_a_user_file_is_refused_and_the_file_survives(lake, tmp_path):
    out = tmp_path / "home" / "Documents"
    out.mkdir(parents=True)
    (out / "thesis.docx").write_bytes(b"years of work")
    with pytest.raises(ReportError, match="not a saaslens report directory; refusing to replace it") as caught:
        build_report(lake, out_dir=out, now=NOW)
    assert str(out) in str(caught.value)
    assert (out / "thesis.docx").read_bytes() == b"years of work"
    assert sorted(p.name for p in out.iterdir()) == ["thesis.docx"]
    assert sorted(p.name for p in out.parent.iterdir()) == ["Documents"]  # no staging left beside it


def test_the_lake_root_is_refused_and_the_lake_stays_intact(lake, tmp_path):
    before = _tree(lake)
    with pytest.raises(ReportError, match="lake"):
        build_report(lake, out_dir=lake, now=NOW)
    assert _tree(lake) == before


def test_the_lake_root_is_refused_from_the_command_line_too(lake, tmp_path):
    before = _tree(lake)
    config = tmp_path / "apps.yaml"
    config.write_text(yaml.safe_dump({"instances": []}))
    env = {**os.environ, "SAASLENS_LAKE": str(lake), "SAASLENS_CONFIG": str(config)}
    done = subprocess.run(
        [sys.executable, "-m", "saaslens.cli", "report", "--out", str(lake)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "lake" in done.stderr and str(lake.resolve()) in done.stderr
    assert _tree(lake) == before


@pytest.mark.parametrize("where", ["parent", "inside_not_reports"])
def test_a_directory_containing_the_lake_or_inside_it_outside_reports_is_refused(lake, where):
    out = lake.parent if where == "parent" else lake / "accounts"
    before = _tree(lake)
    with pytest.raises(ReportError, match="lake"):
        build_report(lake, out_dir=out, now=NOW)
    assert _tree(lake) == before


def test_rerunning_the_same_day_replaces_its_own_report(lake, tmp_path):
    out = tmp_path / "reports" / "2026-11-20"
    first = build_report(lake, out_dir=out, now=NOW)
    marker = json.loads((out / REPORT_MARKER).read_text())
    assert marker["version"] == 1 and datetime.fromisoformat(marker["created_at"])
    second = build_report(lake, out_dir=out, now=NOW + timedelta(hours=1))
    assert second.directory == first.directory == out.resolve()
    assert "2026-11-20T13:00:00" in (out / "summary.json").read_text()
    assert sorted(p.name for p in out.parent.iterdir()) == ["2026-11-20"]  # the old one is gone, nothing aside


def test_a_report_directory_a_user_added_files_to_is_refused(lake, tmp_path):
    out = tmp_path / "report"
    build_report(lake, out_dir=out, now=NOW)
    (out / "my-notes.txt").write_text("notes on the findings")
    with pytest.raises(ReportError, match=r"my-notes\.txt"):
        build_report(lake, out_dir=out, now=NOW)
    assert (out / "my-notes.txt").read_text() == "notes on the findings"


def test_a_symlinked_marker_does_not_make_a_directory_a_report(lake, tmp_path):
    real = tmp_path / "real-report"
    build_report(lake, out_dir=real, now=NOW)
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("keep")
    (victim / REPORT_MARKER).symlink_to(real / REPORT_MARKER)
    with pytest.raises(ReportError, match="not a saaslens report directory"):
        build_report(lake, out_dir=victim, now=NOW)
    assert (victim / "keep.txt").read_text() == "keep"


def test_an_empty_directory_is_used(lake, tmp_path):
    out = tmp_path / "empty"
    out.mkdir()
    result = build_report(lake, out_dir=out, now=NOW)
    assert result.html == out.resolve() / "report.html" and result.html.exists()
    assert (out / REPORT_MARKER).is_file()


def test_an_existing_file_is_refused(lake, tmp_path):
    out = tmp_path / "report.txt"
    out.write_text("a file, not a directory")
    with pytest.raises(ReportError, match="not a directory"):
        build_report(lake, out_dir=out, now=NOW)
    assert out.read_text() == "a file, not a directory"


def test_a_report_is_private_to_its_owner_whatever_the_umask(lake, tmp_path):
    """Reports hold personal data, like the lake they come from: files 0600, directories 0700."""
    old = os.umask(0o022)
    try:
        result = build_report(lake, now=NOW)
    finally:
        os.umask(old)
    report_dir = result.directory
    assert oct(report_dir.stat().st_mode & 0o777) == oct(0o700)
    assert oct(report_dir.parent.stat().st_mode & 0o777) == oct(0o700)  # <lake>/reports, made by the report
    files = [p for p in report_dir.iterdir() if p.is_file()]
    assert files
    assert {p.name: oct(p.stat().st_mode & 0o777) for p in files} == {p.name: oct(0o600) for p in files}
