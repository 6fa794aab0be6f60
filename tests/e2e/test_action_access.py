"""`authenticate` says which declared actions the instance's action connection may perform,
without changing anything: one instance_permissions row per action, yes / no / unknown."""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from datetime import UTC, datetime

import httpx
import pytest

from saaslens.config import InstanceConfig
from saaslens.connectors import registry
from saaslens.lake.writer import Lake, snapshot_id_for
from saaslens.runner import RunContext, run_stage
from saaslens_sandbox.core import SandboxServer, TenantSpec
from tests.e2e.lake_sync import APPS_WITH_SANDBOX, actions_connection, connection

pytestmark = pytest.mark.integration

DROPBOX_READS = re.compile(
    r"/dropbox/[^/]+/2/(team/token/get_authenticated_admin|team/members/(list_v2|list/continue_v2|get_info_v2)"
    r"|team/groups/(list|members/list)(/continue)?|team/linked_apps/list_members_linked_apps"
    r"|team_log/get_events(/continue)?)"
)


def _env(conn) -> str:
    data = asdict(conn)
    data.pop("conn_id")
    return json.dumps(data)


def _action_rows(server, app, tenant, lake, monkeypatch, actions_conn) -> dict[str, tuple[bool | None, str]]:
    truth = server.personality(app, tenant).ground_truth()
    scan = connection(server, app, tenant, truth)
    if actions_conn is not None:
        monkeypatch.setenv(f"AIRFLOW_CONN_{actions_conn.conn_id.upper()}", _env(actions_conn))
    instance = InstanceConfig(
        app=app,
        name=tenant,
        conn_id=scan.conn_id,
        actions_conn_id=actions_conn.conn_id if actions_conn is not None else None,
    )
    moment = datetime.now(UTC)
    ctx = RunContext(run_id=f"auth-{moment:%H%M%S%f}", snapshot_id=snapshot_id_for(moment))
    assert run_stage(instance, "authenticate", ctx, lake, connection=scan).status == "success"
    rows = lake.read_snapshot("instance_permissions", app, tenant).to_pylist()
    return {r["name"]: (r["granted"], r["detail"]) for r in rows if r["kind"] == "action"}


@pytest.mark.parametrize("app", APPS_WITH_SANDBOX)
def test_authenticate_reports_what_the_action_connection_may_do_and_sends_no_change(app, tmp_path, monkeypatch):
    tenant = f"acc{app[:5]}"
    spec = registry.app_spec(app)
    with SandboxServer([TenantSpec(app=app, name=tenant, seed=9, users=30)]) as server:
        truth = server.personality(app, tenant).ground_truth()
        started = datetime.now(UTC).timestamp()
        lake = Lake(tmp_path / "lake")
        rows = _action_rows(server, app, tenant, lake, monkeypatch, actions_connection(server, app, tenant, truth))
        assert set(rows) == {a.name for a in spec.actions}
        implemented = {a.name for a in spec.actions if a.implemented}
        if app == "github":
            # GitHub accepts SCIM writes only from the enterprise setup user's scim:enterprise token,
            # never from the org owner's token that the other actions use: a "no" here is the truth.
            granted, detail = rows["suspend_managed_user"]
            assert granted is False and "scim:enterprise" in detail, rows["suspend_managed_user"]
            implemented -= {"suspend_managed_user"}
        # The write-capable connection is never told it may not do what it was made for.
        assert all(rows[name][0] is not False for name in implemented), rows
        assert any(rows[name][0] is True for name in implemented) or all(
            "unknown" in rows[name][1] for name in implemented
        ), rows

        disabled = _action_rows(server, app, tenant, Lake(tmp_path / "lake2"), monkeypatch, None)
        assert {granted for granted, _ in disabled.values()} == {False}
        assert all("no actions_conn_id" in detail for _, detail in disabled.values())

        log = httpx.get(f"{server.url}/_sandbox/requests", timeout=30).json()
    writes = [
        e
        for e in log
        if e["at"] >= started and e["method"] not in ("GET", "HEAD") and not e["raw_path"].endswith("/token")
    ]
    # Slack's Web API reads are form POSTs (auth.test), and so are Dropbox's RPC reads (listings, their
    # /continue, get_* routes): none of them changes anything.
    assert all(
        e["raw_path"].rsplit("/", 1)[-1].startswith(("auth.", "users.", "team."))
        or DROPBOX_READS.fullmatch(e["raw_path"])
        for e in writes
    ), writes
