"""The report over small generated lakes (bench/report_bench.py's generator, the lake's own layout):
escaping, freshness flags, atomic writes, bad inputs and the `saaslens report` command. Fast: no
sandbox, no browser."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from bench.report_bench import HOSTILE, generate_lake
from saaslens.findings import FindingError
from saaslens.reports import build as report_build
from saaslens.reports.build import ReportError, build_report
from saaslens.reports.freshness import DEFAULT_STALE_AFTER, schedule_interval, stale_after

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
INSTANCES = [("okta", "hq"), ("google_workspace", "hq"), ("slack", "eng")]


@pytest.fixture(scope="module")
def lake(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("synthetic") / "lake"
    generate_lake(
        root,
        INSTANCES,
        accounts_per_instance=120,
        events_per_instance=3000,
        now=NOW,
        failed=frozenset({("google_workspace", "hq")}),
        stale=frozenset({("slack", "eng")}),
        hostile=True,
    )
    return root


def parse_tags(page: str) -> list[tuple[str, list[tuple[str, str]]]]:
    from html.parser import HTMLParser

    class Collector(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.tags: list[tuple[str, list[tuple[str, str]]]] = []

        def handle_starttag(self, tag, attrs):
            self.tags.append((tag, [(k, v or "") for k, v in attrs]))

    collector = Collector()
    collector.feed(page)
    return collector.tags


def config_file(tmp_path: Path, schedules: dict[tuple[str, str], str | None]) -> Path:
    path = tmp_path / "apps.yaml"
    entries = [{"app": a, "name": n, "conn_id": f"{a}_{n}", "schedule": s} for (a, n), s in schedules.items()]
    path.write_text(yaml.safe_dump({"instances": entries}))
    return path


def test_values_are_escaped_and_the_page_loads_nothing(lake, tmp_path):
    config = config_file(tmp_path, dict.fromkeys(INSTANCES, "@daily"))
    result = build_report(lake, out_dir=tmp_path / "out", now=NOW, config=config, max_rows=500)
    page = result.html.read_text()
    # The hostile display name is in the lake and reaches the report only escaped.
    assert "&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;" in page
    assert HOSTILE not in page
    # As a browser parses it: no element that runs or fetches, no event handler, links only in-page.
    tags = parse_tags(page)
    assert not {name for name, _ in tags} & {"script", "img", "link", "iframe", "object", "embed", "base"}
    attributes = [(name, key, value) for name, attrs in tags for key, value in attrs]
    assert not [a for a in attributes if a[1].startswith("on") or a[1] == "src"]
    assert all(value.startswith("#") for _, key, value in attributes if key == "href")
    assert not re.search(r"@import|url\(", page)
    assert "default-src 'none'" in page  # and the browser is told to fetch nothing
    # Raw JSON never reaches the report, not even as a column of a finding's files.
    for path in result.directory.glob("*.parquet"):
        assert "raw" not in pq.read_schema(path).names


def test_freshness_flags_failed_stale_and_never_scanned(lake, tmp_path):
    schedules = {**dict.fromkeys(INSTANCES, "@daily"), ("github", "unscanned"): "@daily"}
    result = build_report(lake, out_dir=tmp_path / "out", now=NOW, config=config_file(tmp_path, schedules))
    assert set(result.not_current) == {"google_workspace/hq", "slack/eng", "github/unscanned"}
    page = result.html.read_text()
    assert "google_workspace/hq (last scan failed)" in page
    assert "slack/eng (stale)" in page and "github/unscanned (never scanned)" in page
    assert "HTTP 503 from the provider" in page  # the failed stage's own error
    # A weekly schedule tolerates the 5-day-old scan: stale after two weeks, not two days.
    weekly = {**schedules, ("slack", "eng"): "@weekly"}
    result = build_report(lake, out_dir=tmp_path / "weekly", now=NOW, config=config_file(tmp_path, weekly))
    assert "slack/eng" not in result.not_current
    # An explicit stale-after overrides every schedule.
    result = build_report(
        lake, out_dir=tmp_path / "strict", now=NOW, config=config_file(tmp_path, weekly), stale_after=timedelta(hours=1)
    )
    assert "slack/eng" in result.not_current


def test_stale_after_follows_the_schedule():
    assert stale_after("@hourly") == timedelta(hours=2)
    assert stale_after("@daily") == timedelta(days=2)
    assert stale_after(None) == DEFAULT_STALE_AFTER == timedelta(hours=48)
    assert stale_after("not a schedule") == DEFAULT_STALE_AFTER
    assert schedule_interval("0 9 * * 1-5") == timedelta(days=3)  # weekdays: the weekend is the longest gap
    assert schedule_interval("*/15 * * * *") == timedelta(minutes=15)


def test_rows_are_capped_in_the_page_and_complete_in_the_files(lake, tmp_path):
    result = build_report(lake, out_dir=tmp_path / "out", now=NOW, max_rows=5)
    count = result.counts["dormant_accounts"]
    assert count > 5
    page = result.html.read_text()
    section = page.split('id="finding-dormant-accounts"')[1].split("</section>")[0]
    assert section.count("<tr>") == 1 + 5  # header and five rows
    assert f"{count - 5:,} more in the CSV" in section
    assert pq.read_table(result.directory / "dormant_accounts.parquet").num_rows == count


def test_a_failing_build_leaves_no_directory_and_keeps_the_previous_report(lake, tmp_path, monkeypatch):
    target = tmp_path / "reports" / "2026-11-20"
    first = build_report(lake, out_dir=target, now=NOW)
    before = first.html.read_text()

    def broken(*args, **kwargs):
        raise OSError("disk full while writing the CSV")

    monkeypatch.setattr(report_build.pacsv, "write_csv", broken)
    with pytest.raises(OSError, match="disk full"):
        build_report(lake, out_dir=target, now=NOW + timedelta(hours=1))
    assert sorted(p.name for p in target.parent.iterdir()) == ["2026-11-20"]  # no temporary directory left
    assert (target / "report.html").read_text() == before


def test_a_broken_finding_is_shown_as_broken_not_as_empty(lake, tmp_path):
    findings = tmp_path / "findings"
    findings.mkdir()
    (findings / "broken.sql").write_text(
        "-- title: Broken\n-- description: Reads a column that does not exist.\n-- severity: low\n"
        "-- key: app, instance\nselect app, instance, no_such_column from accounts\n"
    )
    (findings / "admins.sql").write_text(
        "-- title: Admins\n-- description: Admins.\n-- severity: info\n-- key: app, instance, account_id\n"
        "select app, instance, account_id from accounts where is_admin\n"
    )
    result = build_report(lake, out_dir=tmp_path / "out", now=NOW, findings_dir=findings)
    assert set(result.failed_findings) == {"broken"} and "no_such_column" in result.failed_findings["broken"]
    assert result.counts["admins"] > 0
    page = result.html.read_text()
    assert "This finding failed to run" in page
    assert not (result.directory / "broken.csv").exists()


def test_bad_inputs_name_what_is_wrong(lake, tmp_path):
    with pytest.raises(ReportError, match="does not exist"):
        build_report(tmp_path / "no-lake", out_dir=tmp_path / "out")
    with pytest.raises(ReportError, match="unknown finding 'nope'"):
        build_report(lake, out_dir=tmp_path / "out", params={"nope": {"x": 1}})
    with pytest.raises(ReportError, match="max_rows"):
        build_report(lake, out_dir=tmp_path / "out", max_rows=0)
    result = build_report(lake, out_dir=tmp_path / "out", now=NOW, params={"dormant_accounts": {"dormant_days": 1}})
    assert "dormant_days = 1" in result.html.read_text()
    with pytest.raises(FindingError, match="dormant_days"):
        build_report(lake, out_dir=tmp_path / "out2", now=NOW, params={"dormant_accounts": {"dormant_days": "x"}})
    assert not (tmp_path / "out2").exists()


def test_cli_writes_the_dated_directory_and_prints_the_path(lake, tmp_path):
    env = {**os.environ, "SAASLENS_LAKE": str(lake), "SAASLENS_CONFIG": str(config_file(tmp_path, {}))}
    done = subprocess.run(
        [sys.executable, "-m", "saaslens.cli", "report", "--date", "2026-11-19"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    html = Path(done.stdout.strip().splitlines()[-1])
    assert html == lake.resolve() / "reports" / "2026-11-19" / "report.html" and html.exists()
    assert "is not current" in done.stderr  # the generated lake's scans are old by now
    bad = subprocess.run(
        [sys.executable, "-m", "saaslens.cli", "report", "--date", "19/11/2026"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    assert bad.returncode == 2 and "'19/11/2026' is not a date in the form YYYY-MM-DD" in bad.stderr
    assert date.fromisoformat("2026-11-19")  # the format the message asks for


def test_a_finding_no_instance_can_answer_says_so(tmp_path):
    """Okta lists no files: "no exposed files" must not read as a clean result."""
    root = tmp_path / "lake"
    generate_lake(root, [("okta", "solo")], accounts_per_instance=50, events_per_instance=200, now=NOW)
    result = build_report(root, out_dir=tmp_path / "out", now=NOW, config=config_file(tmp_path, {}))
    page = result.html.read_text()
    files_section = page.split('id="finding-exposed-files"')[1].split("</section>")[0]
    assert "No enabled instance collects what this finding reads (stage files)" in files_section
    accounts_section = page.split('id="finding-external-accounts"')[1].split("</section>")[0]
    assert "No enabled instance collects" not in accounts_section
    assert "no files collected" in page  # the sharing chart says why it is empty


def test_an_empty_lake_reports_every_instance_as_never_scanned(tmp_path):
    (tmp_path / "lake").mkdir()
    config = config_file(tmp_path, {("okta", "new"): "@daily", ("slack", "new"): None})
    result = build_report(tmp_path / "lake", out_dir=tmp_path / "out", now=NOW, config=config)
    assert set(result.not_current) == {"okta/new", "slack/new"}
    assert set(result.counts.values()) == {0}
    page = result.html.read_text()
    assert page.count("<strong>Incomplete:</strong>") == len(result.counts)  # no finding looks clean
    assert "No rows, and every instance it reads is current" not in page
