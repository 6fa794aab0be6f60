"""The compliance report over a lake scanned from sandbox tenants, read as a person would read it:
opened in headless Chromium (Debian's package, `make chromium`), with its charts, and without any
credential the scans used.

The tenants share one workforce (planted leavers, admins without MFA, public files, broad grants,
a sign-in spike), so findings have rows; a third instance's credentials are wrong, so its scan
fails, and a fourth is configured but never scanned: the report must flag both.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
from datetime import UTC, datetime

import pyarrow.parquet as pq
import pytest
import yaml

from bench.sync_throughput import EVENT_OPTION, connection_for
from saaslens.config import InstanceConfig
from saaslens.connections import ConnectionInfo
from saaslens.connectors import registry
from saaslens.findings import load_findings, run_finding
from saaslens.lake.writer import Lake, snapshot_id_for
from saaslens.reports.build import build_report, open_catalog
from saaslens.runner import CredentialsRejected, RunContext, StageFailed, run_stage
from saaslens_sandbox.core import SandboxServer, TenantSpec
from tests.e2e.okta_helpers import ANCHOR

pytestmark = pytest.mark.integration

SCANNED = (("okta", "corp", 60), ("google_workspace", "corp", 40))
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)


@pytest.fixture(scope="module")
def scanned(tmp_path_factory):
    """A lake with two scanned instances of one workforce, one failed scan; and the secrets used."""
    root = tmp_path_factory.mktemp("report")
    lake = Lake(root / "lake")
    specs = [
        TenantSpec(
            app=app,
            name=name,
            seed=5,
            users=users,
            options={"workforce": "acme", "anchor": ANCHOR.isoformat(), EVENT_OPTION.get(app, "events"): 400},
        )
        for app, name, users in SCANNED
    ]
    needles: set[str] = set()
    with SandboxServer(specs) as server:
        ctx = RunContext(run_id="report-e2e", snapshot_id=snapshot_id_for(datetime.now(UTC)))
        for app, name, _ in SCANNED:
            truth = server.personality(app, name).ground_truth()
            connection = connection_for(app, server.tenant_url(app, name), truth["credentials"], None)
            needles |= _secrets_of(connection)
            instance = InstanceConfig(app=app, name=name, conn_id=f"{app}_{name}")
            for stage in registry.app_spec(app).stage_names:
                result = run_stage(instance, stage, ctx, lake, connection=connection)
                assert result.status == "success", (app, stage, result.detail)
        # The same Okta org behind an instance whose token was revoked: its scan fails.
        wrong = "sandbox-okta-revoked-token-000000"
        broken = ConnectionInfo("okta_broken", "http", host=server.tenant_url("okta", "corp"), password=wrong)
        needles.add(wrong)
        with pytest.raises((CredentialsRejected, StageFailed)):
            run_stage(
                InstanceConfig(app="okta", name="broken", conn_id="okta_broken"),
                "authenticate",
                ctx,
                lake,
                connection=broken,
            )
    config = root / "connected_apps.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "instances": [
                    *(
                        {"app": app, "name": name, "conn_id": f"{app}_{name}", "schedule": "@daily"}
                        for app, name, _ in SCANNED
                    ),
                    {"app": "okta", "name": "broken", "conn_id": "okta_broken", "schedule": "@daily"},
                    {"app": "slack", "name": "idle", "conn_id": "slack_idle", "schedule": "@hourly"},
                ]
            }
        )
    )
    report = build_report(lake.root, config=config, now=datetime.now(UTC))
    return {"lake": lake.root, "config": config, "report": report, "needles": {n for n in needles if len(n) >= 8}}


def _secrets_of(connection: ConnectionInfo) -> set[str]:
    values = {connection.password or ""}
    values |= {str(v) for k, v in connection.extra.items() if "secret" in k or "key" in k}
    if connection.password and connection.password.startswith("{"):  # a service-account key file
        values |= {str(v) for k, v in json.loads(connection.password).items() if k in ("private_key", "private_key_id")}
        values |= {line for line in json.loads(connection.password)["private_key"].splitlines() if len(line) > 20}
    return {v for v in values if v}


def test_every_finding_is_written_as_csv_and_parquet_with_the_rows_it_returns(scanned):
    report = scanned["report"]
    directory = report.directory
    assert directory == scanned["lake"] / "reports" / datetime.now(UTC).date().isoformat()
    assert report.failed_findings == {}
    findings = load_findings()
    assert {f.id for f in findings} == set(report.counts)
    with open_catalog(scanned["lake"]) as con:
        for finding in findings:
            expected = run_finding(
                con, finding, {"as_of": datetime.now(UTC).isoformat()} if "as_of" in finding.params else {}
            )
            parquet = pq.read_table(directory / f"{finding.id}.parquet")
            with open(directory / f"{finding.id}.csv", newline="") as handle:
                rows = list(csv.DictReader(handle))
            assert parquet.num_rows == len(rows) == expected.num_rows == report.counts[finding.id], finding.id
            assert set(finding.key) <= set(parquet.column_names)
            assert "raw" not in parquet.column_names and all("raw" not in row for row in rows)
    # The planted workforce shows up: these findings are not empty on this lake.
    for finding_id in ("orphaned_accounts", "privileged_accounts", "exposed_files", "failed_signin_spikes"):
        assert report.counts[finding_id] > 0, finding_id
    # Nothing is left behind by the atomic write.
    assert [p.name for p in directory.parent.iterdir()] == [directory.name]


def test_failed_and_never_scanned_instances_are_flagged(scanned):
    report = scanned["report"]
    assert set(report.not_current) == {"okta/broken", "slack/idle"}
    page = (report.directory / "report.html").read_text()
    alert = re.search(r'<div class="alert" id="not-current">(.*?)</div>', page, re.S).group(1)
    assert "okta/broken (last scan failed)" in alert and "slack/idle (never scanned)" in alert
    assert "okta/corp" not in alert and "google_workspace/corp" not in alert
    summary = json.loads((report.directory / "summary.json").read_text())
    assert summary["instances"]["okta/broken"]["stages"]["authenticate"] == "failed"
    assert summary["instances"]["okta/corp"]["state"] == "ok"
    # A finding over accounts warns that okta/broken's data is missing, so its empty share is not "clean".
    section = page.split('id="finding-privileged-accounts"')[1].split("</section>")[0]
    assert "Incomplete" in section and "okta/broken" in section


def _chromium() -> str:
    path = shutil.which("chromium")
    assert path, "Debian's chromium is not installed: run `make chromium` (make test does)"
    return path


def test_report_renders_in_headless_chromium_with_its_charts_and_no_secret(scanned, tmp_path):
    html = scanned["report"].html
    base = [_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([*base, "--dump-dom", html.as_uri()], capture_output=True, text=True, timeout=120, check=False)
    assert dom.returncode == 0, dom.stderr[-2000:]
    rendered = dom.stdout
    # The DOM Chromium built holds the four charts, drawn (bars, lines or points), and every finding.
    charts = re.findall(r'<svg class="chart".*?</svg>', rendered, re.S)
    assert len(charts) == 4, len(charts)
    labels = [re.search(r'aria-label="([^"]+)"', c).group(1) for c in charts]
    assert labels == [
        "Accounts by status per instance",
        "Admins per instance over time",
        "Failed sign-ins per day",
        "Files by visibility per instance",
    ]
    for label, chart in zip(labels, charts, strict=True):
        assert re.search(r'class="(bar|point)"', chart), f"{label} has nothing drawn"
    for finding in load_findings():
        assert f'id="finding-{finding.id.replace("_", "-")}"' in rendered
    assert "<script" not in rendered.lower()
    # A screenshot that is not blank. PNG compresses a uniform page to almost nothing, so the
    # report's screenshot must be many times the size of a blank page's at the same window size.
    blank = tmp_path / "blank.html"
    blank.write_text("<!DOCTYPE html><html><body></body></html>")
    sizes = {}
    for name, page in (("report", html), ("blank", blank)):
        shot = tmp_path / f"{name}.png"
        painted = subprocess.run(
            [*base, "--window-size=1200,2400", f"--screenshot={shot}", page.as_uri()],
            capture_output=True,
            timeout=120,
            check=False,
        )
        assert painted.returncode == 0 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", painted.stderr[-2000:]
        sizes[name] = shot.stat().st_size
    assert sizes["report"] > 20 * sizes["blank"], sizes
    # No credential the scans used, in the page or in any file of the report.
    for path in scanned["report"].directory.iterdir():
        data = (
            json.dumps(pq.read_table(path).to_pylist(), default=str)
            if path.suffix == ".parquet"
            else path.read_text(errors="replace")
        )
        leaked = [n[:6] + "..." for n in scanned["needles"] if n in data]
        assert not leaked, f"{path.name} contains {leaked}"
    leaked = [n[:6] + "..." for n in scanned["needles"] if n in rendered]
    assert not leaked
