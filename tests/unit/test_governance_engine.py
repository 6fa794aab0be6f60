"""The governance engine's rules, on a small fake provider (httpx.MockTransport): dry runs send no
change, approval gates every change, guard rails refuse before any request, a second run records
already-applied, a crash between apply and record is recorded once and never re-sent, and every
run leaves one governance_actions row per target."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pyarrow.parquet as pq
import pytest

from saaslens import governance
from saaslens.config import GovernanceSettings, InstanceConfig
from saaslens.connections import ConnectionInfo
from saaslens.connectors import registry
from saaslens.connectors.base import ActingAccount, AuthReport, Connector, HttpContext
from saaslens.connectors.kit import Action, ActionOutcome, ActionPlan, AppSpec, PlannedRequest, Target, Verification
from saaslens.governance import Approval, GovernanceError, GovernanceRequest, TargetError
from saaslens.governance import engine as engine_module
from saaslens.vocabulary import TargetKind
from tests.unit.lake_builder import LakeBuilder


class FakeTenant:
    """Users with a status; suspending a suspended user is an error, as Okta documents its own."""

    def __init__(self) -> None:
        self.users: dict[str, dict[str, Any]] = {
            "u1": {"id": "u1", "status": "ACTIVE", "role": None},
            "u2": {"id": "u2", "status": "ACTIVE", "role": None},
            "boss": {"id": "boss", "status": "ACTIVE", "role": "owner"},
            "me": {"id": "me", "status": "ACTIVE", "role": None},
        }
        self.changes: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def handler(self, request: httpx.Request) -> httpx.Response:
        token = request.headers.get("authorization", "")
        parts = request.url.path.strip("/").split("/")
        if parts == ["me"]:
            return httpx.Response(200, json={"id": "me", "login": "me@example.com"})
        if len(parts) < 2 or parts[0] != "users":
            return httpx.Response(404, json={"error": "no such route"})
        user = self.users.get(parts[1])
        if user is None:
            return httpx.Response(404, json={"error": "E0000007", "message": "Not found"})
        if request.method == "GET":
            return httpx.Response(200, json=user)
        if token != "Bearer fake-writer-token-7f3a":
            return httpx.Response(403, json={"error": "E0000006", "message": "You do not have permission"})
        if parts[2:] == ["suspend"]:
            if user["status"] != "ACTIVE":
                return httpx.Response(
                    400, json={"error": "E0000001", "message": "Cannot suspend a user that is not active"}
                )
            with self.lock:
                user["status"] = "SUSPENDED"
                self.changes.append(("suspend", user["id"]))
            return httpx.Response(200, json={})
        return httpx.Response(405, json={"error": "method"})


class BearerAuth(httpx.Auth):
    def __init__(self, token: str) -> None:
        self.token = token

    def auth_flow(self, request: httpx.Request) -> Iterator[httpx.Request]:
        request.headers["Authorization"] = f"Bearer {self.token}"
        yield request


class FakeConnector(Connector):
    app = "fakeidp"
    title = "Fake IdP"

    def build_auth(self) -> httpx.Auth:
        return BearerAuth(self.connection.password or "")

    def authenticate(self) -> AuthReport:
        perms = (
            {"users.manage": "token"}
            if self.connection.password == "fake-writer-token-7f3a"
            else {"users.read": "token"}
        )
        return AuthReport(identity="me", permissions=perms, permissions_complete=True)

    def acting_account(self) -> ActingAccount | None:
        me = self.client.get_json("/me")
        return ActingAccount(me["id"], me["login"])


def _plan(connector: FakeConnector, target: Target) -> ActionPlan:
    user = connector.client.get_json(f"/users/{target.keys['account_id']}")
    return ActionPlan(
        action="suspend_user",
        target=target,
        requests=(PlannedRequest("POST", f"/users/{user['id']}/suspend"),),
        before={"status": user["status"]},
        noop=user["status"] == "SUSPENDED",
        protected="org owner" if user["role"] == "owner" else None,
    )


def _apply(connector: FakeConnector, plan: ActionPlan) -> ActionOutcome:
    statuses = []
    for request in plan.requests:
        response, _ = connector.client.request(request.method, request.path, json=request.body, idempotent=False)
        statuses.append(response.status_code)
    return ActionOutcome(plan, applied=True, detail=f"HTTP {statuses}")


def _verify(connector: FakeConnector, outcome: ActionOutcome) -> Verification:
    user = connector.client.get_json(f"/users/{outcome.plan.target.keys['account_id']}")
    return Verification(holds=user["status"] == "SUSPENDED", after={"status": user["status"]})


SPEC = AppSpec(
    connector=FakeConnector,
    stages=(),
    actions=(
        Action(
            name="suspend_user",
            target=TargetKind.ACCOUNT,
            permission="users.manage",
            reversible=True,
            description="suspend",
            docs="https://example.com",
            plan=_plan,
            apply=_apply,
            verify=_verify,
        ),
        Action(
            name="delete_user",
            target=TargetKind.ACCOUNT,
            permission="users.manage",
            reversible=False,
            description="declared only",
            docs="https://example.com",
        ),
    ),
)


@pytest.fixture
def tenant(monkeypatch: pytest.MonkeyPatch) -> FakeTenant:
    real = registry.app_spec
    monkeypatch.setattr(registry, "app_spec", lambda app: SPEC if app == "fakeidp" else real(app))
    return FakeTenant()


@pytest.fixture
def lake(tmp_path):
    builder = LakeBuilder(tmp_path / "lake")
    builder.accounts(
        "fakeidp",
        "acme",
        *(
            {"account_id": uid, "login": f"{uid}@example.com", "email": f"{uid}@example.com"}
            for uid in ("u1", "u2", "boss", "me", "gone")
        ),
    )
    return builder.lake


INSTANCE = InstanceConfig(app="fakeidp", name="acme", conn_id="scan", actions_conn_id="act")
WRITER = ConnectionInfo("act", "http", "https://fake.example.com", password="fake-writer-token-7f3a")
READER = ConnectionInfo("scan", "http", "https://fake.example.com", password="fake-reader-token-9c1b")
APPROVED = Approval(approved=True, by="bob", at=datetime(2026, 12, 5, 12, tzinfo=UTC))


def _request(*targets: str, dry_run: bool = False, run_id: str = "run-1") -> GovernanceRequest:
    return GovernanceRequest(
        app="fakeidp",
        instance="acme",
        action="suspend_user",
        targets=targets,
        requested_by="alice",
        requested_at=datetime(2026, 12, 5, 11, tzinfo=UTC),
        run_id=run_id,
        dry_run=dry_run,
        reason="offboarding",
    )


def _act(tenant: FakeTenant, lake, request, *, instance=INSTANCE, connection=WRITER, approval=APPROVED):
    http = HttpContext(transport=httpx.MockTransport(tenant.handler))
    return governance.act(instance, request, lake, connection=connection, approval=approval, http=http)


def _stored(lake) -> list[dict[str, Any]]:
    files = sorted((lake.root / "governance_actions").glob("app=*/instance=*/action_date=*/*.parquet"))
    return [row for f in files for row in pq.read_table(f).to_pylist()]


def test_a_dry_run_plans_and_records_without_sending_a_change(tenant, lake):
    rows = _act(tenant, lake, _request("u1", "u2@example.com", dry_run=True), approval=None)
    assert [(r["target_id"], r["result"]) for r in rows] == [("u1", "planned"), ("u2", "planned")]
    assert tenant.changes == []
    assert rows[0]["before"] == '{"status": "ACTIVE"}'
    assert rows[0]["requests"] == '[{"body": null, "method": "POST", "path": "/users/u1/suspend"}]'
    assert len(_stored(lake)) == 2


def test_an_approved_run_applies_verifies_and_a_second_run_is_already_applied(tenant, lake):
    rows = _act(tenant, lake, _request("u1"))
    assert rows[0]["result"] == "applied" and rows[0]["verified"] is True
    assert rows[0]["after"] == '{"status": "SUSPENDED"}'
    assert rows[0]["approved_by"] == "bob" and rows[0]["requested_by"] == "alice"
    assert tenant.changes == [("suspend", "u1")]
    again = _act(tenant, lake, _request("u1", run_id="run-2"))
    assert again[0]["result"] == "already-applied"
    assert tenant.changes == [("suspend", "u1")]


def test_an_applied_run_without_approval_is_refused_before_any_request(tenant, lake):
    with pytest.raises(GovernanceError, match="requires approval"):
        _act(tenant, lake, _request("u1"), approval=None)
    assert tenant.changes == [] and _stored(lake) == []


def test_no_approval_needed_when_the_instance_says_so(tenant, lake):
    instance = INSTANCE.model_copy(update={"governance": GovernanceSettings(require_approval=False)})
    rows = _act(tenant, lake, _request("u1"), instance=instance, approval=None)
    assert rows[0]["result"] == "applied" and rows[0]["approved_by"] is None


def test_a_rejected_run_changes_nothing_and_says_who_rejected(tenant, lake):
    rows = _act(tenant, lake, _request("u1", "u2"), approval=Approval(False, "carol", APPROVED.at))
    assert {r["result"] for r in rows} == {"rejected-by-approver"}
    assert rows[0]["approved_by"] == "carol"
    assert tenant.changes == []


def test_a_refused_self_approval_records_why_and_changes_nothing(tenant, lake):
    refusal = "approved by alice, who asked for the run: a second person must approve"
    rows = _act(tenant, lake, _request("u1"), approval=Approval(False, "alice", APPROVED.at, refused=refusal))
    assert rows[0]["result"] == "rejected-by-approver" and rows[0]["detail"].startswith(refusal)
    assert tenant.changes == []


def test_guard_rails_refuse_the_acting_account_and_owners(tenant, lake):
    rows = _act(tenant, lake, _request("me", "boss", "u1"))
    results = {r["target_id"]: (r["result"], r["detail"]) for r in rows}
    assert results["me"][0] == "refused" and "action credentials act as" in results["me"][1]
    assert results["boss"][0] == "refused" and "allow_admin_targets" in results["boss"][1]
    assert results["u1"][0] == "applied"
    assert tenant.changes == [("suspend", "u1")]
    allowed = INSTANCE.model_copy(update={"governance": GovernanceSettings(allow_admin_targets=True)})
    assert _act(tenant, lake, _request("boss", run_id="run-2"), instance=allowed)[0]["result"] == "applied"


def test_more_targets_than_max_targets_is_refused_whole(tenant, lake):
    instance = INSTANCE.model_copy(update={"governance": GovernanceSettings(max_targets=1)})
    with pytest.raises(GovernanceError, match="max_targets=1"):
        _act(tenant, lake, _request("u1", "u2"), instance=instance)
    assert tenant.changes == [] and _stored(lake) == []


def test_an_unknown_target_is_an_error_naming_it(tenant, lake):
    with pytest.raises(TargetError, match="'nobody'"):
        _act(tenant, lake, _request("u1", "nobody"))
    assert tenant.changes == []


def test_missing_permission_is_denied_with_the_providers_error(tenant, lake):
    rows = _act(tenant, lake, _request("u1"), connection=READER)
    assert rows[0]["result"] == "denied"
    assert rows[0]["provider_status"] == 403 and rows[0]["provider_error"].startswith("E0000006")
    assert tenant.changes == []


def test_a_target_gone_at_the_provider_is_not_found(tenant, lake):
    rows = _act(tenant, lake, _request("gone"))
    assert rows[0]["result"] == "not-found" and rows[0]["provider_status"] == 404


def test_a_crash_between_apply_and_record_is_recorded_once_and_never_resent(tenant, lake, monkeypatch):
    real_record = engine_module.record_step

    def killed(*args, **kwargs):
        raise KeyboardInterrupt("SIGKILL stand-in: the process dies before writing the row")

    monkeypatch.setattr(engine_module, "record_step", killed)
    with pytest.raises(KeyboardInterrupt):
        _act(tenant, lake, _request("u1"))
    assert tenant.changes == [("suspend", "u1")] and _stored(lake) == []
    monkeypatch.setattr(engine_module, "record_step", real_record)
    rows = _act(tenant, lake, _request("u1"))  # the retry: same run
    assert rows[0]["result"] == "applied" and "interrupted earlier attempt" in rows[0]["detail"]
    assert tenant.changes == [("suspend", "u1")]
    stored = _stored(lake)
    assert [(r["result"], r["target_id"]) for r in stored] == [("applied", "u1")]
    assert not any((lake.root / "_state" / "governance").rglob("*.json"))


def test_a_change_made_by_someone_else_since_the_plan_is_not_sent_again(tenant, lake):
    instance = INSTANCE
    request = _request("u1")
    http = HttpContext(transport=httpx.MockTransport(tenant.handler))
    items = governance.plan_step(request, instance, lake, WRITER, http)
    items = [governance.Item.from_dict(i.to_dict()) for i in items]  # across XCom, as in the DAG
    tenant.users["u1"]["status"] = "SUSPENDED"  # another admin, while the approver was deciding
    items = governance.apply_step(request, instance, items, APPROVED, lake, WRITER, http)
    assert items[0].result == "already-applied" and tenant.changes == []


def test_declared_only_and_unknown_actions_are_named(tenant, lake):
    for name, message in (("delete_user", "declared but not implemented"), ("nope", "no action 'nope'")):
        request = GovernanceRequest("fakeidp", "acme", name, ("u1",), "alice", APPROVED.at or datetime.now(UTC), "r")
        with pytest.raises(GovernanceError, match=message):
            _act(tenant, lake, request)


def test_without_an_actions_connection_actions_are_disabled_with_the_reason():
    instance = InstanceConfig(app="okta", name="acme", conn_id="scan")
    with pytest.raises(GovernanceError, match="no actions_conn_id"):
        governance.action_connection(instance)


def test_action_access_reads_the_authenticate_report(tenant):
    http = HttpContext(transport=httpx.MockTransport(tenant.handler))
    access = {a.action: a.access for a in governance.action_access(INSTANCE, WRITER, http)}
    assert access == {"suspend_user": "yes", "delete_user": "yes"}
    access = {a.action: a.access for a in governance.action_access(INSTANCE, READER, http)}
    assert access == {"suspend_user": "no", "delete_user": "no"}


def test_requests_and_items_round_trip_through_json(tenant, lake):
    request = _request("u1")
    assert GovernanceRequest.from_dict(request.to_dict()) == request
    http = HttpContext(transport=httpx.MockTransport(tenant.handler))
    items = governance.plan_step(request, INSTANCE, lake, WRITER, http)
    again = governance.Item.from_dict(items[0].to_dict())
    assert again.to_dict() == items[0].to_dict()
    assert Approval.from_dict(APPROVED.to_dict()) == APPROVED


def test_a_record_retried_on_a_later_day_replaces_its_row_instead_of_adding_one(tmp_path):
    from datetime import timedelta

    from saaslens.governance import journal
    from saaslens.lake.writer import Lake

    lake = Lake(tmp_path / "lake")
    first = datetime(2026, 12, 5, 23, 59, tzinfo=UTC)
    row = {
        "app": "fakeidp",
        "instance": "acme",
        "action_id": journal.action_id("run-1", "suspend_user", "account", "u1"),
        "run_id": "run-1",
        "action": "suspend_user",
        "target_kind": "account",
        "target_id": "u1",
        "requested_by": "alice",
        "requested_at": first,
        "dry_run": False,
        "result": "applied",
        "recorded_at": first,
    }
    written = journal.write_row(lake, row)
    again = journal.write_row(lake, {**row, "recorded_at": first + timedelta(minutes=2)})
    assert again == written
    assert len(list((lake.root / "governance_actions").glob("app=*/instance=*/action_date=*/*.parquet"))) == 1
