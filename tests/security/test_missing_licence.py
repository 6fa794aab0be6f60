"""A plan or licence that lacks a feature skips the stages that need it, with the reason; it never
fails `authenticate` or the sync (issue 10, item 13).

The Microsoft 365 sandbox emulates a tenant without a SharePoint Online licence: every OneDrive and
SharePoint request answers Graph's 400 ``BadRequest`` "Tenant does not have a SPO license."."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import httpx
import pyarrow.parquet as pq
import pytest
import yaml

from saaslens.http import FeatureUnavailableError, NotFoundError
from saaslens.lake.writer import Lake
from saaslens_sandbox.core import SandboxServer, TenantSpec
from tests.e2e.lake_sync import connection

pytestmark = pytest.mark.integration

APP = "microsoft365"
ANCHOR = (datetime.now(UTC) - timedelta(minutes=10)).replace(microsecond=0)


@pytest.fixture(scope="module")
def server():
    specs = [
        TenantSpec(
            app=APP, name="nospo", seed=41, users=20, options={"anchor": ANCHOR.isoformat(), "sharepoint_online": False}
        )
    ]
    with SandboxServer(specs) as running:
        yield running


def test_sandbox_answers_graphs_spo_licence_error_for_every_files_request(server):
    truth = server.personality(APP, "nospo").ground_truth()
    credentials = truth["credentials"]
    client = credentials["clients"][0]
    token = httpx.post(
        credentials["token_url"],
        data={
            "grant_type": "client_credentials",
            "client_id": client["client_id"],
            "client_secret": client["client_secret"],
            "scope": "https://graph.microsoft.com/.default",
        },
    ).json()["access_token"]
    base = server.tenant_url(APP, "nospo")
    headers = {"Authorization": f"Bearer {token}"}
    user_id = truth["users"][0]["id"]
    for path in (f"/v1.0/users/{user_id}/drive", "/v1.0/sites"):
        response = httpx.get(base + path, headers=headers)
        assert response.status_code == 400
        error = response.json()["error"]
        assert (error["code"], error["message"]) == ("BadRequest", "Tenant does not have a SPO license.")
        assert set(error["innerError"]) == {"date", "request-id", "client-request-id"}
    assert truth["files"] == [] and truth["sharepoint_online"] is False


def test_graph_error_policy_reads_the_spo_licence_answer_as_a_missing_feature_not_a_missing_drive():
    from saaslens.connectors.microsoft365.connector import GraphErrorPolicy

    def error(status: int, code: str, message: str):
        request = httpx.Request("GET", "https://graph.microsoft.com/v1.0/users/u1/drive")
        body = {"error": {"code": code, "message": message, "innerError": {"request-id": "r", "date": "d"}}}
        return GraphErrorPolicy().error_for(httpx.Response(status, json=body, request=request))

    assert isinstance(error(400, "BadRequest", "Tenant does not have a SPO license."), FeatureUnavailableError)
    # One user without a provisioned OneDrive is that user's business, not the tenant's licence.
    assert isinstance(error(404, "ResourceNotFound", "User's mysite not found."), NotFoundError)


def test_tenant_without_sharepoint_licence_authenticates_skips_files_and_the_sync_exits_0(server, tmp_path):
    truth = server.personality(APP, "nospo").ground_truth()
    conn = connection(server, APP, "nospo", truth)
    config = tmp_path / "apps.yaml"
    config.write_text(yaml.safe_dump({"instances": [{"app": APP, "name": "nospo", "conn_id": "m365_nospo"}]}))
    lake_root = tmp_path / "lake"
    env = {
        **os.environ,
        "SAASLENS_CONFIG": str(config),
        "SAASLENS_LAKE": str(lake_root),
        "AIRFLOW_CONN_M365_NOSPO": json.dumps(
            {"conn_type": conn.conn_type, "host": conn.host, "extra": dict(conn.extra)}
        ),
    }
    synced = subprocess.run(
        [sys.executable, "-m", "saaslens.cli", "sync", f"{APP}/nospo"],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        check=False,
    )
    assert synced.returncode == 0, synced.stdout + synced.stderr

    lake = Lake(lake_root)
    permissions = lake.read_snapshot("instance_permissions", APP, "nospo")
    assert permissions is not None, "authenticate wrote no instance_permissions"
    stages = {row["name"]: row for row in permissions.to_pylist() if row["kind"] == "stage"}
    assert stages["files"]["granted"] is False
    assert "Tenant does not have a SPO license" in stages["files"]["detail"]
    assert all(stages[s]["granted"] for s in ("users", "groups", "privileges", "app_permissions"))

    run_files = sorted((lake_root / "scan_runs").glob(f"app={APP}/instance=nospo/*/*.parquet"))
    runs = {row["stage"]: row for f in run_files for row in pq.read_table(f).to_pylist()}
    assert runs["authenticate"]["status"] == "success"
    assert runs["files"]["status"] == "skipped"
    assert "Tenant does not have a SPO license" in runs["files"]["error"]
    assert all(runs[s]["status"] == "success" for s in ("users", "groups", "privileges", "app_permissions"))
    assert lake.read_snapshot("accounts", APP, "nospo").num_rows == len(truth["users"])
    assert lake.read_snapshot("files", APP, "nospo") is None
