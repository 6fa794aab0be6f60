"""Box end to end: every stage through the runner against the sandbox, lake == ground truth."""

from __future__ import annotations

import io
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from saaslens.config import InstanceConfig
from saaslens.connections import ConnectionInfo
from saaslens.connectors.box import contents
from saaslens.connectors.box.connector import BoxConnector
from saaslens.http import NotFoundError
from saaslens.lake.writer import Lake, snapshot_id_for
from saaslens.runner import CredentialsRejected, RunContext, StageResult, run_stage
from saaslens.transform_utils import parse_time
from saaslens_sandbox.core import FaultConfig, RateLimitConfig, SandboxServer, TenantSpec
from tests.oracles.box import expected_shares, visibility

pytestmark = pytest.mark.integration

STAGES = ["authenticate", "users", "groups", "privileges", "activities", "files"]
# The generated history ends in the past, so no event falls inside the connector's lag.
ANCHOR = (datetime.now(UTC) - timedelta(minutes=10)).replace(microsecond=0)


def tenant(name: str, seed: int, users: int, window_seconds: int = 60, **options: Any) -> TenantSpec:
    return TenantSpec(
        app="box",
        name=name,
        seed=seed,
        users=users,
        options={"anchor": ANCHOR.isoformat(), **options},
        # Box's real per-minute limit, in short windows so a throttled test waits seconds.
        rate_limits=RateLimitConfig(window_seconds=window_seconds),
    )


@pytest.fixture(scope="module")
def server():
    specs = [
        tenant("acme", 31, 240, window_seconds=5),
        # positions written as strings, the other form Box's schema allows
        tenant("globex", 32, 90, window_seconds=2, events=900, stream_position_json="string"),
        tenant("flaky", 33, 60, window_seconds=1, events=400),
    ]
    with SandboxServer(specs) as running:
        yield running


def truth(server: SandboxServer, name: str) -> dict[str, Any]:
    return server.personality("box", name).ground_truth()


def instance(name: str, **options: Any) -> InstanceConfig:
    return InstanceConfig(
        app="box",
        name=name,
        conn_id=f"box_{name}",
        options={"max_workers": 4, "retry_initial_backoff_seconds": 0.05, **options},
    )


def connection(server: SandboxServer, name: str, client: str = "scan", secret: str | None = None) -> ConnectionInfo:
    client_id = f"sandbox-box-{name}-{client}"
    return ConnectionInfo(
        conn_id=f"box_{name}",
        conn_type="http",
        host=server.tenant_url("box", name),
        login=client_id,
        password=secret or f"secret-{client_id}",
        extra={"enterprise_id": truth(server, name)["enterprise"]["id"]},
    )


def sync(inst: InstanceConfig, conn: ConnectionInfo, lake: Lake, stages=STAGES) -> dict[str, StageResult]:
    moment = datetime.now(UTC)
    ctx = RunContext(run_id=f"test-{moment:%H%M%S%f}", snapshot_id=snapshot_id_for(moment))
    return {stage: run_stage(inst, stage, ctx, lake, connection=conn) for stage in stages}


def snapshot(lake: Lake, table: str, name: str) -> list[dict[str, Any]]:
    return lake.read_snapshot(table, "box", name).to_pylist()


# -- what the lake must hold, derived from the ground truth ------------------------------------


def expected_status(user: dict[str, Any]) -> str:
    return "suspended" if user["status"] == "inactive" else "active"


def assert_lake_equals_ground_truth(lake: Lake, name: str, truth: dict[str, Any], *, events: bool = True) -> None:
    users = {u["id"]: u for u in truth["users"]}
    accounts = snapshot(lake, "accounts", name)
    assert len(accounts) == len({a["account_id"] for a in accounts}), "duplicate accounts"
    assert set(a["account_id"] for a in accounts) == set(users)
    assert {a["account_id"]: a["status"] for a in accounts} == {i: expected_status(u) for i, u in users.items()}
    assert {a["account_id"]: a["provider_status"] for a in accounts} == {i: u["status"] for i, u in users.items()}
    assert {a["account_id"]: a["email"] for a in accounts} == {i: u["login"].lower() for i, u in users.items()}
    assert {a["account_id"] for a in accounts if a["account_type"] == "service"} == {
        i for i, u in users.items() if u["is_platform_access_only"]
    }
    assert {a["account_id"]: a["created_at"] for a in accounts} == {
        i: parse_time(u["created_at"]) for i, u in users.items()
    }
    admins = {i: u["role"] for i, u in users.items() if u["role"] in ("admin", "coadmin")}
    assert {a["account_id"] for a in accounts if a["is_admin"]} == set(admins)
    privileges = Counter((p["account_id"], p["privilege_id"]) for p in snapshot(lake, "privileges", name))
    assert max(privileges.values(), default=1) == 1, "duplicate privileges"
    assert set(privileges) == {(i, f"enterprise_role:{role}") for i, role in admins.items()}

    groups = snapshot(lake, "groups", name)
    assert sorted(g["group_id"] for g in groups) == sorted(g["id"] for g in truth["groups"])
    members = Counter((m["group_id"], m["account_id"], m["member_role"]) for m in snapshot(lake, "group_members", name))
    assert max(members.values(), default=1) == 1, "duplicate memberships"
    assert set(members) == {(m["group"]["id"], m["user"]["id"], m["role"]) for m in truth["memberships"]}

    assert_files_equal_ground_truth(lake, name, truth)

    stored = lake.read_events("activities", "box", name).to_pylist()
    assert len(stored) == len({e["event_id"] for e in stored}), "duplicate events"
    if not events:
        assert stored == []
        return
    assert {e["event_id"]: json.loads(e["raw"]) for e in stored} == {e["event_id"]: e for e in truth["events"]}
    anonymous = {e["event_id"] for e in truth["events"] if e["created_by"]["id"] == "2"}
    assert anonymous and {e["event_id"] for e in stored if e["actor_type"] == "anonymous"} == anonymous


def assert_files_equal_ground_truth(lake: Lake, name: str, truth: dict[str, Any]) -> None:
    """Every file once, owned by whom Box says, its shares those the oracle derives (own link and
    collaborations, and those of the folders above it), its visibility the widest of them."""
    files = {f["id"]: f for f in truth["files"]}
    rows = snapshot(lake, "files", name)
    assert len(rows) == len({r["file_id"] for r in rows}), "duplicate files"
    assert {r["file_id"] for r in rows} == set(files)
    assert {r["file_id"]: r["owner_id"] for r in rows} == {i: f["owned_by"]["id"] for i, f in files.items()}
    assert {r["file_id"]: r["size_bytes"] for r in rows} == {i: f["size"] for i, f in files.items()}
    assert {r["file_id"]: r["content_version"] for r in rows} == {i: f["file_version"]["id"] for i, f in files.items()}
    expected = expected_shares(truth)
    got: dict[str, set[tuple[Any, ...]]] = {i: set() for i in files}
    shares = snapshot(lake, "file_shares", name)
    assert len(shares) == len({(s["file_id"], s["share_id"]) for s in shares}), "duplicate shares"
    for s in shares:
        key = (s["share_id"], s["principal_type"], s["principal_id"], s["principal_email"], s["role"], s["is_external"])
        got[s["file_id"]].add(key)
    assert got == expected
    assert {r["file_id"]: r["visibility"] for r in rows} == {i: visibility(expected[i]) for i in files}
    kinds = Counter(r["visibility"] for r in rows)
    assert kinds["public"] and kinds["internal"] and kinds["external"] and kinds["private"], kinds
    # the oddities the generator plants: pending email invitations, group collaborators, inherited rows
    assert any(s["principal_id"] is None and s["principal_type"] == "user" for s in shares)
    assert any(s["principal_type"] == "group" for s in shares)
    assert any("inherited_from" in json.loads(s["raw"]) for s in shares)


# -- the tests ---------------------------------------------------------------------------------


def test_two_enterprises_side_by_side_equal_ground_truth_and_resync_adds_no_events(server, lake_root):
    lake = Lake(lake_root)
    # globex pages seven at a time: many marker, offset and stream-position pages
    instances = {"acme": instance("acme"), "globex": instance("globex", page_size=7)}
    for name, inst in instances.items():
        results = sync(inst, connection(server, name), lake)
        assert {s: r.status for s, r in results.items()} == dict.fromkeys(STAGES, "success"), results
        assert_lake_equals_ground_truth(lake, name, truth(server, name))
    permissions = snapshot(lake, "instance_permissions", "acme")
    assert {"manage_managed_users", "manage_groups", "manage_enterprise_properties"} <= {
        p["name"] for p in permissions if p["kind"] == "permission"
    }
    again = sync(instances["acme"], connection(server, "acme"), lake)
    assert again["activities"].records == 0 and again["activities"].status == "success"
    assert len(lake.snapshot_ids("accounts", "box", "acme")) == 2
    assert_lake_equals_ground_truth(lake, "acme", truth(server, "acme"))


def test_429s_5xx_resets_expired_tokens_and_bad_bodies_still_end_equal_to_ground_truth(server, lake_root):
    flaky = server.personality("box", "flaky")
    flaky.set_faults(
        FaultConfig(
            rate_429=0.08,
            rate_5xx=0.08,
            rate_reset=0.03,
            rate_html_error=0.03,
            rate_truncated=0.03,
            burst_429=3,
            token_max_requests=15,
        )
    )
    try:
        lake = Lake(lake_root)
        results = sync(instance("flaky", retry_max_attempts=12, page_size=20), connection(server, "flaky"), lake)
        assert {s: r.status for s, r in results.items()} == dict.fromkeys(STAGES, "success"), results
        assert sum(r.metrics["retries"] for r in results.values()) > 0
        assert sum(r.metrics["throttled"] for r in results.values()) >= 3
        assert flaky.stats()["faults_injected"]["token_expired"] > 0
    finally:
        flaky.set_faults(FaultConfig())
    assert_lake_equals_ground_truth(lake, "flaky", truth(server, "flaky"))


def test_an_app_without_manage_enterprise_properties_skips_only_activities(server, lake_root):
    lake = Lake(lake_root)
    results = sync(instance("acme"), connection(server, "acme", client="noevents"), lake)
    assert results["activities"].status == "skipped"
    assert "insufficient_scope" in results["activities"].detail
    assert "manage_enterprise_properties" in results["activities"].detail
    assert all(results[s].status == "success" for s in STAGES if s != "activities")
    assert_lake_equals_ground_truth(lake, "acme", truth(server, "acme"), events=False)


def test_rejected_credentials_fail_at_once_with_boxs_code(server, lake_root):
    lake = Lake(lake_root)
    ctx = RunContext(run_id="bad", snapshot_id="20261127T000000000000Z")
    with pytest.raises(CredentialsRejected) as info:
        run_stage(instance("acme"), "authenticate", ctx, lake, connection=connection(server, "acme", secret="nope-42"))
    assert "invalid_client" in str(info.value)
    assert "nope-42" not in str(info.value)
    assert lake.snapshot_ids("instance_permissions", "box", "acme") == []


def test_contents_are_read_through_the_download_redirect_without_the_token(server):
    """GET /files/{id}/content answers 302 to the download host: the bytes come from there, the same
    as the sandbox's document, and neither the bearer token nor As-User is sent to it."""
    acme = server.personality("box", "acme")
    file = next(f for f in truth(server, "acme")["files"] if f["size"])
    row = {"file_id": file["id"], "owner_id": file["owned_by"]["id"], "name": file["name"]}
    before = len(acme.download_log)
    connector = BoxConnector(instance("acme").options, connection(server, "acme"))
    try:
        sink = io.BytesIO()
        fetched = contents.fetch(connector, row, sink, 50 * 2**20)
    finally:
        connector.close()
    document = acme.tenant.contents.document(file)
    assert sink.getvalue() == document.content() and fetched.bytes == file["size"]
    (download,) = acme.download_log[before:]
    assert not download["authorization"] and not download["as_user"]
    # an owner who cannot see the file (another user's) gets Box's 404, not the bytes
    stranger = next(u["id"] for u in truth(server, "acme")["users"] if u["id"] != file["owned_by"]["id"])
    connector = BoxConnector(instance("acme").options, connection(server, "acme"))
    try:
        with pytest.raises(NotFoundError):
            contents.fetch(connector, {**row, "owner_id": stranger}, io.BytesIO(), 2**20)
    finally:
        connector.close()
