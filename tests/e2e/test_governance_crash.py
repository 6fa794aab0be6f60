"""For every app: SIGKILL between apply and record, then the retry records one applied row and the
provider saw exactly one change (its request log); and an approver's rejection sends nothing."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pyarrow.parquet as pq
import pytest

from saaslens import governance
from saaslens.config import GovernanceSettings, InstanceConfig
from saaslens.lake.writer import Lake
from saaslens_sandbox.core import SandboxServer, TenantSpec
from tests.e2e.lake_sync import actions_connection, sync

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]

# One account action per app: a single write request each, easy to count in the request log.
ACTION = {
    "okta": "suspend_user",
    "google_workspace": "suspend_user",
    "microsoft365": "block_sign_in",
    "github": "remove_org_member",
    "slack": "deactivate_user",
}
SIZE = {"okta": 60, "google_workspace": 60, "microsoft365": 60, "github": 40, "slack": 60}


def _writes(server: SandboxServer, app: str, tenant: str, since: float) -> list[dict]:
    log = httpx.get(f"{server.url}/_sandbox/requests", timeout=30).json()
    # Changes only: an OAuth token request (Microsoft's client credentials POST) changes nothing.
    return [
        e
        for e in log
        if e["at"] >= since
        and e["method"] != "GET"
        and f"/{app}/{tenant}/" in e["raw_path"]
        and not e["raw_path"].endswith("/token")
    ]


def _target(instance, request_for, lake, connection, skip: tuple[str, ...] = ()) -> str:
    """The first active member account the action would change (the plan says so, sending nothing)."""
    rows = lake.read_snapshot("accounts", instance.app, instance.name).to_pylist()
    candidates = [
        r["account_id"]
        for r in rows
        # Admins too: the plan refuses the protected ones (super-admins, owners), and a small
        # Google tenant makes most people delegated admins through its helpdesk group.
        if r["status"] == "active" and r["account_type"] == "member"
    ]
    seen: list[str] = []
    for account_id in [c for c in candidates if c not in skip][:15]:
        (item,) = governance.plan_step(request_for(account_id, "probe"), instance, lake, connection)
        if item.result == governance.PENDING:
            return account_id
        seen.append(f"{account_id}: {item.result} {item.detail}")
    raise AssertionError(f"{instance.app}: no ordinary account the action would change: {seen}")


@pytest.mark.parametrize("app", sorted(ACTION))
def test_a_kill_between_apply_and_record_is_recorded_once_after_the_retry(app, tmp_path):
    tenant = f"crash{app[:4]}"
    with SandboxServer([TenantSpec(app=app, name=tenant, seed=5, users=SIZE[app])]) as server:
        truth = server.personality(app, tenant).ground_truth()
        lake = Lake(tmp_path / "lake")
        sync(server, lake, app, tenant, truth, stages=["authenticate", "users"])
        connection = actions_connection(server, app, tenant, truth)
        instance = InstanceConfig(
            app=app,
            name=tenant,
            conn_id=f"{app}_{tenant}",
            actions_conn_id=connection.conn_id,
            options={"retry_initial_backoff_seconds": 0.05},
            governance=GovernanceSettings(),
        )

        def request_for(target: str, run_id: str) -> governance.GovernanceRequest:
            return governance.GovernanceRequest(
                app=app,
                instance=tenant,
                action=ACTION[app],
                targets=(target,),
                requested_by="crash-test",
                requested_at=datetime.now(UTC),
                run_id=run_id,
                dry_run=False,
            )

        target = _target(instance, request_for, lake, connection)
        request = request_for(target, "crash-run")
        started = datetime.now(UTC).timestamp()
        victim = subprocess.run(
            [sys.executable, "-m", "tests.e2e.governance_crash_victim"],
            input=json.dumps(
                {
                    "request": request.to_dict(),
                    "instance": instance.model_dump(mode="json"),
                    "connection": asdict(connection),
                    "lake": str(lake.root),
                }
            ),
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=300,
        )
        assert victim.returncode == -signal.SIGKILL, victim.stderr[-3000:]
        sent = _writes(server, app, tenant, started)
        assert len(sent) == 1, sent  # the change reached the provider
        assert not list((lake.root / "governance_actions").rglob("*.parquet")) or all(
            f.name == "_schema.parquet" for f in (lake.root / "governance_actions").rglob("*.parquet")
        )

        # The retry (Airflow retries the task; here: the same run again).
        rows = governance.act(
            instance, request, lake, connection=connection, approval=governance.Approval(True, "crash-test approver")
        )
        assert [(r["target_id"], r["result"], r["verified"]) for r in rows] == [(target, "applied", True)]
        assert "interrupted earlier attempt" in rows[0]["detail"]
        assert len(_writes(server, app, tenant, started)) == 1  # never sent twice
        stored = [
            r
            for f in (lake.root / "governance_actions").rglob("*.parquet")
            if f.name != "_schema.parquet"
            for r in pq.read_table(f).to_pylist()
        ]
        assert [(r["run_id"], r["result"]) for r in stored] == [("crash-run", "applied")]
        assert not list((lake.root / "_state" / "governance").rglob("*.json"))

        # An approver who says no: nothing is sent, and the row says who rejected it.
        other = _target(instance, request_for, lake, connection, skip=(target,))
        rejected_at = datetime.now(UTC).timestamp()
        rows = governance.act(
            instance,
            request_for(other, "rejected-run"),
            lake,
            connection=connection,
            approval=governance.Approval(False, "a careful approver"),
        )
        assert [(r["result"], r["approved_by"]) for r in rows] == [("rejected-by-approver", "a careful approver")]
        assert _writes(server, app, tenant, rejected_at) == []
