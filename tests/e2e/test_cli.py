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


def test_act_lists_dry_runs_refuses_an_unapproved_apply_and_records_every_run(tmp_path):
    """`saaslens act`: the actions and what the action connection may do; a dry run by default that
    sends nothing; --apply refused where the instance needs an approver, done where it does not;
    every run a governance_actions row the catalog shows."""
    spec = TenantSpec(app="okta", name="clia", seed=31, users=70, options={"anchor": ANCHOR.isoformat()})
    lake = tmp_path / "lake"

    def config(require_approval: bool) -> str:
        path = tmp_path / f"apps-{require_approval}.yaml"
        instance = {
            "app": "okta",
            "name": "clia",
            "conn_id": "okta_clia",
            "actions_conn_id": "okta_clia_actions",
            "governance": {"require_approval": require_approval},
        }
        path.write_text(yaml.safe_dump({"instances": [instance]}))
        return str(path)

    with SandboxServer([spec]) as server:
        truth = server.personality("okta", "clia").ground_truth()
        actions_token = truth["credentials"]["actions"]["token"]

        def conn(token: str) -> str:
            url = server.tenant_url("okta", "clia")
            return json.dumps({"conn_type": "http", "host": url, "password": token, "extra": {"auth": "ssws"}})

        env = {
            "SAASLENS_CONFIG": config(True),
            "SAASLENS_LAKE": str(lake),
            "AIRFLOW_CONN_OKTA_CLIA": conn("sandbox-okta-clia-admin"),
            "AIRFLOW_CONN_OKTA_CLIA_ACTIONS": conn(actions_token),
            "COLUMNS": "200",
        }
        assert saaslens("sync", "okta/clia", "--stage", "users", env=env).returncode == 0
        acting = {c["user_id"] for c in truth["credentials"].values() if isinstance(c, dict) and "user_id" in c}
        target = next(
            u
            for u in truth["users"]
            if u["status"] == "ACTIVE" and u["id"] not in acting and u["credentials"]["provider"]["type"] == "OKTA"
        )
        email = target["profile"]["email"]

        listed = saaslens("act", "okta/clia", "--list", env=env)
        assert listed.returncode == 0, listed.stdout + listed.stderr
        assert "suspend_user" in listed.stdout and "okta.users.manage" in listed.stdout
        assert actions_token not in listed.stdout + listed.stderr

        dry = saaslens("act", "okta/clia", "suspend_user", "--target", email, "--reason", "ticket 1", env=env)
        assert dry.returncode == 0, dry.stdout + dry.stderr
        assert "planned" in dry.stdout and "Dry run" in dry.stdout
        refused = saaslens("act", "okta/clia", "suspend_user", "--target", email, "--apply", env=env)
        assert refused.returncode == 2 and "requires approval" in refused.stdout
        unknown = saaslens("act", "okta/clia", "suspend_user", "--target", "nobody@example.com", env=env)
        assert unknown.returncode == 2 and "nobody@example.com" in unknown.stdout
        assert (
            next(u for u in server.personality("okta", "clia").ground_truth()["users"] if u["id"] == target["id"])[
                "status"
            ]
            == "ACTIVE"
        )

        applied = saaslens(
            "act",
            "okta/clia",
            "suspend_user",
            "--target",
            email,
            "--apply",
            env={**env, "SAASLENS_CONFIG": config(False)},
        )
        assert applied.returncode == 0, applied.stdout + applied.stderr
        assert "applied" in applied.stdout
        after = server.personality("okta", "clia").ground_truth()["users"]
        assert next(u for u in after if u["id"] == target["id"])["status"] == "SUSPENDED"

    built = saaslens("catalog", env=env)
    assert built.returncode == 0, built.stderr
    with duckdb.connect(built.stdout.strip(), read_only=True) as con:
        rows = con.execute(
            "select result, dry_run, target_id, target_name, reason from governance_actions order by recorded_at"
        ).fetchall()
    assert rows == [("planned", True, target["id"], email, "ticket 1"), ("applied", False, target["id"], email, None)]
