"""auto_remediate under Airflow: the compliance-reports DAG, after its report, asks the instance's
governance DAG for an approved run of the finding's suggested action on the finding's rows
(`airflow dags test`; the approval itself is test_governance_dag.py's)."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict
from datetime import UTC, datetime, timedelta

import pytest
import yaml

from saaslens.lake.writer import Lake
from saaslens.orchestration.local_airflow import AirflowStack
from saaslens_sandbox.core import RateLimitConfig, SandboxServer, TenantSpec
from tests.e2e.lake_sync import actions_connection, connection, sync

pytestmark = pytest.mark.integration
DAG_ID = "saaslens_compliance_reports"
GOVERNANCE_DAG = "saaslens_github_main_governance"


def _env_connection(conn) -> str:
    data = asdict(conn)
    data.pop("conn_id")
    return json.dumps(data)


def test_the_report_asks_the_governance_dag_to_act_on_the_findings_rows(tmp_path):
    anchor = (datetime.now(UTC) - timedelta(minutes=10)).replace(microsecond=0)
    specs = [
        TenantSpec(
            app=app,
            name="acme",
            seed=40 + k,
            users=25,
            options={"anchor": anchor.isoformat(), "workforce": "acme"},
            rate_limits=RateLimitConfig(enabled=False),
        )
        for k, app in enumerate(("okta", "github"))
    ]
    lake = Lake(tmp_path / "lake")
    config = tmp_path / "connected_apps.yaml"
    with SandboxServer(specs) as server:
        truths = {app: server.personality(app, "acme").ground_truth() for app in ("okta", "github")}
        for app in ("okta", "github"):
            sync(server, lake, app, "acme", truths[app], instance_name="main")
        scan = {app: connection(server, app, "acme", truths[app]) for app in ("okta", "github")}
        actions = actions_connection(server, "github", "acme", truths["github"])
        config.write_text(
            yaml.safe_dump(
                {
                    "instances": [
                        {"app": "okta", "name": "main", "conn_id": "okta_main", "schedule": None},
                        {
                            "app": "github",
                            "name": "main",
                            "conn_id": "github_main",
                            "actions_conn_id": "github_main_actions",
                            "schedule": None,
                        },
                    ],
                    "auto_remediate": [{"finding": "orphaned_accounts", "dry_run": False, "max_targets": 2}],
                }
            )
        )
        env = {
            "SAASLENS_CONFIG": str(config),
            "SAASLENS_LAKE": str(lake.root),
            "AIRFLOW_CONN_OKTA_MAIN": _env_connection(scan["okta"]),
            "AIRFLOW_CONN_GITHUB_MAIN": _env_connection(scan["github"]),
            "AIRFLOW_CONN_GITHUB_MAIN_ACTIONS": _env_connection(actions),
        }
        stack = AirflowStack(home=tmp_path / "airflow", extra_env=env)
        stack.migrate()
        stack.airflow("dags", "reserialize")
        result = stack.airflow("dags", "test", DAG_ID, timeout=600)
    assert "failed" not in result.stdout.lower().split("dagrun")[-1], result.stdout[-3000:]
    with sqlite3.connect(stack.home / "airflow.db") as db:
        runs = [
            (json.loads(conf) if isinstance(conf, str) else conf)
            for (conf,) in db.execute("select conf from dag_run where dag_id = ?", (GOVERNANCE_DAG,))
        ]
        states = dict(db.execute("select task_id, state from task_instance where dag_id = ?", (DAG_ID,)).fetchall())
    assert states["auto_remediate"] == "success", states
    # The planted orphan (suspended in Okta, still a GitHub member) is what the run is asked to remove.
    (conf,) = runs
    assert conf["action"] == "remove_org_member" and conf["dry_run"] is False
    assert 1 <= len(conf["targets"]) <= 2
    assert "orphaned_accounts" in conf["reason"]
    # Nothing was applied by the reports DAG itself: that waits for the governance DAG's approver.
    assert not list((lake.root / "governance_actions").glob("app=*/instance=*/action_date=*/*.parquet"))
