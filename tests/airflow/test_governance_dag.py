"""A governance run under the real Airflow scheduler: the approval is answered through Airflow's
REST API, as an approver's browser would; a rejection changes nothing; the rows say who did what.
Airflow runs with three real users: alice asks, bob approves, mallory is not an approver, and
alice's approval of her own request does not count (four eyes).

The tenant is the Okta sandbox; the lake is filled by the scan code directly (the scan DAGs are
tested in test_airflow_runs.py), then the governance DAG is triggered with a typed conf.
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import httpx
import pyarrow.parquet as pq
import pytest
import yaml

from saaslens.lake.writer import Lake
from saaslens.orchestration.local_airflow import AirflowStack, AirflowStackError
from saaslens_sandbox.core import SandboxServer, TenantSpec
from tests.e2e.okta_helpers import ANCHOR, instance, ssws, sync

pytestmark = [pytest.mark.integration, pytest.mark.scheduler]
TENANT = "govflow"
USERS = {"alice": "alice-password-1", "bob": "bob-password-2", "mallory": "mallory-password-3"}
DAG_ID = f"saaslens_okta_{TENANT}_governance"
SCHEDULER_HEARTBEAT_SECONDS = 2  # AirflowStack's [scheduler] scheduler_heartbeat_sec


@pytest.fixture(scope="module")
def sandbox():
    spec = TenantSpec(app="okta", name=TENANT, seed=31, users=60, options={"anchor": ANCHOR.isoformat()})
    with SandboxServer([spec]) as server:
        yield server


def _project(tmp_path: Path, sandbox: SandboxServer) -> tuple[Path, Path, str]:
    truth = sandbox.personality("okta", TENANT).ground_truth()
    actions_token = truth["credentials"]["actions"]["token"]
    config = tmp_path / "connected_apps.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "instances": [
                    {
                        "app": "okta",
                        "name": TENANT,
                        "conn_id": f"okta_{TENANT}",
                        "actions_conn_id": f"okta_{TENANT}_actions",
                        "governance": {"approvers": ["alice", "bob"]},
                        "schedule": None,
                        "options": {"max_workers": 2, "retry_initial_backoff_seconds": 0.1},
                    }
                ]
            }
        )
    )
    url = sandbox.tenant_url("okta", TENANT)
    settings_file = tmp_path / "airflow_settings.yaml"
    settings_file.write_text(
        yaml.safe_dump(
            {
                "airflow": {
                    "connections": [
                        {
                            "conn_id": f"okta_{TENANT}",
                            "conn_type": "http",
                            "conn_host": url,
                            "conn_password": f"sandbox-okta-{TENANT}-admin",
                            "conn_extra": {"auth": "ssws"},
                        },
                        {
                            "conn_id": f"okta_{TENANT}_actions",
                            "conn_type": "http",
                            "conn_host": url,
                            "conn_password": actions_token,
                            "conn_extra": {"auth": "ssws"},
                        },
                    ]
                }
            }
        )
    )
    return config, settings_file, actions_token


def _ordinary_active_users(lake: Lake, truth: dict, count: int) -> list[str]:
    acting = {c["user_id"] for c in truth["credentials"].values() if isinstance(c, dict) and "user_id" in c}
    acting |= {c["user_id"] for c in truth["credentials"]["api_tokens"]}
    rows = lake.read_snapshot("accounts", "okta", TENANT).to_pylist()
    found = [
        r["account_id"]
        for r in rows
        if r["provider_status"] == "ACTIVE" and not r["is_admin"] and r["account_id"] not in acting
    ]
    assert len(found) >= count
    return found[:count]


def _status(sandbox: SandboxServer, user_id: str) -> str:
    users = sandbox.personality("okta", TENANT).ground_truth()["users"]
    return next(u["status"] for u in users if u["id"] == user_id)


def _writes(sandbox: SandboxServer, since: float) -> list[dict]:
    log = httpx.get(f"{sandbox.url}/_sandbox/requests", timeout=30).json()
    return [e for e in log if e["at"] >= since and e["method"] != "GET" and f"/okta/{TENANT}/" in e["raw_path"]]


def _rows(lake_root: Path, run_id: str) -> list[dict]:
    files = (lake_root / "governance_actions").glob("app=okta/instance=*/action_date=*/*.parquet")
    return [r for f in files for r in pq.read_table(f).to_pylist() if r["run_id"] == run_id]


def _wait_for_task(stack: AirflowStack, run_id: str, task_id: str, state: str, timeout: float = 300) -> None:
    stack.wait_until(
        lambda: stack.task_state(DAG_ID, run_id, task_id) == state,
        timeout=timeout,
        what=f"{task_id} of {run_id} to be {state}",
    )
    if state == "awaiting_input":
        # A person answers in seconds, not milliseconds. Answered before the scheduler has taken in
        # the parked worker's exit, Airflow 3.3 reads that worker's "success" as a task that finished
        # while queued and retries it, asking the approver again: a race of its own, not saaslens'.
        # On a loaded machine the scheduler took that exit in 6 s after the park, so a fixed pause
        # is not enough: wait until its log says it has, then a heartbeat more.
        _wait_for_executor_event(stack, run_id, task_id)
        time.sleep(SCHEDULER_HEARTBEAT_SECONDS)


def _wait_for_executor_event(stack: AirflowStack, run_id: str, task_id: str, timeout: float = 120) -> None:
    log = stack.home / "service-logs" / "scheduler.log"
    needle = (
        f"Received executor event with state success for task instance TaskInstanceKey(dag_id='{DAG_ID}', "
        f"task_id='{task_id}', run_id='{run_id}'"
    )
    stack.wait_until(
        lambda: log.is_file() and needle in log.read_text(errors="replace"),
        timeout=timeout,
        what=f"the scheduler to take in the parked {task_id} of {run_id}",
    )


def test_approval_through_the_rest_api_applies_once_and_a_rejection_changes_nothing(sandbox, tmp_path):
    config, settings_file, actions_token = _project(tmp_path, sandbox)
    lake_root = tmp_path / "lake"
    lake = Lake(lake_root)
    sync(instance(TENANT, activities_lag_seconds=0), ssws(sandbox, TENANT), lake)
    approved_target, rejected_target, self_approved_target = _ordinary_active_users(
        lake, sandbox.personality("okta", TENANT).ground_truth(), 3
    )
    stack = AirflowStack(
        home=tmp_path / "airflow",
        users=USERS,
        extra_env={
            "SAASLENS_CONFIG": str(config),
            "SAASLENS_LAKE": str(lake_root),
            "SAASLENS_AIRFLOW_SETTINGS": str(settings_file),
        },
    )
    try:
        stack.migrate()
        stack.bootstrap(settings_file=settings_file, config=config)
        stack.start()
        stack.wait_for_dags([DAG_ID])

        # Approved: nothing is sent while the approver has not answered; a user who is not an
        # approver cannot answer.
        started = time.time()
        approved_run = stack.trigger(
            DAG_ID,
            {"action": "suspend_user", "targets": [approved_target], "dry_run": False, "reason": "offboarding"},
            as_user="alice",
        )
        _wait_for_task(stack, approved_run, "approve", "awaiting_input")
        assert _writes(sandbox, started) == [] and _status(sandbox, approved_target) == "ACTIVE"
        with pytest.raises(AirflowStackError, match="HTTP 403"):
            stack.answer(DAG_ID, approved_run, "approve", "Approve", as_user="mallory")
        answered_at = time.time()
        stack.answer(DAG_ID, approved_run, "approve", "Approve", as_user="bob")
        assert stack.wait_for_runs({DAG_ID: approved_run}, timeout=600) == {DAG_ID: "success"}
        verify = next(t for t in stack.task_instances(DAG_ID, approved_run) if t["task_id"] == "verify")
        approval_to_verified = datetime.fromisoformat(verify["end_date"]).timestamp() - answered_at

        # Rejected: the approver says no; nothing is sent, and the row says so.
        started = time.time()
        rejected_run = stack.trigger(
            DAG_ID,
            {"action": "suspend_user", "targets": [rejected_target], "dry_run": False, "reason": "test"},
            as_user="alice",
        )
        _wait_for_task(stack, rejected_run, "approve", "awaiting_input")
        stack.answer(DAG_ID, rejected_run, "approve", "Reject", as_user="bob")
        assert stack.wait_for_runs({DAG_ID: rejected_run}, timeout=600) == {DAG_ID: "success"}
        states = {t["task_id"]: t["state"] for t in stack.task_instances(DAG_ID, rejected_run)}

        # Self-approved: alice approves her own request; it counts as a rejection.
        self_started = time.time()
        self_run = stack.trigger(
            DAG_ID,
            {"action": "suspend_user", "targets": [self_approved_target], "dry_run": False, "reason": "mine"},
            as_user="alice",
        )
        _wait_for_task(stack, self_run, "approve", "awaiting_input")
        stack.answer(DAG_ID, self_run, "approve", "Approve", as_user="alice")
        assert stack.wait_for_runs({DAG_ID: self_run}, timeout=600) == {DAG_ID: "success"}
        self_states = {t["task_id"]: t["state"] for t in stack.task_instances(DAG_ID, self_run)}
    finally:
        stack.stop()

    assert _status(sandbox, approved_target) == "SUSPENDED"
    (row,) = _rows(lake_root, approved_run)
    assert row["result"] == "applied" and row["verified"] is True and not row["dry_run"]
    assert row["target_id"] == approved_target and row["reason"] == "offboarding"
    assert row["requested_by"] == "alice" and row["approved_by"] == "bob" and row["approved_at"] is not None
    print(f"approval to verified change: {approval_to_verified:.1f} s")
    assert approval_to_verified < 120

    assert states["apply"] == "skipped" and states["verify"] == "skipped" and states["record"] == "success"
    assert _status(sandbox, rejected_target) == "ACTIVE" and _writes(sandbox, started) == []
    (row,) = _rows(lake_root, rejected_run)
    assert row["result"] == "rejected-by-approver" and row["approved_by"] == "bob"

    assert self_states["apply"] == "skipped" and self_states["verify"] == "skipped"
    assert _status(sandbox, self_approved_target) == "ACTIVE" and _writes(sandbox, self_started) == []
    (row,) = _rows(lake_root, self_run)
    assert row["result"] == "rejected-by-approver" and row["approved_by"] == "alice"
    assert "a second person must approve" in row["detail"]

    # Nothing secret in XCom or the task logs.
    import sqlite3

    with sqlite3.connect(stack.home / "airflow.db") as db:
        xcoms = [str(r[0]) for r in db.execute("select value from xcom")]
    assert xcoms and not any(actions_token in x for x in xcoms)
    logs = [p.read_text(errors="replace") for p in (stack.home / "logs").rglob("*") if p.is_file()]
    assert not any(actions_token in text for text in logs)
