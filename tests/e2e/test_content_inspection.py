"""Content inspection end to end, per app whose files saaslens reads: sync a sandbox tenant, scan its
files' contents, and compare the lake with the sandbox's oracle (every planted value found, no decoy
reported, every hostile file recorded with its reason); then the incremental and event-triggered
scans, and no planted value anywhere in the lake, the logs or the report."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

from saaslens.catalog.build import build_catalog
from saaslens.config import InstanceConfig
from saaslens.connectors import registry
from saaslens.dlp.policies import load_policies
from saaslens.findings import load_findings, run_finding
from saaslens.lake.writer import Lake
from saaslens.reports.build import build_report
from saaslens.runner.content_scan import ContentScanResult, changed_files, scan_contents
from saaslens_sandbox.core import SandboxServer, TenantSpec
from tests.e2e import lake_sync
from tests.oracles.workforce import collect_facts

pytestmark = pytest.mark.integration

APPS = ("google_workspace", "microsoft365", "slack", "box")
SEEDS = {"google_workspace": 61, "microsoft365": 62, "slack": 63, "box": 64}
# Microsoft's file events come from the unified audit log, an optional stream.
OPTIONS = {"microsoft365": {"sharepoint_audit": True, "activities_lag_seconds": 0}}


def test_every_app_that_lists_files_reads_their_contents():
    """The apps with a files stage are exactly the apps with content inspection: none left out."""
    with_files = {spec.app for spec in registry.app_specs() if "files" in spec.stage_names}
    with_contents = {spec.app for spec in registry.app_specs() if spec.contents is not None}
    assert with_files == with_contents == set(APPS)


@pytest.fixture(scope="module")
def server():
    specs = [TenantSpec(app=app, name=f"dlp{app[:5]}", seed=SEEDS[app], users=25) for app in APPS]
    with SandboxServer(specs) as running:
        yield running


def tenant(app: str) -> str:
    return f"dlp{app[:5]}"


def instance(app: str) -> InstanceConfig:
    return InstanceConfig(
        app=app,
        name=tenant(app),
        conn_id=f"{app}_{tenant(app)}",
        options={"max_workers": 2, "retry_initial_backoff_seconds": 0.05, **OPTIONS.get(app, {})},
    )


def scan(server: SandboxServer, lake: Lake, app: str, **kwargs: Any) -> ContentScanResult:
    truth = server.personality(app, tenant(app)).ground_truth()
    conn = lake_sync.connection(server, app, tenant(app), truth)
    run_id = kwargs.pop("run_id", f"test-{datetime.now(UTC):%H%M%S%f}")
    return scan_contents(instance(app), lake, run_id=run_id, connection=conn, **kwargs)


@pytest.fixture(scope="module")
def scanned(server, tmp_path_factory) -> dict[str, tuple[Lake, ContentScanResult, dict[str, Any]]]:
    found = {}
    for app in APPS:
        lake = Lake(tmp_path_factory.mktemp(f"lake-{app}"))
        truth = server.personality(app, tenant(app)).ground_truth()
        lake_sync.sync(server, lake, app, tenant(app), truth, options=OPTIONS.get(app))
        found[app] = (lake, scan(server, lake, app), truth)
    return found


def latest(lake: Lake, sql: str) -> list[tuple[Any, ...]]:
    path = build_catalog(lake.root)
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.mark.parametrize("app", APPS)
def test_matches_equal_the_oracle(scanned, app):
    lake, result, truth = scanned[app]
    expected = {
        (file_id, detector): count
        for file_id, counts in truth["dlp"]["matches"].items()
        for detector, count in counts.items()
        if count
    }
    got = {
        (file_id, detector): int(count)
        for file_id, detector, count in latest(
            lake, "select file_id, detector, sum(count) from dlp_matches_latest group by all"
        )
    }
    missed = {k: v for k, v in expected.items() if got.get(k) != v}
    extra = {k: v for k, v in got.items() if k not in expected}
    assert not missed and not extra, f"missed or miscounted: {missed}; reported without a plant: {extra}"
    assert result.matches == sum(expected.values()) and expected


def expected_dlp_findings(app: str, truth: dict[str, Any]) -> dict[str, set[tuple[str, ...]]]:
    """The two content findings from the tenant's ground truth: the oracle's counts per file and
    detector, each file's exposure as the provider objects give it (tests/oracles), and the policies
    of include/dlp_policies.yaml read as documented (docs/dlp.md): enough hits of a policy's
    detectors (a ``credential:<kind>`` hit counts for ``credential``) at an exposure it names."""
    facts = collect_facts({(app, tenant(app)): truth}, {(app, tenant(app)): tenant(app)})
    visibility = {f.file_id: f.visibility for f in facts.files}
    violations: set[tuple[str, ...]] = set()
    public_links: set[tuple[str, ...]] = set()
    policies = load_policies().policies
    for file_id, counts in truth["dlp"]["matches"].items():
        for policy in policies:
            hits = sum(n for d, n in counts.items() if d in policy.detectors or d.split(":")[0] in policy.detectors)
            if hits < policy.min_count or visibility.get(file_id) not in policy.exposure:
                continue
            violations.add((app, tenant(app), file_id, policy.id))
            if visibility[file_id] == "public" and "remove_public_link" in policy.actions:
                public_links.add((app, tenant(app), file_id))
    return {"dlp_policy_violations": violations, "sensitive_files_with_public_links": public_links}


@pytest.mark.parametrize("app", APPS)
def test_content_findings_equal_the_policies_applied_to_the_oracle(scanned, app):
    lake, _, truth = scanned[app]
    expected = expected_dlp_findings(app, truth)
    findings = {f.id: f for f in load_findings()}
    with duckdb.connect(str(build_catalog(lake.root)), read_only=True) as con:
        for finding_id, keys in expected.items():
            finding = findings[finding_id]
            got = {tuple(row[c] for c in finding.key) for row in run_finding(con, finding, {}).to_pylist()}
            assert got == keys, (finding_id, sorted(got ^ keys)[:10])
    assert expected["dlp_policy_violations"], "the corpus plants values some policy forbids"
    if app != "slack":  # Slack's public files are those with a public link, planted by the workforce
        assert expected["sensitive_files_with_public_links"], "a planted public file breaks a policy"


@pytest.mark.parametrize("app", APPS)
def test_every_file_has_its_expected_outcome(scanned, app):
    lake, result, truth = scanned[app]
    statuses = {
        file_id: (status, reason or "")
        for file_id, status, reason in latest(lake, "select file_id, status, reason from file_scans_latest")
    }
    listed = {row[0] for row in latest(lake, "select file_id from files")}
    wrong = {}
    for file_id, expect in truth["dlp"]["expect"].items():
        status, reason = statuses.get(file_id, ("absent", ""))
        if expect == "scanned":
            ok = status == "scanned"
        elif expect.startswith("unreadable:"):
            ok = status == "unreadable" and reason.startswith(expect.split(":", 1)[1])
        elif expect == "too-large":
            ok = status == "skipped" and reason.startswith("too-large")
        else:
            ok = status == "skipped" and reason.startswith(expect.removeprefix("skipped:"))
        if not ok:
            wrong[file_id] = (expect, status, reason)
    assert not wrong, wrong
    # Every listed file has a scan row (folders and the like as skipped, with the reason): none is silent.
    assert listed <= set(statuses), listed - set(statuses)
    assert result.failed == 0 and result.denied == 0
    kinds = Counter(expect.split(":")[0] for expect in truth["dlp"]["expect"].values())
    assert kinds["unreadable"] >= 2, kinds  # the encrypted pdf and the zip bomb at least


@pytest.mark.parametrize("app", APPS)
def test_an_unchanged_tenant_is_not_scanned_again(server, scanned, app):
    lake, _, _ = scanned[app]
    again = scan(server, lake, app)
    assert again.considered == 0 and again.bytes == 0


@pytest.mark.parametrize("app", APPS)
def test_an_event_scan_reads_only_the_named_files(server, scanned, app):
    lake, _, truth = scanned[app]
    some = sorted(f for f, e in truth["dlp"]["expect"].items() if e == "scanned")[:2]
    result = scan(server, lake, app, trigger="event", file_ids=some)
    assert result.considered == 2 and result.scanned == 2
    triggers = dict(latest(lake, "select file_id, trigger from file_scans_latest"))
    assert {triggers[f] for f in some} == {"event"}


@pytest.mark.parametrize("app", APPS)
def test_changed_files_come_from_the_activities_stage(server, scanned, app):
    """The file ids an event scan gets: activities of the app's change events, read from the lake."""
    lake, _, _ = scanned[app]
    contents = registry.app_spec(app).contents
    assert contents is not None and contents.change_events
    since = datetime.now(UTC) - timedelta(days=1)
    named = changed_files(lake, instance(app), since)
    assert named, "the synced tenant's activities name changed files"
    files = lake.read_snapshot("files", app, tenant(app))
    assert files is not None
    matched = [row["file_id"] for row in files.to_pylist() if contents.names(row) & set(named)]
    assert matched, f"no listed file is named by the change events {named[:5]}"
    # and an event scan of those names reads exactly the files they name
    result = scan(server, lake, app, trigger="event", file_ids=named)
    assert result.considered == len(matched)


def test_no_planted_value_reaches_the_lake_logs_or_report(server, scanned, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    for app in APPS:
        lake, _, truth = scanned[app]
        scan(server, lake, app, trigger="event", file_ids=sorted(truth["dlp"]["matches"]))
        report = build_report(lake.root, report_date=datetime.now(UTC).date())
        # A private key's planted value is its PEM header line, which names the kind of key and holds none
        # of it: the masked preview shows it on purpose (saaslens.dlp.detectors.CredentialDetector).
        planted = {
            v for values in truth["dlp"]["planted_values"].values() for v in values if not v.startswith("-----BEGIN")
        }
        assert planted
        # As written, and as a detector normalizes them (card numbers without their spaces or dashes).
        values = planted | {v.replace(" ", "").replace("-", "") for v in planted}
        haystacks: list[tuple[str, bytes]] = [("log", caplog.text.encode())]
        for path in Path(lake.root).rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                if path.suffix == ".parquet":
                    data = str(pq.read_table(path).to_pylist()).encode()
                haystacks.append((str(path), data))
        haystacks += [(str(p), p.read_bytes()) for p in report.directory.rglob("*") if p.is_file()]
        leaks = [(where, v) for where, data in haystacks for v in values if len(v) >= 8 and v.encode() in data]
        assert not leaks, leaks[:5]
