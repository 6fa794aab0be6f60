"""Every finding, end to end: five apps' sandbox tenants sharing one planted workforce are synced
into a lake through the connectors, the catalog is built, and each finding's rows must equal what
the workforce oracle computes from the tenants' ground truth (tests/oracles/workforce.py)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from saaslens.catalog.build import build_catalog, connect
from saaslens.findings import load_findings, run_finding
from saaslens.lake.writer import Lake
from saaslens_sandbox.core import RateLimitConfig, SandboxServer, TenantSpec
from saaslens_sandbox.workforce import workforce
from tests.e2e.lake_sync import sync
from tests.oracles.workforce import APPS, FINDING_IDS, expected_findings, planted_cases

pytestmark = pytest.mark.integration

ORG = "acme"
TENANT = "acme"
ROOT = Path(__file__).resolve().parents[2]
# Every app's instance has the same name, so the findings must tell instances apart by (app, instance).
INSTANCE = "main"
CONTENT_FINDING_IDS = {"dlp_policy_violations", "sensitive_files_with_public_links"}
ANCHOR = (datetime.now(UTC) - timedelta(minutes=10)).replace(microsecond=0)


@pytest.fixture(scope="module")
def synced(tmp_path_factory) -> dict[str, Any]:
    """Sync the five tenants, advance Okta (one admin granted, one revoked), sync Okta again."""
    specs = [
        TenantSpec(
            app=app,
            name=TENANT,
            seed=40 + k,
            users=25,
            options={"anchor": ANCHOR.isoformat(), "workforce": ORG},
            rate_limits=RateLimitConfig(enabled=False),
        )
        for k, app in enumerate(APPS)
    ]
    lake_root = tmp_path_factory.mktemp("findings") / "lake"
    lake = Lake(lake_root)
    with SandboxServer(specs, port=0) as server:
        truths = {(app, TENANT): server.personality(app, TENANT).ground_truth() for app in APPS}
        first = datetime.now(UTC)
        for app in APPS:
            sync(server, lake, app, TENANT, truths[(app, TENANT)], instance_name=INSTANCE, moment=first)
        okta = server.personality("okta", TENANT)
        previous = {("okta", TENANT): truths[("okta", TENANT)]}
        wf = workforce(ORG)
        okta.advance(
            {"admins_granted": [wf.person("promoted").email], "admins_revoked": [wf.person("okta_admin").email]}
        )
        truths[("okta", TENANT)] = okta.ground_truth()
        sync(server, lake, "okta", TENANT, truths[("okta", TENANT)], instance_name=INSTANCE)
    build_catalog(lake_root)
    return {"lake_root": lake_root, "truths": truths, "previous": previous, "as_of": datetime.now(UTC)}


def finding_keys(table, key: tuple[str, ...]) -> set[tuple]:
    return {tuple(row[column] for column in key) for row in table.to_pylist()}


def test_every_finding_equals_the_oracle(synced):
    instances = {(app, TENANT): INSTANCE for app in APPS}
    as_of = synced["as_of"]
    expected = expected_findings(synced["truths"], instances, as_of, previous_truths=synced["previous"])
    findings = {f.id: f for f in load_findings()}
    # The content-inspection findings read scans of file contents, which this workforce does not
    # plant; tests/e2e/test_content_inspection.py compares them with the document corpus' oracle.
    assert set(findings) == set(FINDING_IDS) | CONTENT_FINDING_IDS
    with connect(synced["lake_root"]) as con:
        for finding_id in FINDING_IDS:
            finding = findings[finding_id]
            params = {"as_of": as_of} if "as_of" in finding.params else {}
            got = finding_keys(run_finding(con, finding, params), finding.key)
            assert got == expected[finding_id], (
                f"{finding_id}: missing {sorted(expected[finding_id] - got, key=str)[:10]}, "
                f"unexpected {sorted(got - expected[finding_id], key=str)[:10]}"
            )
            # Every planted case shows up, so no finding passes by being empty on both sides.
            assert got or not planted_cases(ORG)[finding_id], finding_id


def test_findings_parameters_change_the_answer(synced):
    findings = {f.id: f for f in load_findings()}
    as_of = synced["as_of"]
    with connect(synced["lake_root"]) as con:
        default = run_finding(con, findings["dormant_accounts"], {"as_of": as_of}).num_rows
        # 140 days: the planted Entra account idle for 130 days is no longer dormant.
        longer = run_finding(con, findings["dormant_accounts"], {"as_of": as_of, "dormant_days": 140}).num_rows
        assert 0 < longer < default
        spikes = run_finding(con, findings["failed_signin_spikes"], {"as_of": as_of, "threshold": 1000})
        assert spikes.num_rows == 0


# -- docs/analysts.md: every example query runs against a synced lake ------------------------------

_SQL_BLOCK = re.compile(r"```sql\n(.*?)```", re.DOTALL)


def analyst_queries() -> list[str]:
    text = (ROOT / "docs" / "analysts.md").read_text()
    return [block.strip() for block in _SQL_BLOCK.findall(text)]


def test_the_analyst_guide_has_example_queries():
    assert len(analyst_queries()) >= 8


@pytest.mark.parametrize("query", analyst_queries(), ids=lambda q: q.splitlines()[0][:60])
def test_every_example_query_in_the_analyst_guide_runs(synced, query):
    with connect(synced["lake_root"]) as con:
        rows = con.execute(query).fetchall()
    assert rows, "the example returns nothing on a synced workforce lake: it shows the reader nothing"


_PYTHON_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def test_every_python_example_in_the_analyst_guide_runs(synced, monkeypatch, capsys):
    blocks = _PYTHON_BLOCK.findall((ROOT / "docs" / "analysts.md").read_text())
    assert len(blocks) >= 2
    monkeypatch.setenv("SAASLENS_LAKE", str(synced["lake_root"]))
    for block in blocks:
        namespace: dict[str, Any] = {}
        exec(compile(block, "docs/analysts.md", "exec"), namespace)  # noqa: S102 - our own documentation
        if "con" in namespace:
            namespace["con"].close()
    assert "orphaned_accounts high" in capsys.readouterr().out
