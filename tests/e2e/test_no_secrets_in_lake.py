"""No credential reaches the lake: not the connection's secrets, nor tokens obtained at run time.

Every secret enters the process through the redaction registry (connection fields, token
responses), so after a full sync of each app the registry lists exactly what must not be found.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pyarrow.parquet as pq
import pytest

from bench.sync_throughput import EVENT_OPTION, connection_for
from saaslens.config import InstanceConfig
from saaslens.connectors import registry
from saaslens.http import redaction
from saaslens.lake.writer import Lake, snapshot_id_for
from saaslens.runner import RunContext, run_stage
from saaslens_sandbox.core import SandboxServer, TenantSpec
from tests.e2e.okta_helpers import ANCHOR

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("app", registry.known_apps())
def test_full_sync_leaves_no_secret_in_the_lake(app, lake_root):
    options = {EVENT_OPTION.get(app, "events"): 300, "anchor": ANCHOR.isoformat()}
    if app == "github":
        # An owner's token that may also read the Actions policies and webhooks (whose configuration
        # holds their secrets), so the settings stage runs and its rows are searched too.
        scopes = ["admin:org", "admin:org_hook", "read:audit_log"]
        options["tokens"] = [{"token": "ghp_secretsposture000000000000000000", "scopes": scopes, "owner": True}]
    spec = TenantSpec(app=app, name="secrets", seed=41, users=40, options=options)
    with SandboxServer([spec]) as server:
        truth = server.personality(app, "secrets").ground_truth()
        connection = connection_for(
            app, server.tenant_url(app, "secrets"), truth["credentials"], (truth.get("org") or {}).get("login")
        )
        instance = InstanceConfig(app=app, name="secrets", conn_id="secrets")
        ctx = RunContext(run_id="secrets", snapshot_id=snapshot_id_for(datetime.now(UTC)))
        results = {
            s: run_stage(instance, s, ctx, Lake(lake_root), connection=connection)
            for s in registry.app_spec(app).stage_names
        }
    assert all(r.status == "success" for r in results.values()), results
    secrets = [s for s in redaction._secrets if len(s) >= 12]  # lines of keys are registered too
    assert connection.password is None or connection.password in redaction._secrets
    stored = [p for p in lake_root.rglob("*") if p.is_file()]
    assert any(p.suffix == ".parquet" for p in stored)
    for path in stored:
        # Parquet pages are compressed: search the decoded values, not the file's bytes.
        data = (
            json.dumps(pq.read_table(path).to_pylist(), default=str).encode()
            if path.suffix == ".parquet"
            else path.read_bytes()
        )
        leaked = [s[:6] + "..." for s in secrets if s.encode() in data]
        assert not leaked, f"{path.relative_to(lake_root)} contains {leaked}"
