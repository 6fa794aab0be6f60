"""The compliance-reports DAG: scheduled by the instance DAGs' assets or weekly, cheap to parse,
and, under `airflow dags test`, writes the report for the lake."""

from __future__ import annotations

import sqlite3
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from saaslens.connectors import registry
from saaslens.connectors.instances import load_connected_apps
from saaslens.orchestration import naming
from saaslens.orchestration.assets import REPORTED_TABLES, table_uri
from saaslens.reports.freshness import schedule_interval
from saaslens.vocabulary import STAGE_TABLES
from tests.airflow.clean_interpreter import run_python_json

ROOT = Path(__file__).resolve().parents[2]
DAGS = ROOT / "dags"
HEAVY = ("pandas", "pyarrow", "duckdb", "great_expectations")
DAG_ID = "saaslens_compliance_reports"


def parse_dags(env: dict[str, str] | None = None) -> dict:
    """Parse dags/ in a clean interpreter, as Airflow's DAG processor does, and describe the result."""
    code = textwrap.dedent(f"""
        import json, sys
        from airflow.dag_processing.dagbag import DagBag
        bag = DagBag(dag_folder={str(DAGS)!r})
        heavy = [m for m in {HEAVY!r} if m in sys.modules]
        report = bag.dags.get({DAG_ID!r})
        timetable = report.timetable if report else None
        inner = getattr(timetable, "timetable", None)
        condition = getattr(timetable, "asset_condition", None)
        print(json.dumps({{
            "errors": {{k: str(v) for k, v in bag.import_errors.items()}},
            "heavy": heavy,
            "dags": sorted(bag.dags),
            "report": report and {{
                "timetable": type(timetable).__name__,
                "inner": type(inner).__name__,
                "cron": getattr(inner, "_expression", None) or getattr(inner, "expression", None),
                "timezone": str(getattr(inner, "_timezone", None) or getattr(inner, "timezone", None)),
                "condition": type(condition).__name__,
                "assets": sorted(a.uri for a in getattr(condition, "objects", [])),
                "tasks": [t.task_id for t in report.tasks],
                "max_active_runs": report.max_active_runs,
            }},
            "outlets": {{
                d.dag_id: {{t.task_id: sorted(o.uri for o in t.outlets) for t in d.tasks}}
                for d in bag.dags.values() if d.dag_id != {DAG_ID!r}
            }},
        }}))
    """)
    return run_python_json(code, env)


@pytest.fixture(scope="module")
def parsed():
    return parse_dags()


def test_reports_dag_imports_and_parsing_stays_light(parsed):
    assert parsed["errors"] == {}
    assert DAG_ID in parsed["dags"]
    assert parsed["report"]["tasks"] == ["report"] and parsed["report"]["max_active_runs"] == 1
    assert parsed["heavy"] == []


def test_schedule_is_any_instance_asset_or_weekly(parsed):
    report = parsed["report"]
    assert report["timetable"] == "AssetOrTimeSchedule"
    assert report["inner"] == "CronTriggerTimetable" and report["timezone"] == "UTC"
    assert schedule_interval(report["cron"]).days == 7  # weekly
    assert report["condition"] == "AssetAny"  # one instance publishing is enough
    expected = {
        table_uri(i.app, i.name, table)
        for i in load_connected_apps().instances
        if i.enabled
        for stage in registry.app_spec(i.app).stage_names
        for table in STAGE_TABLES[stage]
        if table in REPORTED_TABLES
    }
    assert set(report["assets"]) == expected and expected


def test_instance_tasks_declare_the_tables_they_publish(parsed):
    instances = {naming.dag_id(i): i for i in load_connected_apps().instances if i.enabled}
    governance = {naming.governance_dag_id(i) for i in load_connected_apps().instances if i.actions_conn_id}
    assert set(parsed["outlets"]) == set(instances) | (governance & set(parsed["dags"]))
    for dag_id in governance & set(parsed["outlets"]):
        # A governance run publishes no scanned table: it must not trigger a report on its own.
        assert all(uris == [] for uris in parsed["outlets"].pop(dag_id).values()), dag_id
    for dag_id, tasks in parsed["outlets"].items():
        instance = instances[dag_id]
        for task_id, uris in tasks.items():
            assert uris == sorted(table_uri(instance.app, instance.name, t) for t in STAGE_TABLES[task_id]), task_id
    # Everything the reports DAG waits for is some task's outlet: no trigger can never fire.
    produced = {uri for tasks in parsed["outlets"].values() for uris in tasks.values() for uri in uris}
    assert set(parsed["report"]["assets"]) <= produced


def test_parsing_another_dag_skips_the_reports_dag():
    parsed = parse_dags({"_AIRFLOW_PARSING_CONTEXT_DAG_ID": "saaslens_okta_acme"})
    assert parsed["dags"] == ["saaslens_okta_acme"]


@pytest.mark.integration
def test_airflow_dags_test_writes_the_report(tmp_path):
    """One run under Airflow (`airflow dags test`) over a lake with a scanned and a never-scanned instance."""
    from bench.report_bench import generate_lake
    from saaslens.orchestration.local_airflow import AirflowStack

    lake = tmp_path / "lake"
    config = tmp_path / "connected_apps.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "instances": [
                    {"app": "okta", "name": "corp", "conn_id": "okta_corp", "schedule": "@daily"},
                    {"app": "slack", "name": "idle", "conn_id": "slack_idle", "schedule": "@daily"},
                ]
            }
        )
    )
    generate_lake(lake, [("okta", "corp")], accounts_per_instance=300, events_per_instance=3000, now=datetime.now(UTC))
    env = {"SAASLENS_CONFIG": str(config), "SAASLENS_LAKE": str(lake)}
    stack = AirflowStack(home=tmp_path / "airflow", extra_env=env)
    stack.migrate()
    stack.airflow("dags", "reserialize")
    result = stack.airflow("dags", "test", DAG_ID, timeout=600)
    assert "failed" not in result.stdout.lower().split("dagrun")[-1], result.stdout[-3000:]
    (directory,) = (lake / "reports").iterdir()
    datetime.strptime(directory.name, "%Y-%m-%d")  # named by the run's date
    page = (directory / "report.html").read_text()
    assert "okta/corp" in page and "slack/idle" in page and "never scanned" in page
    assert (directory / "privileged_accounts.csv").exists() and (directory / "privileged_accounts.parquet").exists()
    with sqlite3.connect(stack.home / "airflow.db") as db:
        xcoms = [str(row[0]) for row in db.execute("select value from xcom where dag_id = ?", (DAG_ID,))]
    assert any("report.html" in value and "slack/idle" in value for value in xcoms), xcoms


@pytest.mark.scheduler
@pytest.mark.integration
def test_real_scheduler_runs_the_report_when_an_instance_publishes(tmp_path):
    """Under the real scheduler: a scan's published tables (asset events) start the reports DAG."""
    from saaslens.orchestration.local_airflow import AirflowStack
    from saaslens_sandbox.core import SandboxServer, TenantSpec
    from tests.airflow.test_airflow_runs import write_project_files
    from tests.e2e.okta_helpers import ANCHOR

    spec = TenantSpec(app="okta", name="airflowe2e", seed=23, users=30, options={"anchor": ANCHOR.isoformat()})
    lake = tmp_path / "lake"
    with SandboxServer([spec]) as sandbox:
        config, settings_file = write_project_files(tmp_path, sandbox, pool_slots=3)
        env = {
            "SAASLENS_CONFIG": str(config),
            "SAASLENS_LAKE": str(lake),
            "SAASLENS_AIRFLOW_SETTINGS": str(settings_file),
        }
        stack = AirflowStack(home=tmp_path / "airflow", extra_env=env)
        try:
            stack.migrate()
            stack.bootstrap(settings_file=settings_file, config=config)
            stack.start()
            stack.wait_for_dags(["saaslens_okta_airflowe2e", DAG_ID])
            stack.api("PATCH", f"/dags/{DAG_ID}", json={"is_paused": False})
            scan = stack.trigger("saaslens_okta_airflowe2e")
            assert stack.wait_for_runs({"saaslens_okta_airflowe2e": scan}, timeout=600) == {
                "saaslens_okta_airflowe2e": "success"
            }

            def asset_run():
                runs = stack.api("GET", f"/dags/{DAG_ID}/dagRuns")["dag_runs"]
                done = [r for r in runs if r["run_type"] == "asset_triggered" and r["state"] in ("success", "failed")]
                return done[0] if done else None

            run = stack.wait_until(asset_run, timeout=420, what="an asset-triggered report run", interval=3)
            events = stack.api("GET", f"/dags/{DAG_ID}/dagRuns/{run['dag_run_id']}/upstreamAssetEvents")
            runs = stack.api("GET", f"/dags/{DAG_ID}/dagRuns")["dag_runs"]
        finally:
            stack.stop()
    assert run["state"] == "success", run
    # Unpausing also made the time-based half create the latest weekly run (catchup=False): Monday 06:00 UTC.
    weekly = [r for r in runs if r["run_type"] == "scheduled"]
    assert weekly and all(datetime.fromisoformat(r["logical_date"]).strftime("%a %H:%M") == "Mon 06:00" for r in weekly)
    uris = {e["uri"] for e in events["asset_events"]}
    assert uris and uris <= {table_uri("okta", "airflowe2e", t) for t in REPORTED_TABLES}, uris
    # Each run wrote the report named after its run_after date (the weekly one after its Monday).
    for report_run in [run, *weekly]:
        day = datetime.fromisoformat(report_run["run_after"]).astimezone(UTC).date().isoformat()
        assert "okta/airflowe2e" in (lake / "reports" / day / "report.html").read_text()


def test_an_auto_remediate_policy_adds_the_remediation_after_the_report(tmp_path):
    config = tmp_path / "apps.yaml"
    config.write_text(
        textwrap.dedent("""
        instances:
          - {app: okta, name: acme, conn_id: c_scan, actions_conn_id: c_act}
        auto_remediate:
          - {finding: grants_of_inactive_accounts, dry_run: false}
    """)
    )
    parsed = parse_dags({"SAASLENS_CONFIG": str(config)})
    assert parsed["errors"] == {}
    assert parsed["report"]["tasks"] == ["report", "auto_remediate", "request_approval"]
    assert parsed["heavy"] == []
