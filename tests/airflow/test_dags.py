"""The generated DAGs: import cleanly, have the right shape and pools, and stay cheap to parse."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from saaslens.connectors import registry
from saaslens.connectors.instances import load_connected_apps
from saaslens.orchestration import naming
from saaslens.orchestration.bootstrap import plan
from saaslens.orchestration.dag_factory import build_dags
from tests.airflow.clean_interpreter import run_python_json

ROOT = Path(__file__).resolve().parents[2]
DAGS = ROOT / "dags"
HEAVY = ("pandas", "pyarrow", "duckdb", "great_expectations")
REPORTS_DAG = "saaslens_compliance_reports"  # dags/compliance_reports.py, tested in test_reports_dag.py


def dagbag(env: dict[str, str] | None = None):
    """Parse dags/ in a subprocess (a clean interpreter, like Airflow's DAG processor)."""
    code = textwrap.dedent(f"""
        import json, sys
        from airflow.dag_processing.dagbag import DagBag
        bag = DagBag(dag_folder={str(DAGS)!r})
        heavy = [m for m in {HEAVY!r} if m in sys.modules]
        print(json.dumps({{
            "errors": {{k: str(v) for k, v in bag.import_errors.items()}},
            "dags": {{d.dag_id: {{
                "tasks": sorted(t.task_id for t in d.tasks),
                "pools": sorted({{t.pool for t in d.tasks}}),
                "edges": sorted([t.task_id, u] for t in d.tasks for u in t.downstream_task_ids),
                "tags": sorted(d.tags), "retries": sorted({{t.retries for t in d.tasks}}),
                "trigger_rules": {{t.task_id: getattr(t.trigger_rule, "value", str(t.trigger_rule)) for t in d.tasks}},
                "max_active_runs": d.max_active_runs, "schedule": str(d.schedule),
            }} for d in bag.dags.values()}},
            "heavy": heavy,
        }}))
    """)
    return run_python_json(code, env)


@pytest.fixture(scope="module")
def parsed():
    return dagbag()


def test_no_import_errors_and_one_dag_per_enabled_instance(parsed):
    assert parsed["errors"] == {}
    instances = [i for i in load_connected_apps().instances if i.enabled]
    expected = {naming.dag_id(i) for i in instances}
    governed = {
        naming.governance_dag_id(i)
        for i in instances
        if i.actions_conn_id and any(a.implemented for a in registry.app_spec(i.app).actions)
    }
    inspected = {naming.content_dag_id(i) for i in instances if registry.app_spec(i.app).contents is not None}
    assert set(parsed["dags"]) == expected | governed | inspected | {REPORTS_DAG}


def test_content_inspection_dag_per_instance_with_file_contents(parsed):
    """A DLP DAG for every instance whose app reads file contents: one task in its own pool (never
    the scan stages' pool), on the policies' schedule or on the instance's file-change events."""
    instances = [
        i for i in load_connected_apps().instances if i.enabled and registry.app_spec(i.app).contents is not None
    ]
    pools = {p.name: p.slots for p in plan().pools}
    for instance in instances:
        dag = parsed["dags"][naming.content_dag_id(instance)]
        assert dag["tasks"] == ["inspect_contents"]
        assert dag["pools"] == [naming.content_pool_name(instance)] != [naming.pool_name(instance)]
        assert naming.content_pool_name(instance) in pools
        assert dag["max_active_runs"] == 1
        assert "dlp" in dag["tags"]
        if registry.app_spec(instance.app).contents.change_events:
            assert "AssetOrTimeSchedule" in dag["schedule"], dag["schedule"]


def test_every_dag_file_passes_airflows_safe_mode_discovery():
    """With dag_discovery_safe_mode (on by default) the DAG processor skips a file unless it names
    both "airflow" and "dag"; a DAG file that does not is silently never parsed."""
    from airflow.utils.file import might_contain_dag

    skipped = [p.name for p in sorted(DAGS.glob("*.py")) if not might_contain_dag(str(p), safe_mode=True)]
    assert not skipped, f"Airflow's safe mode would never parse {skipped}"


def test_okta_dag_shape(parsed):
    dag = parsed["dags"]["saaslens_okta_acme"]
    assert dag["tasks"] == sorted(
        ["authenticate", "users", "groups", "privileges", "app_permissions", "settings", "activities"]
    )
    assert "files" not in dag["tasks"]  # Okta has no files capability
    assert ["authenticate", "users"] in dag["edges"]
    assert ["authenticate", "settings"] in dag["edges"]  # settings need only the credentials checked
    assert ["users", "groups"] in dag["edges"]
    assert ["groups", "activities"] in dag["edges"]
    assert ["users", "privileges"] in dag["edges"] and ["users", "app_permissions"] in dag["edges"]
    assert dag["tags"] == ["app:okta", "instance:acme", "saaslens"]
    assert dag["retries"] == [3] and dag["max_active_runs"] == 1
    assert dag["trigger_rules"]["authenticate"] == "all_success"
    assert all(rule == "none_failed" for task, rule in dag["trigger_rules"].items() if task != "authenticate")


def test_every_task_pool_is_created_by_bootstrap(parsed):
    pools = {p.name: p.slots for p in plan().pools}
    for dag_id, dag in parsed["dags"].items():
        if dag_id == REPORTS_DAG:
            continue  # reads only the lake, calls no API: default_pool
        # A governance DAG acts on the tenant its instance scans: it shares the instance's pool. A
        # content-inspection DAG has a pool of its own (its name is its DAG id).
        pool = dag_id.removesuffix("_governance")
        assert dag["pools"] == [pool], f"{dag_id} uses pools {dag['pools']}"
        assert pool in pools
    acme = next(i for i in load_connected_apps().instances if i.name == "acme")
    assert pools[naming.pool_name(acme)] == acme.pool_slots


def test_parse_imports_nothing_heavy(parsed):
    assert parsed["heavy"] == []


def test_bad_entry_breaks_only_itself(tmp_path):
    config = tmp_path / "apps.yaml"
    config.write_text(
        textwrap.dedent("""
        instances:
          - {app: okta, name: good, conn_id: c_good}
          - {app: okta, name: broken, conn_id: c_broken, pool_slots: -1}
          - {app: okta, name: paused, conn_id: c_paused, enabled: false}
    """)
    )
    parsed = dagbag({"SAASLENS_CONFIG": str(config)})
    assert set(parsed["dags"]) == {"saaslens_okta_good", REPORTS_DAG}  # disabled: no DAG; broken: no DAG
    ((path, message),) = parsed["errors"].items()
    assert path.endswith("connected_apps_config_check.py")
    assert str(config) in message and "'broken'" in message and "pool_slots" in message
    # the disabled instance keeps its pool, so re-enabling needs no bootstrap
    assert "saaslens_okta_paused" in {p.name for p in plan(config=config).pools}


def test_parsing_context_builds_only_the_requested_dag():
    assert set(build_dags(only_dag_id="saaslens_okta_globex")) == {"saaslens_okta_globex"}
    parsed = dagbag({"_AIRFLOW_PARSING_CONTEXT_DAG_ID": "saaslens_okta_acme"})
    assert set(parsed["dags"]) == {"saaslens_okta_acme"}


def test_schedules_reach_airflow_as_airflow_reads_them(tmp_path):
    """A cron text stays text; an ISO 8601 duration becomes a timedelta, which Airflow runs every
    that long (its DeltaTriggerTimetable); a preset stays a preset."""
    config = tmp_path / "apps.yaml"
    config.write_text(
        textwrap.dedent("""
        instances:
          - {app: okta, name: cron, conn_id: c1, schedule: "0 */6 * * *"}
          - {app: okta, name: every6h, conn_id: c2, schedule: PT6H}
          - {app: okta, name: daily, conn_id: c3, schedule: "@daily"}
    """)
    )
    parsed = dagbag({"SAASLENS_CONFIG": str(config)})
    assert parsed["errors"] == {}
    schedules = {dag_id: dag["schedule"] for dag_id, dag in parsed["dags"].items() if dag_id != REPORTS_DAG}
    assert schedules == {
        "saaslens_okta_cron": "0 */6 * * *",
        "saaslens_okta_every6h": "6:00:00",
        "saaslens_okta_daily": "@daily",
    }


def test_governance_dag_per_instance_with_an_action_connection(tmp_path):
    config = tmp_path / "apps.yaml"
    config.write_text(
        textwrap.dedent("""
        instances:
          - {app: google_workspace, name: acts, conn_id: c_scan, actions_conn_id: c_act}
          - {app: google_workspace, name: reads, conn_id: c_scan2}
    """)
    )
    parsed = dagbag({"SAASLENS_CONFIG": str(config)})
    assert parsed["errors"] == {}
    assert set(parsed["dags"]) == {
        "saaslens_google_workspace_acts",
        "saaslens_google_workspace_acts_governance",
        "saaslens_google_workspace_reads",
        # Drive file contents are readable, so each instance also gets its content-inspection DAG
        "saaslens_google_workspace_acts_dlp",
        "saaslens_google_workspace_reads_dlp",
        REPORTS_DAG,
    }
    dag = parsed["dags"]["saaslens_google_workspace_acts_governance"]
    assert dag["tasks"] == sorted(["plan", "approve", "apply", "verify", "record"])
    assert dag["edges"] == sorted(
        [["plan", "approve"], ["approve", "apply"], ["apply", "verify"], ["verify", "record"]]
    )
    assert dag["pools"] == ["saaslens_google_workspace_acts"]
    assert dag["trigger_rules"]["record"] == "all_done"
    assert dag["schedule"] == "None" and dag["max_active_runs"] == 1
    assert "governance" in dag["tags"]
    assert parsed["heavy"] == []
