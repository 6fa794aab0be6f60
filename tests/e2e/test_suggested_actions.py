"""Findings suggest actions, end to end: five apps' tenants sharing one planted workforce are
synced, each finding that suggests a remedy is run on the catalog, and every target it names is
planned (a dry run through the governance engine, with each app's action connection): the lake
keys the finding returns are the ones the actions take, and planning sends no change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from saaslens import governance
from saaslens.catalog.build import build_catalog, connect
from saaslens.config import InstanceConfig
from saaslens.findings import load_findings, run_finding, suggestion_targets, with_suggested_actions
from saaslens.lake.writer import Lake
from saaslens_sandbox.core import RateLimitConfig, SandboxServer, TenantSpec
from tests.e2e.lake_sync import actions_connection, sync
from tests.oracles.workforce import APPS

pytestmark = pytest.mark.integration
TENANT = "acme"
INSTANCE = "main"
ANCHOR = (datetime.now(UTC) - timedelta(minutes=10)).replace(microsecond=0)
# Results a dry run may record: planned, or settled without a change (a guard rail, nothing to do).
DRY_RESULTS = {governance.PLANNED, governance.REFUSED, governance.ALREADY_APPLIED}


def test_every_suggested_target_plans_without_a_change(tmp_path):
    specs = [
        TenantSpec(
            app=app,
            name=TENANT,
            seed=40 + k,
            users=25,
            options={"anchor": ANCHOR.isoformat(), "workforce": "acme"},
            rate_limits=RateLimitConfig(enabled=False),
        )
        for k, app in enumerate(APPS)
    ]
    lake = Lake(tmp_path / "lake")
    suggesting = [f for f in load_findings() if f.suggests is not None]
    assert {f.id for f in suggesting} >= {"orphaned_accounts", "grants_of_inactive_accounts", "exposed_files"}
    planned: dict[str, int] = {}
    with SandboxServer(specs, port=0) as server:
        truths = {app: server.personality(app, TENANT).ground_truth() for app in APPS}
        for app in APPS:
            sync(server, lake, app, TENANT, truths[app], instance_name=INSTANCE)
        build_catalog(lake.root)
        started = datetime.now(UTC).timestamp()
        with connect(lake.root) as con:
            results = {f.id: with_suggested_actions(f, run_finding(con, f, {})) for f in suggesting}
        for finding in suggesting:
            table = results[finding.id]
            assert "suggested_action" in table.column_names
            for (app, instance, action), targets in suggestion_targets(finding, table.to_pylist()).items():
                connection = actions_connection(server, app, TENANT, truths[app])
                config = InstanceConfig(app=app, name=instance, conn_id="scan", actions_conn_id=connection.conn_id)
                request = governance.GovernanceRequest(
                    app=app,
                    instance=instance,
                    action=action,
                    targets=tuple(targets[:5]),
                    requested_by="test",
                    requested_at=datetime.now(UTC),
                    run_id=f"suggested-{finding.id}",
                )
                rows = governance.act(config, request, lake, connection=connection)
                assert {r["result"] for r in rows} <= DRY_RESULTS, (finding.id, app, rows)
                planned[f"{finding.id}:{app}"] = sum(r["result"] == governance.PLANNED for r in rows)
        log = httpx.get(f"{server.url}/_sandbox/requests", timeout=30).json()
    writes = [e for e in log if e["at"] >= started and e["method"] != "GET" and not e["raw_path"].endswith("/token")]
    # Slack's Web API reads are POSTs too (users.info is a form post by Slack's spec): none changes anything.
    assert all(e["raw_path"].rsplit("/", 1)[-1] in ("users.info", "files.info", "auth.test") for e in writes), writes
    # The planted workforce gives the findings rows in several apps, and their targets plan.
    assert sum(planned.values()) > 0, planned
    assert any(key.startswith("orphaned_accounts:") and n for key, n in planned.items()), planned
