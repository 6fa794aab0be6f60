"""The generated DAGs under Airflow itself: `airflow dags test`, and the real scheduler.

These start Airflow processes against the sandbox on 127.0.0.1, so they are the slowest tests;
CI runs them.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from saaslens.lake.writer import Lake
from saaslens.orchestration.local_airflow import AirflowStack
from saaslens_sandbox.core import FaultConfig, SandboxServer, TenantSpec
from tests.e2e.okta_helpers import ANCHOR, assert_lake_equals_ground_truth

TOKEN = "sandbox-okta-airflowe2e-admin"


@pytest.fixture(scope="module")
def sandbox():
    spec = TenantSpec(app="okta", name="airflowe2e", seed=21, users=80, options={"anchor": ANCHOR.isoformat()})
    with SandboxServer([spec]) as server:
        yield server


def write_project_files(tmp_path: Path, sandbox, pool_slots: int) -> tuple[Path, Path]:
    config = tmp_path / "connected_apps.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "instances": [
                    {
                        "app": "okta",
                        "name": "airflowe2e",
                        "conn_id": "okta_airflowe2e",
                        "pool_slots": pool_slots,
                        "schedule": None,
                        "options": {"max_workers": 2, "retry_initial_backoff_seconds": 0.1},
                    }
                ]
            }
        )
    )
    settings_file = tmp_path / "airflow_settings.yaml"
    settings_file.write_text(
        yaml.safe_dump(
            {
                "airflow": {
                    "connections": [
                        {
                            "conn_id": "okta_airflowe2e",
                            "conn_type": "http",
                            "conn_host": sandbox.tenant_url("okta", "airflowe2e"),
                            "conn_password": TOKEN,
                            "conn_extra": {"auth": "ssws"},
                        }
                    ]
                }
            }
        )
    )
    return config, settings_file


@pytest.mark.integration
def test_airflow_dags_test_publishes_the_ground_truth_and_keeps_secrets_out(sandbox, tmp_path):
    config, settings_file = write_project_files(tmp_path, sandbox, pool_slots=3)
    lake = tmp_path / "lake"
    stack = AirflowStack(
        home=tmp_path / "airflow",
        extra_env={
            "SAASLENS_CONFIG": str(config),
            "SAASLENS_LAKE": str(lake),
            "SAASLENS_AIRFLOW_SETTINGS": str(settings_file),
        },
    )
    stack.migrate()
    stack.bootstrap(settings_file=settings_file, config=config)
    stack.airflow("dags", "reserialize")
    result = stack.airflow("dags", "test", "saaslens_okta_airflowe2e", timeout=900)
    assert "failed" not in result.stdout.lower().split("dagrun")[-1], result.stdout[-3000:]
    assert_lake_equals_ground_truth(Lake(lake), "airflowe2e", sandbox.personality("okta", "airflowe2e").ground_truth())

    # No credential in XCom or in the task logs.
    with sqlite3.connect(stack.home / "airflow.db") as db:
        xcoms = [str(row[0]) for row in db.execute("select value from xcom")]
    assert xcoms, "the stages return their summaries through XCom"
    assert not any(TOKEN in value for value in xcoms)
    logs = [p.read_text(errors="replace") for p in (stack.home / "logs").rglob("*") if p.is_file()]
    assert not any(TOKEN in text for text in logs)


def _max_overlap(intervals: list[tuple[datetime, datetime]]) -> int:
    events = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    running = peak = 0
    for _, delta in events:
        running += delta
        peak = max(peak, running)
    return peak


@pytest.mark.scheduler
@pytest.mark.integration
def test_real_scheduler_pool_bounds_an_instances_concurrency(sandbox, tmp_path):
    """Five stages become runnable together after `users`; a pool of 2 slots lets two run."""
    config, settings_file = write_project_files(tmp_path, sandbox, pool_slots=2)
    lake = tmp_path / "lake"
    # Slow responses make each stage take seconds, so overlaps are visible in start/end times.
    sandbox.personality("okta", "airflowe2e").set_faults(FaultConfig(slow_ms=40))
    stack = AirflowStack(
        home=tmp_path / "airflow",
        parallelism=8,
        extra_env={
            "SAASLENS_CONFIG": str(config),
            "SAASLENS_LAKE": str(lake),
            "SAASLENS_AIRFLOW_SETTINGS": str(settings_file),
        },
    )
    try:
        stack.migrate()
        stack.bootstrap(settings_file=settings_file, config=config)
        stack.start()
        stack.wait_for_dags(["saaslens_okta_airflowe2e"])
        run_id = stack.trigger("saaslens_okta_airflowe2e")
        states = stack.wait_for_runs({"saaslens_okta_airflowe2e": run_id}, timeout=900)
        tasks = stack.task_instances("saaslens_okta_airflowe2e", run_id)
    finally:
        stack.stop()
        sandbox.personality("okta", "airflowe2e").set_faults(FaultConfig())
    assert states == {"saaslens_okta_airflowe2e": "success"}, tasks
    assert {t["pool"] for t in tasks} == {"saaslens_okta_airflowe2e"}
    intervals = [(datetime.fromisoformat(t["start_date"]), datetime.fromisoformat(t["end_date"])) for t in tasks]
    assert _max_overlap(intervals) == 2, intervals  # bounded by the pool, and the pool was actually used
    assert_lake_equals_ground_truth(Lake(lake), "airflowe2e", sandbox.personality("okta", "airflowe2e").ground_truth())
