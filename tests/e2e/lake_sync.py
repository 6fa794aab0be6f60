"""Sync sandbox tenants of any connector into a lake, the way the DAG tasks do (runner.run_stage).

The credentials each personality hands out by default come from its ground truth, so one helper
serves every app: the findings and analyst-doc tests sync five apps side by side with it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from saaslens.config import InstanceConfig
from saaslens.connections import ConnectionInfo
from saaslens.lake.writer import Lake, snapshot_id_for
from saaslens.runner import RunContext, StageResult, run_stage
from saaslens_sandbox.core import SandboxServer

# Stages each connector has, in DAG order (GitHub and Okta have no files stage).
STAGES = {
    "okta": ["authenticate", "users", "groups", "privileges", "app_permissions", "activities"],
    "github": ["authenticate", "users", "groups", "privileges", "app_permissions", "activities"],
    "google_workspace": ["authenticate", "users", "groups", "privileges", "app_permissions", "activities", "files"],
    "microsoft365": ["authenticate", "users", "groups", "privileges", "app_permissions", "activities", "files"],
    "slack": ["authenticate", "users", "groups", "privileges", "app_permissions", "activities", "files"],
    "box": ["authenticate", "users", "groups", "privileges", "activities", "files"],
    "dropbox": ["authenticate", "users", "groups", "privileges", "app_permissions", "activities"],
}

APPS_WITH_SANDBOX = sorted(STAGES)


def connection(server: SandboxServer, app: str, tenant: str, truth: dict[str, Any]) -> ConnectionInfo:
    """The connection an admin would fill in for the tenant's default, fully privileged credentials."""
    url = server.tenant_url(app, tenant)
    conn_id = f"{app}_{tenant}"
    if app == "okta":
        return ConnectionInfo(conn_id, "http", url, password=f"sandbox-okta-{tenant}-admin", extra={"auth": "ssws"})
    if app == "slack":
        return ConnectionInfo(
            conn_id, "http", url, password=f"xoxp-sandbox-{tenant}-owner", extra={"audit_base_url": f"{url}/audit/v1"}
        )
    if app == "github":
        token = next(
            t["token"]
            for t in truth["credentials"]["tokens"]
            if t["kind"] == "classic" and t["owner"] and "read:audit_log" in t["scopes"]
        )
        return ConnectionInfo(conn_id, "http", url, password=token, extra={"org": truth["org"]["login"]})
    if app == "google_workspace":
        credentials = truth["credentials"]
        key_file = credentials["service_accounts"]["scanner"]["key_file"]
        return ConnectionInfo(
            conn_id, "google_workspace", url, password=json.dumps(key_file), extra={"subject": credentials["subject"]}
        )
    if app == "microsoft365":
        credentials = truth["credentials"]
        client = credentials["clients"][0]
        fields = {
            "tenant_id": credentials["tenant_id"],
            "client_id": client["client_id"],
            "client_secret": client.get("client_secret"),
            "token_url": credentials["token_url"],
        }
        return ConnectionInfo(conn_id, "http", url, extra={k: v for k, v in fields.items() if v is not None})
    if app == "box":
        return _box_connection(conn_id, url, truth, "scan")
    if app == "dropbox":
        return _dropbox_connection(conn_id, url, truth, "scanner")
    raise ValueError(f"no sandbox connection recipe for app {app!r}")


def actions_connection(server: SandboxServer, app: str, tenant: str, truth: dict[str, Any]) -> ConnectionInfo:
    """The connection an admin would give `actions_conn_id`: the tenant's write-capable credentials."""
    url = server.tenant_url(app, tenant)
    conn_id = f"{app}_{tenant}_actions"
    credentials = truth["credentials"]
    if app == "okta":
        # A small tenant may have no super admin besides the one the default token acts as: then
        # that token is the write-capable one (the sandbox only adds `actions` for another admin).
        token = credentials.get("actions", {}).get("token") or f"sandbox-okta-{tenant}-admin"
        return ConnectionInfo(conn_id, "http", url, password=token, extra={"auth": "ssws"})
    if app == "slack":
        extra = {"audit_base_url": f"{url}/audit/v1", "scim_base_url": f"{url}/scim/v1"}
        return ConnectionInfo(conn_id, "http", url, password=f"xoxp-sandbox-{tenant}-actions", extra=extra)
    if app == "github":
        token = next(
            t["token"]
            for t in credentials["tokens"]
            if t["kind"] == "classic" and set(t["scopes"]) == {"admin:org", "read:audit_log"}
        )
        return ConnectionInfo(conn_id, "http", url, password=token, extra={"org": truth["org"]["login"]})
    if app == "google_workspace":
        key_file = credentials["service_accounts"]["actions"]["key_file"]
        return ConnectionInfo(
            conn_id, "google_workspace", url, password=json.dumps(key_file), extra={"subject": credentials["subject"]}
        )
    if app == "microsoft365":
        client = credentials["actions"]
        fields = {
            "tenant_id": credentials["tenant_id"],
            "client_id": client["client_id"],
            "client_secret": client["client_secret"],
            "token_url": credentials["token_url"],
        }
        return ConnectionInfo(conn_id, "http", url, extra=fields)
    if app == "box":
        return _box_connection(conn_id, url, truth, "actions")
    if app == "dropbox":
        return _dropbox_connection(conn_id, url, truth, "actions")
    raise ValueError(f"no sandbox actions connection recipe for app {app!r}")


def _box_connection(conn_id: str, url: str, truth: dict[str, Any], role: str) -> ConnectionInfo:
    """Box: the sandbox app whose client id ends in `role` (scan: read scopes and the event log;
    actions: every scope), authenticating with the client credentials grant."""
    credentials = truth["credentials"]
    client = next(c for c in credentials["clients"] if c["client_id"].endswith(f"-{role}"))
    extra = {"enterprise_id": credentials["enterprise_id"]}
    return ConnectionInfo(
        conn_id, "http", url, login=client["client_id"], password=client["client_secret"], extra=extra
    )


def _dropbox_connection(conn_id: str, url: str, truth: dict[str, Any], link: str) -> ConnectionInfo:
    """Dropbox: the team app's key and secret, and the refresh token of the admin's link named `link`
    (scanner: every read scope; actions: members.write and sharing.write too)."""
    credentials = truth["credentials"]
    token = credentials["refresh_tokens"][link]["token"]
    return ConnectionInfo(
        conn_id,
        "http",
        url,
        login=credentials["client_id"],
        password=credentials["client_secret"],
        extra={"refresh_token": token},
    )


def sync(
    server: SandboxServer,
    lake: Lake,
    app: str,
    tenant: str,
    truth: dict[str, Any],
    *,
    instance_name: str | None = None,
    moment: datetime | None = None,
    stages: list[str] | None = None,
    options: dict[str, Any] | None = None,
) -> dict[str, StageResult]:
    """Run every stage of one instance (with connector `options` added); raises if any stage did
    not succeed."""
    moment = moment or datetime.now(UTC)
    inst = InstanceConfig(
        app=app,
        name=instance_name or tenant,
        conn_id=f"{app}_{tenant}",
        options={"max_workers": 2, "retry_initial_backoff_seconds": 0.05, **(options or {})},
    )
    ctx = RunContext(run_id=f"test-{moment:%H%M%S%f}", snapshot_id=snapshot_id_for(moment))
    conn = connection(server, app, tenant, truth)
    results = {stage: run_stage(inst, stage, ctx, lake, connection=conn) for stage in stages or STAGES[app]}
    failed = {stage: result for stage, result in results.items() if result.status != "success"}
    if failed:
        raise AssertionError(f"{app}/{tenant}: stages did not succeed: {failed}")
    return results
