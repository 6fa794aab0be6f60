"""Issue 10, item 11: the connected-apps file lets nothing through that breaks later, elsewhere.

A name ending in a newline passed (`re.match` with `$`), `dash-1` and `dash_1` became one DAG id so
one instance silently vanished, and a schedule Airflow refuses passed `saaslens validate` and then
broke the whole DAG file without naming the instance."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

import saaslens.config as config_module
from saaslens.config import InstanceConfig
from saaslens.connectors.instances import load_connected_apps
from saaslens_sandbox.core import TenantSpec

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, instances: list[dict]) -> Path:
    path = tmp_path / "apps.yaml"
    path.write_text(yaml.safe_dump({"instances": instances}))
    return path


@pytest.mark.parametrize("name", ["acme\n", "acme\n\n", "\nacme"])
def test_a_name_with_a_newline_is_refused(tmp_path, name):
    apps = load_connected_apps(write(tmp_path, [{"app": "okta", "name": name, "conn_id": "c"}]))
    assert apps.instances == []
    (error,) = apps.errors
    assert "field 'name'" in error.message


def test_a_sandbox_tenant_name_with_a_newline_is_refused():
    with pytest.raises(ValidationError, match="name"):
        TenantSpec(app="okta", name="corp\n")


def test_a_conn_id_with_a_newline_is_refused(tmp_path):
    apps = load_connected_apps(write(tmp_path, [{"app": "okta", "name": "a", "conn_id": "okta_a\n"}]))
    assert apps.instances == [] and "field 'conn_id'" in apps.errors[0].message


def test_names_that_map_to_one_dag_id_are_refused_naming_both(tmp_path):
    apps = load_connected_apps(
        write(
            tmp_path,
            [
                {"app": "okta", "name": "dash-1", "conn_id": "a"},
                {"app": "okta", "name": "dash_1", "conn_id": "b"},
                {"app": "slack", "name": "dash-1", "conn_id": "c"},  # another app: another DAG id
            ],
        )
    )
    assert [(i.app, i.name) for i in apps.instances] == [("okta", "dash-1"), ("slack", "dash-1")]
    (error,) = apps.errors
    assert (error.app, error.name) == ("okta", "dash_1")
    assert "okta/dash-1" in str(error) and "okta/dash_1" in str(error)
    assert "saaslens_okta_dash_1" in str(error)


ACCEPTED = (
    *(None, "@once", "@continuous", "@hourly", "@daily", "@weekly", "@monthly", "@quarterly", "@yearly"),
    *("@midnight", "@annually", "0 */6 * * *", "0 9 * * MON-FRI", "0 0 L * *", "*/5 * * * * 30"),
    *("PT6H", "P1D", "PT30M", "P1DT12H"),  # ISO 8601 durations, handed to Airflow as timedeltas
)


@pytest.mark.parametrize("schedule", ACCEPTED)
def test_schedules_airflow_accepts_are_accepted(schedule):
    assert InstanceConfig(app="okta", name="a", conn_id="c", schedule=schedule).schedule == schedule


@pytest.mark.parametrize(
    "schedule", ["every day", "None", "", "0 25 * * *", "* * *", "@reboot", "6h", "PT0S", "PTXH", "P-1D"]
)
def test_schedules_airflow_refuses_are_refused_naming_the_instance(tmp_path, schedule):
    apps = load_connected_apps(
        write(
            tmp_path,
            [
                {"app": "okta", "name": "good", "conn_id": "a"},
                {"app": "okta", "name": "late", "conn_id": "b", "schedule": schedule},
            ],
        )
    )
    assert [i.name for i in apps.instances] == ["good"]
    (error,) = apps.errors
    assert "'late'" in str(error) and "field 'schedule'" in str(error) and repr(schedule) in str(error)


def test_the_presets_are_airflows():
    from airflow.sdk.definitions.timetables._cron import CRON_PRESETS

    assert getattr(config_module, "AIRFLOW_CRON_PRESETS", None) == CRON_PRESETS


def test_validate_reports_each_gap_and_exits_1(tmp_path):
    config = write(
        tmp_path,
        [
            {"app": "okta", "name": "good", "conn_id": "a"},
            {"app": "okta", "name": "good\n", "conn_id": "b"},
            {"app": "okta", "name": "dash-1", "conn_id": "c"},
            {"app": "okta", "name": "dash_1", "conn_id": "d"},
            {"app": "okta", "name": "late", "conn_id": "e", "schedule": "every day"},
        ],
    )
    done = subprocess.run(
        [sys.executable, "-m", "saaslens.cli", "validate"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "SAASLENS_CONFIG": str(config)},
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "ok     okta/good " in done.stdout and "ok     okta/dash-1 " in done.stdout
    errors = [line for line in done.stderr.splitlines() if line.startswith("error")]
    assert len(errors) == 3, done.stderr
    assert "'good\\n'" in done.stderr and "field 'name'" in done.stderr
    assert "okta/dash-1" in done.stderr and "okta/dash_1" in done.stderr
    assert "'late'" in done.stderr and "field 'schedule'" in done.stderr and "'every day'" in done.stderr


def test_the_config_check_dag_names_the_instance_and_the_other_dags_load(tmp_path):
    config = write(
        tmp_path,
        [
            {"app": "okta", "name": "good", "conn_id": "a"},
            {"app": "okta", "name": "late", "conn_id": "b", "schedule": "every day"},
            {"app": "okta", "name": "dash-1", "conn_id": "c"},
            {"app": "okta", "name": "dash_1", "conn_id": "d"},
        ],
    )
    code = textwrap.dedent(f"""
        import json
        from airflow.dag_processing.dagbag import DagBag
        bag = DagBag(dag_folder={str(ROOT / "dags")!r})
        print(json.dumps({{"errors": {{k: str(v) for k, v in bag.import_errors.items()}}, "dags": sorted(bag.dags)}}))
    """)
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "SAASLENS_CONFIG": str(config)},
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    import json

    parsed = json.loads(done.stdout.strip().splitlines()[-1])
    assert {"saaslens_okta_good", "saaslens_okta_dash_1"} <= set(parsed["dags"])
    ((path, message),) = parsed["errors"].items()
    assert path.endswith("connected_apps_config_check.py"), parsed["errors"]
    assert "'late'" in message and "field 'schedule'" in message
    assert "okta/dash-1" in message and "okta/dash_1" in message
