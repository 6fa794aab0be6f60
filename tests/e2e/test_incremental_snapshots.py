"""Incremental snapshots: between full listings a users scan reads only the provider's changes
(Graph delta query, Okta lastUpdated), publishes a complete snapshot equal to the ground truth,
removes accounts only on the provider's own deletion signal, and never moves its cursor when the
change listing fails."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow.parquet as pq
import pytest

from saaslens.config import InstanceConfig
from saaslens.connections import ConnectionInfo
from saaslens.lake.writer import Lake, snapshot_id_for
from saaslens.runner import RunContext, StageFailed, run_stage
from saaslens_sandbox.core import FaultConfig, RateLimitConfig, SandboxServer, TenantSpec

pytestmark = pytest.mark.integration
ANCHOR = (datetime.now(UTC) - timedelta(minutes=10)).replace(microsecond=0)


@pytest.fixture(scope="module")
def server():
    specs = [
        TenantSpec(
            app="microsoft365",
            name="deltaco",
            seed=31,
            users=260,
            options={
                "anchor": ANCHOR.isoformat(),
                "events": 10,
                "clients": [
                    {"client_id": "7c1d2e3f-0000-4000-8000-00000000a001", "client_secret": "sandbox-full"},
                    # Consented to audit logs only: every directory read is denied.
                    {
                        "client_id": "7c1d2e3f-0000-4000-8000-00000000a002",
                        "client_secret": "sandbox-audit-only",
                        "roles": ["AuditLog.Read.All"],
                    },
                ],
            },
            rate_limits=RateLimitConfig(enabled=False),
        ),
        TenantSpec(
            app="okta",
            name="incokta",
            seed=32,
            users=180,
            options={"anchor": ANCHOR.isoformat(), "log_events": 200},
            rate_limits=RateLimitConfig(enabled=False),
        ),
    ]
    with SandboxServer(specs) as running:
        yield running


def m365_connection(server, tenant: str, client_index: int = 0) -> ConnectionInfo:
    creds = server.personality("microsoft365", tenant).ground_truth()["credentials"]
    client = creds["clients"][client_index]
    return ConnectionInfo(
        conn_id=f"m365_{tenant}",
        conn_type="http",
        host=server.tenant_url("microsoft365", tenant),
        extra={
            "tenant_id": creds["tenant_id"],
            "client_id": client["client_id"],
            "client_secret": client["client_secret"],
            "token_url": creds["token_url"],
        },
    )


def okta_connection(server, tenant: str) -> ConnectionInfo:
    return ConnectionInfo(
        conn_id=f"okta_{tenant}",
        conn_type="http",
        host=server.tenant_url("okta", tenant),
        password=f"sandbox-okta-{tenant}-admin",
        extra={"auth": "ssws"},
    )


class Clock:
    """Snapshot ids one second apart, so every run publishes a new snapshot."""

    def __init__(self) -> None:
        self.moment = datetime.now(UTC).replace(microsecond=0)

    def ctx(self, attempt: int = 1) -> RunContext:
        self.moment += timedelta(seconds=1)
        return RunContext(run_id=f"t{self.moment:%H%M%S}", snapshot_id=snapshot_id_for(self.moment), attempt=attempt)


def last_run(lake: Lake, app: str, name: str) -> dict[str, Any]:
    files = sorted((lake.root / "scan_runs").glob(f"app={app}/instance={name}/*/*.parquet"))
    rows = [row for f in files for row in pq.read_table(f).to_pylist()]
    return max(rows, key=lambda r: r["started_at"])


def m365_status(user: dict[str, Any]) -> str:
    if user.get("externalUserState") == "PendingAcceptance":
        return "pending"
    return "active" if user["accountEnabled"] else "suspended"


def assert_m365_accounts_equal_truth(lake: Lake, server, name: str) -> dict[str, dict[str, Any]]:
    accounts = {a["account_id"]: a for a in lake.read_snapshot("accounts", "microsoft365", name).to_pylist()}
    truth = server.personality("microsoft365", name).ground_truth()
    assert {i: a["status"] for i, a in accounts.items()} == {u["id"]: m365_status(u) for u in truth["users"]}
    assert {i for i, a in accounts.items() if a["is_admin"]} == set(truth["admin_user_ids"])
    return accounts


def test_graph_delta_incremental_users_equal_ground_truth(server, tmp_path):
    lake, clock, conn = Lake(tmp_path / "lake"), Clock(), m365_connection(server, "deltaco")
    inst = InstanceConfig(app="microsoft365", name="deltaco", conn_id="m365_deltaco", options={"max_workers": 2})
    graph = server.personality("microsoft365", "deltaco")

    full = run_stage(inst, "users", clock.ctx(), lake, connection=conn)
    assert full.status == "success" and last_run(lake, "microsoft365", "deltaco")["scan_mode"] == "full"
    before = assert_m365_accounts_equal_truth(lake, server, "deltaco")
    full_requests = full.metrics["requests"]

    change = graph.advance({"changed_users": 9, "new_users": 4, "deleted_users": 3})
    incremental = run_stage(inst, "users", clock.ctx(), lake, connection=conn)
    assert incremental.status == "success", incremental.detail
    assert last_run(lake, "microsoft365", "deltaco")["scan_mode"] == "incremental"
    assert "9 changed, 4 new, 3 removed" in incremental.detail
    after = assert_m365_accounts_equal_truth(lake, server, "deltaco")
    assert set(change["deleted_users"]) <= set(before) and not set(change["deleted_users"]) & set(after)
    # Delta does not report signInActivity: a changed user keeps the last sign-in the full listing saw.
    for user_id in change["changed_users"]:
        assert after[user_id]["last_login_at"] == before[user_id]["last_login_at"]
    assert incremental.metrics["requests"] < full_requests
    print(f"graph users: full {full_requests:.0f} requests, incremental {incremental.metrics['requests']:.0f}")

    # A change listing that fails publishes nothing and keeps the cursor: the next run catches up.
    snapshots = lake.snapshot_ids("accounts", "microsoft365", "deltaco")
    graph.advance({"changed_users": 5, "deleted_users": 2})
    graph.set_faults(FaultConfig(rate_5xx=1.0))
    try:
        with pytest.raises(StageFailed):
            run_stage(
                inst.model_copy(update={"options": {"retry_max_attempts": 1}}),
                "users",
                clock.ctx(),
                lake,
                connection=conn,
            )
    finally:
        graph.set_faults(FaultConfig())
    assert lake.snapshot_ids("accounts", "microsoft365", "deltaco") == snapshots
    # A denied change listing: the stage is skipped, nothing is removed, the cursor stays.
    denied = run_stage(inst, "users", clock.ctx(), lake, connection=m365_connection(server, "deltaco", 1))
    assert denied.status == "skipped" and "denied" in denied.detail.lower()
    assert lake.snapshot_ids("accounts", "microsoft365", "deltaco") == snapshots
    assert run_stage(inst, "users", clock.ctx(), lake, connection=conn).status == "success"
    assert_m365_accounts_equal_truth(lake, server, "deltaco")

    # The reconciliation schedule: 0 hours means every run lists in full.
    always_full = inst.model_copy(update={"options": {"snapshot_reconcile_hours": 0}})
    assert run_stage(always_full, "users", clock.ctx(), lake, connection=conn).status == "success"
    assert last_run(lake, "microsoft365", "deltaco")["scan_mode"] == "full"
    assert_m365_accounts_equal_truth(lake, server, "deltaco")


def assert_okta_accounts_equal_truth(lake: Lake, server, name: str) -> dict[str, dict[str, Any]]:
    accounts = {a["account_id"]: a for a in lake.read_snapshot("accounts", "okta", name).to_pylist()}
    truth = server.personality("okta", name).ground_truth()
    assert {i: a["provider_status"] for i, a in accounts.items()} == {u["id"]: u["status"] for u in truth["users"]}
    assert {i for i, a in accounts.items() if a["is_admin"]} == {r["user_id"] for r in truth["role_assignments"]}
    return accounts


def assert_okta_groups_equal_truth(lake: Lake, server, name: str) -> None:
    truth = server.personality("okta", name).ground_truth()
    groups = lake.read_snapshot("groups", "okta", name).to_pylist()
    assert sorted(g["group_id"] for g in groups) == sorted(g["id"] for g in truth["groups"])
    members = [(m["group_id"], m["account_id"]) for m in lake.read_snapshot("group_members", "okta", name).to_pylist()]
    assert len(members) == len(set(members)), "duplicate memberships"
    assert set(members) == {(m["group_id"], m["user_id"]) for m in truth["memberships"]}


def test_okta_last_updated_incremental_users_equal_ground_truth(server, tmp_path):
    lake, clock, conn = Lake(tmp_path / "lake"), Clock(), okta_connection(server, "incokta")
    inst = InstanceConfig(app="okta", name="incokta", conn_id="okta_incokta", options={"max_workers": 2})
    okta = server.personality("okta", "incokta")
    # The sandbox dates an advance's events within (previous advance, now]: an empty advance first
    # keeps the deletions it will report after this full listing, as they would be in a real org.
    okta.advance({})

    full = run_stage(inst, "users", clock.ctx(), lake, connection=conn)
    assert full.status == "success" and last_run(lake, "okta", "incokta")["scan_mode"] == "full"
    before = assert_okta_accounts_equal_truth(lake, server, "incokta")
    full_groups = run_stage(inst, "groups", clock.ctx(), lake, connection=conn)
    assert full_groups.status == "success"
    assert_okta_groups_equal_truth(lake, server, "incokta")

    change = okta.advance(
        {
            "changed_users": 6,
            "new_users": 3,
            "deactivated_users": 2,
            "deleted_users": 2,
            "membership_changes": 8,
            "events": 20,
        }
    )
    groups = run_stage(inst, "groups", clock.ctx(), lake, connection=conn)
    assert groups.status == "success", groups.detail
    assert last_run(lake, "okta", "incokta")["scan_mode"] == "incremental"
    assert_okta_groups_equal_truth(lake, server, "incokta")
    assert groups.metrics["requests"] < full_groups.metrics["requests"]
    incremental = run_stage(inst, "users", clock.ctx(), lake, connection=conn)
    assert incremental.status == "success", incremental.detail
    assert last_run(lake, "okta", "incokta")["scan_mode"] == "incremental"
    after = assert_okta_accounts_equal_truth(lake, server, "incokta")
    deleted = set(change.get("deleted_users") or [])
    assert deleted and deleted <= set(before) and not deleted & set(after), change
    assert incremental.metrics["requests"] < full.metrics["requests"] + 2
    print(
        f"okta: users full {full.metrics['requests']:.0f} / incremental {incremental.metrics['requests']:.0f} "
        f"requests; groups full {full_groups.metrics['requests']:.0f} / incremental {groups.metrics['requests']:.0f}"
    )

    # Denied or failing: nothing published, nothing removed, the watermark stays; then it catches up.
    snapshots = lake.snapshot_ids("accounts", "okta", "incokta")
    okta.advance({"deleted_users": 1, "changed_users": 2})
    okta.set_faults(FaultConfig(rate_5xx=1.0))
    try:
        flaky = inst.model_copy(update={"options": {"retry_max_attempts": 1}})
        with pytest.raises(StageFailed):
            run_stage(flaky, "users", clock.ctx(), lake, connection=conn)
    finally:
        okta.set_faults(FaultConfig())
    assert lake.snapshot_ids("accounts", "okta", "incokta") == snapshots
    assert run_stage(inst, "users", clock.ctx(), lake, connection=conn).status == "success"
    assert_okta_accounts_equal_truth(lake, server, "incokta")
