"""The `saaslens` command against the sandbox, as a user would run it (separate processes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import duckdb
import pytest
import yaml

from saaslens_sandbox.core import SandboxServer, TenantSpec
from tests.e2e.okta_helpers import ANCHOR

pytestmark = pytest.mark.integration


def saaslens(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "saaslens.cli", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **env},
        check=False,
    )


def test_sync_catalog_summary_and_ground_truth_export(tmp_path):
    spec = TenantSpec(app="okta", name="cli", seed=31, users=70, options={"anchor": ANCHOR.isoformat()})
    config = tmp_path / "apps.yaml"
    config.write_text(yaml.safe_dump({"instances": [{"app": "okta", "name": "cli", "conn_id": "okta_cli"}]}))
    lake = tmp_path / "lake"
    with SandboxServer([spec]) as server:
        connection = {
            "conn_type": "http",
            "host": server.tenant_url("okta", "cli"),
            "password": "sandbox-okta-cli-admin",
            "extra": {"auth": "ssws"},
        }
        env = {
            "SAASLENS_CONFIG": str(config),
            "SAASLENS_LAKE": str(lake),
            "AIRFLOW_CONN_OKTA_CLI": json.dumps(connection),
        }
        synced = saaslens("sync", "okta/cli", env=env)
        assert synced.returncode == 0, synced.stdout + synced.stderr
        assert "sandbox-okta-cli-admin" not in synced.stdout + synced.stderr
        truth = server.personality("okta", "cli").ground_truth()

    built = saaslens("catalog", env=env)
    assert built.returncode == 0 and built.stdout.strip().endswith("saaslens.duckdb")
    with duckdb.connect(built.stdout.strip(), read_only=True) as con:
        assert con.execute("select count(*) from accounts").fetchone()[0] == len(truth["users"])
        assert con.execute("select count(distinct event_id) from activities").fetchone()[0] == len(truth["log_events"])
        statuses = dict(con.execute("select stage, status from scan_runs").fetchall())
    assert set(statuses.values()) == {"success"}
    summary = saaslens("summary", env=env)
    assert summary.returncode == 0 and "Accounts by status" in summary.stdout

    exported = saaslens(
        "sandbox",
        "--export-ground-truth",
        str(tmp_path / "truth"),
        env={"SAASLENS_SANDBOX_CONFIG": str(_sandbox_config(tmp_path, spec))},
    )
    assert exported.returncode == 0, exported.stderr
    assert len(json.loads((tmp_path / "truth" / "okta-cli.json").read_text())["users"]) == len(truth["users"])


def _sandbox_config(tmp_path, spec):
    path = tmp_path / "sandbox.yaml"
    path.write_text(yaml.safe_dump({"port": 0, "tenants": [json.loads(spec.model_dump_json())]}))
    return path


def test_errors_name_the_thing_at_fault(tmp_path):
    config = tmp_path / "apps.yaml"
    config.write_text(
        "instances:\n  - {app: okta, name: ok, conn_id: c}\n  - {app: okta, name: bad, conn_id: c, pool_slots: 0}\n"
    )
    env = {
        "SAASLENS_CONFIG": str(config),
        "SAASLENS_LAKE": str(tmp_path / "lake"),
        "SAASLENS_AIRFLOW_SETTINGS": str(tmp_path / "none.yaml"),
    }
    validated = saaslens("validate", env=env)
    assert validated.returncode == 1 and "'bad'" in validated.stderr and "pool_slots" in validated.stderr
    unknown = saaslens("sync", "nope", env=env)
    assert unknown.returncode == 2 and "no instance 'nope'" in unknown.stdout
    stage = saaslens("sync", "ok", "--stage", "files", env=env)
    assert stage.returncode == 2 and "has no stage files" in stage.stdout
    missing = saaslens("sync", "ok", "--stage", "users", env=env)
    assert missing.returncode == 1 and "AIRFLOW_CONN_C" in missing.stdout
