"""`accounts.last_login_at` holds successful sign-ins only; a failed attempt never makes a dormant
account look active (issue 10, item 14).

Microsoft Graph's signInActivity: ``lastSignInDateTime`` is the last interactive sign-in *attempt*,
"successful or not", and ``lastSuccessfulSignInDateTime`` the last successful one
(https://learn.microsoft.com/graph/api/resources/signinactivity). A password spray against a
dormant account moves the first and not the second. The attempt goes to ``last_login_attempt_at``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from saaslens.config import InstanceConfig
from saaslens.connectors.microsoft365 import transform
from saaslens.lake.schema import TABLES
from saaslens.lake.writer import Lake, snapshot_id_for
from saaslens.runner import RunContext, run_stage
from saaslens.transform_utils import parse_time
from saaslens_sandbox.core import SandboxServer, TenantSpec
from tests.e2e.lake_sync import connection

APP = "microsoft365"
ANCHOR = (datetime.now(UTC) - timedelta(minutes=10)).replace(microsecond=0)


def test_a_failed_attempt_is_not_a_login():
    user = {
        "id": "u1",
        "userPrincipalName": "dormant@contoso.example",
        "accountEnabled": True,
        "createdDateTime": "2021-03-01T08:00:00Z",
        "signInActivity": {
            "lastSignInDateTime": "2026-11-30T02:14:09Z",
            "lastNonInteractiveSignInDateTime": None,
            "lastSuccessfulSignInDateTime": None,
        },
    }
    row = transform.account_row(user, set())
    assert row["last_login_at"] is None
    assert row["last_login_attempt_at"] == datetime(2026, 11, 30, 2, 14, 9, tzinfo=UTC)


def test_the_latest_attempt_is_interactive_or_not_and_a_success_stays_a_success():
    user = {
        "id": "u2",
        "signInActivity": {
            "lastSignInDateTime": "2026-11-01T00:00:00Z",
            "lastNonInteractiveSignInDateTime": "2026-11-20T00:00:00Z",
            "lastSuccessfulSignInDateTime": "2026-11-01T00:00:00Z",
        },
    }
    row = transform.account_row(user, set())
    assert row["last_login_at"] == datetime(2026, 11, 1, tzinfo=UTC)
    assert row["last_login_attempt_at"] == datetime(2026, 11, 20, tzinfo=UTC)


def test_accounts_table_has_a_separate_nullable_attempt_column():
    columns = {c.name: c for c in TABLES["accounts"].columns}
    assert columns["last_login_attempt_at"].type == "timestamp"
    assert not columns["last_login_attempt_at"].required
    assert "successful" in columns["last_login_at"].description.lower()


@pytest.mark.integration
def test_sandbox_tenant_with_sprayed_dormant_accounts_syncs_them_without_a_login(tmp_path):
    spec = TenantSpec(app=APP, name="sprayed", seed=51, users=40, options={"anchor": ANCHOR.isoformat()})
    with SandboxServer([spec]) as server:
        truth = server.personality(APP, "sprayed").ground_truth()
        inst = InstanceConfig(app=APP, name="sprayed", conn_id="m365_sprayed")
        ctx = RunContext(run_id="spray", snapshot_id=snapshot_id_for(datetime.now(UTC)))
        lake = Lake(tmp_path / "lake")
        conn = connection(server, APP, "sprayed", truth)
        for stage in ("authenticate", "users"):
            assert run_stage(inst, stage, ctx, lake, connection=conn).status == "success"
    sprayed = {
        u["id"]: u["signInActivity"]
        for u in truth["users"]
        if u.get("signInActivity")
        and u["signInActivity"]["lastSuccessfulSignInDateTime"] is None
        and u["signInActivity"]["lastSignInDateTime"] is not None
    }
    assert sprayed, "the sandbox generated no account with only failed sign-in attempts"
    accounts = {a["account_id"]: a for a in lake.read_snapshot("accounts", APP, "sprayed").to_pylist()}
    for user_id, activity in sprayed.items():
        assert accounts[user_id]["last_login_at"] is None
        assert accounts[user_id]["last_login_attempt_at"] == parse_time(activity["lastSignInDateTime"])
