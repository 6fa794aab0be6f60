"""Governance actions on one instance: plan, approve, apply, verify, record (docs/governance.md).

Each step takes and returns plain data (`Item`s that round-trip through JSON), so the governance
DAG runs them as separate tasks with XCom between them, and `act` runs them in one process for the
CLI and the tests. Nothing here changes a tenant except `apply_step`, and only for a run that is not
a dry run and is approved (or whose instance says no approval is needed).

Safety, in the order the steps apply it:
- targets are resolved from the lake first: one saaslens has not seen is an error naming it;
- at most `governance.max_targets` targets per run;
- never the account the action credentials act as; super-admins and owners only with
  `governance.allow_admin_targets` (the plan says which targets are such);
- apply re-reads each target and sends nothing if the change is in place already, or if the target
  changed since the plan the approver saw (the requests differ);
- an intent is persisted before each change and removed after its row: a run retried after a crash
  finds it and records the change once, never sending it twice.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from saaslens import connections
from saaslens.config import InstanceConfig
from saaslens.connections import ConnectionInfo
from saaslens.connectors import registry
from saaslens.connectors.base import Connector, HttpContext
from saaslens.connectors.kit import (
    Action,
    ActionAccess,
    ActionOutcome,
    ActionPlan,
    AppSpec,
    PlannedRequest,
    Target,
)
from saaslens.connectors.kit import action_access as kit_action_access
from saaslens.governance import journal
from saaslens.governance.targets import resolve_targets, target_id
from saaslens.http.errors import ApiError, AuthenticationError, NotFoundError, PermissionDeniedError
from saaslens.http.redaction import redact
from saaslens.lake.writer import Lake
from saaslens.vocabulary import TargetKind

log = logging.getLogger(__name__)

PLANNED = "planned"
APPLIED = "applied"
ALREADY_APPLIED = "already-applied"
DENIED = "denied"
NOT_FOUND = "not-found"
FAILED = "failed"
REFUSED = "refused"
REJECTED = "rejected-by-approver"
# An item still on its way: planned, and waiting for approval or apply.
PENDING = "pending"


class GovernanceError(Exception):
    """A governance request that cannot run at all (unknown action, no action connection, too many
    targets, approval missing); nothing was sent to the provider and nothing recorded."""


@dataclass(frozen=True)
class GovernanceRequest:
    """What an admin asked for: one action on some targets of one instance."""

    app: str
    instance: str
    action: str
    targets: tuple[str, ...]
    requested_by: str
    requested_at: datetime
    run_id: str
    dry_run: bool = True
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = journal.jsonable(dataclasses.asdict(self))
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GovernanceRequest:
        values = dict(data)
        values["targets"] = tuple(values["targets"])
        values["requested_at"] = datetime.fromisoformat(values["requested_at"])
        return cls(**values)


@dataclass(frozen=True)
class Approval:
    """An approver's answer, or None for `by` when the instance needs none (`require_approval: false`)."""

    approved: bool
    by: str | None = None
    at: datetime | None = None
    # Why an answer of "Approve" did not count (the requester approved their own request), recorded
    # in each row's detail; None for an ordinary answer.
    refused: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = journal.jsonable(dataclasses.asdict(self))
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Approval | None:
        if data is None:
            return None
        at = data.get("at")
        return cls(
            bool(data["approved"]), data.get("by"), datetime.fromisoformat(at) if at else None, data.get("refused")
        )


def _rejected_by(approval: Approval) -> str:
    return f"rejected by {approval.by or 'the approver'}"


@dataclass
class Item:
    """One target through the steps. `result` is PENDING until a step settles it."""

    target: Target
    result: str = PENDING
    plan: ActionPlan | None = None
    detail: str = ""
    provider_status: int | None = None
    provider_error: str | None = None
    after: Mapping[str, Any] | None = None
    verified: bool | None = None
    sent: bool = False  # this run sent the change (or a killed attempt of it did)

    @property
    def target_id(self) -> str:
        return target_id(self.target)

    def settle(self, result: str, detail: str, error: ApiError | None = None) -> None:
        self.result = result
        self.detail = redact(detail)
        if error is not None:
            self.provider_status = error.status
            self.provider_error = redact(f"{error.provider_code or ''} {error.detail}".strip())

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = journal.jsonable(
            {
                "target": _target_dict(self.target),
                "result": self.result,
                "plan": _plan_dict(self.plan) if self.plan is not None else None,
                "detail": self.detail,
                "provider_status": self.provider_status,
                "provider_error": self.provider_error,
                "after": self.after,
                "verified": self.verified,
                "sent": self.sent,
            }
        )
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Item:
        return cls(
            target=_target_from(data["target"]),
            result=data["result"],
            plan=_plan_from(data["plan"]) if data.get("plan") is not None else None,
            detail=data.get("detail") or "",
            provider_status=data.get("provider_status"),
            provider_error=data.get("provider_error"),
            after=data.get("after"),
            verified=data.get("verified"),
            sent=bool(data.get("sent")),
        )


def _target_dict(target: Target) -> dict[str, Any]:
    return {"kind": target.kind.value, "keys": dict(target.keys), "label": target.label, "row": dict(target.row)}


def _target_from(data: Mapping[str, Any]) -> Target:
    return Target(TargetKind(data["kind"]), dict(data["keys"]), data.get("label") or "", dict(data.get("row") or {}))


def _plan_dict(plan: ActionPlan) -> dict[str, Any]:
    return {
        "action": plan.action,
        "target": _target_dict(plan.target),
        "requests": [dataclasses.asdict(r) for r in plan.requests],
        "before": dict(plan.before),
        "noop": plan.noop,
        "protected": plan.protected,
        "undo": _plan_dict(plan.undo) if plan.undo is not None else None,
    }


def _plan_from(data: Mapping[str, Any]) -> ActionPlan:
    return ActionPlan(
        action=data["action"],
        target=_target_from(data["target"]),
        requests=tuple(PlannedRequest(r["method"], r["path"], r.get("body")) for r in data["requests"]),
        before=data.get("before") or {},
        noop=bool(data.get("noop")),
        protected=data.get("protected"),
        undo=_plan_from(data["undo"]) if data.get("undo") else None,
    )


def _requests_of(plan: ActionPlan) -> list[dict[str, Any]]:
    requests: list[dict[str, Any]] = journal.jsonable([dataclasses.asdict(r) for r in plan.requests])
    return requests


def _unplanned(action: str, target: Target) -> ActionPlan:
    """The plan of a change found already sent (the target is gone): no request to send."""
    return ActionPlan(action=action, target=target, requests=(), before={"found": False}, noop=True)


# -- the action and its connector ---------------------------------------------------------------


def declared_action(spec: AppSpec, name: str) -> Action[Any]:
    """The app's action called `name`, implemented; GovernanceError listing those that are."""
    implemented = sorted(a.name for a in spec.actions if a.implemented)
    for action in spec.actions:
        if action.name == name:
            if not action.implemented:
                raise GovernanceError(
                    f"{spec.app}: action {name!r} is declared but not implemented (implemented: "
                    f"{', '.join(implemented) or 'none'})"
                )
            return action
    raise GovernanceError(f"{spec.app}: no action {name!r} (implemented: {', '.join(implemented) or 'none'})")


def action_connection(instance: InstanceConfig, *, inside_airflow: bool = False) -> ConnectionInfo:
    """The connection the instance's actions use (`actions_conn_id`), never the scan's."""
    label = f"{instance.app}/{instance.name}"
    if not instance.actions_conn_id:
        raise GovernanceError(
            f"{label}: governance actions are disabled: the instance has no actions_conn_id (the scan "
            f"connection {instance.conn_id!r} stays read-only; name a separate connection with write "
            "permissions in include/connected_apps.yaml to enable them)"
        )
    return connections.resolve(instance.actions_conn_id, instance_label=label, inside_airflow=inside_airflow)


@contextmanager
def open_connector(
    instance: InstanceConfig, connection: ConnectionInfo, http: HttpContext | None = None
) -> Iterator[Connector]:
    connector = registry.app_spec(instance.app).connector(instance.options, connection, http or HttpContext())
    try:
        yield connector
    finally:
        connector.close()


def _classify(item: Item, exc: ApiError, step: str) -> None:
    if isinstance(exc, NotFoundError):
        item.settle(NOT_FOUND, f"{step}: the provider has no such {item.target.kind.value}", exc)
    elif isinstance(exc, PermissionDeniedError | AuthenticationError):
        item.settle(DENIED, f"{step}: the provider refused the action credentials", exc)
    else:
        item.settle(FAILED, f"{step}: {type(exc).__name__}: {exc}", exc)


def _is_acting_account(target: Target, acting: Any) -> bool:
    if acting is None:
        return False
    holder = target.keys.get("account_id") or target.row.get("account_id")
    if holder is not None and str(holder) == acting.account_id:
        return True
    if target.kind in (TargetKind.ACCOUNT, TargetKind.SESSION) and acting.login:
        names = {str(target.row.get(c) or "").lower() for c in ("login", "email")}
        return acting.login.lower() in names
    return False


def _sent_before(intents: journal.Intents, request: GovernanceRequest, item: Item, found: str) -> bool:
    """Whether a killed attempt left an intent for this target: its change was (or may have been)
    sent, so the item is marked sent, for verify to confirm and record once, never to send again."""
    if intents.read(request.action, item.target_id) is None:
        return False
    item.sent = True
    item.detail = f"sent by an interrupted earlier attempt; {found}"
    return True


def _applied_before(lake: Lake, request: GovernanceRequest, item: Item) -> bool:
    """Whether an earlier run applied this action to this target (so a 404 now means it is gone
    because of us: already applied, not lost)."""
    directory = lake.instance_dir(journal.TABLE, request.app, request.instance)
    if not directory.exists():
        return False
    import pyarrow.dataset as ds

    dataset = ds.dataset(directory, format="parquet", partitioning=None)
    rows = dataset.to_table(
        columns=["action", "target_id", "result"],
        filter=(ds.field("action") == request.action) & (ds.field("target_id") == item.target_id),
    ).to_pylist()
    return any(row["result"] == APPLIED for row in rows)


# -- the steps ----------------------------------------------------------------------------------


def plan_step(
    request: GovernanceRequest,
    instance: InstanceConfig,
    lake: Lake,
    connection: ConnectionInfo,
    http: HttpContext | None = None,
) -> list[Item]:
    """Resolve the targets from the lake and re-read each from the provider: what would change,
    from what. Sends no change. Settles targets that need none (already-applied), that the guard
    rails refuse, and those the provider denies or no longer has; the rest stay PENDING."""
    spec = registry.app_spec(instance.app)
    action = declared_action(spec, request.action)
    assert action.plan is not None
    if not request.targets:
        raise GovernanceError(f"{instance.app}/{instance.name}: {request.action}: no targets given")
    targets = resolve_targets(lake, instance.app, instance.name, action.target, request.targets)
    limit = instance.governance.max_targets
    if len(targets) > limit:
        raise GovernanceError(
            f"{instance.app}/{instance.name}: {len(targets)} targets for {request.action}, more than "
            f"governance.max_targets={limit}; split the run or raise the limit"
        )
    items = [Item(target) for target in targets]
    intents = journal.Intents(lake, instance.app, instance.name)
    with open_connector(instance, connection, http) as connector:
        try:
            acting = connector.acting_account()
        except ApiError as exc:
            for item in items:
                _classify(item, exc, "reading who the action credentials act as")
            return items
        for item in items:
            if _is_acting_account(item.target, acting):
                item.settle(REFUSED, "saaslens never acts on the account the action credentials act as")
                continue
            try:
                item.plan = action.plan(connector, item.target)
            except NotFoundError as exc:
                if _sent_before(intents, request, item, "the target is gone when re-read"):
                    # A removal a killed attempt sent: gone is its result. Verify confirms it.
                    item.plan = _unplanned(request.action, item.target)
                elif _applied_before(lake, request, item):
                    item.settle(ALREADY_APPLIED, "gone at the provider after an earlier run applied this action", exc)
                else:
                    _classify(item, exc, "plan")
                continue
            except ApiError as exc:
                _classify(item, exc, "plan")
                continue
            if item.plan.protected and not instance.governance.allow_admin_targets:
                item.settle(
                    REFUSED,
                    f"protected target ({item.plan.protected}); set governance.allow_admin_targets for the "
                    "instance to act on it",
                )
            elif item.plan.noop and not _sent_before(intents, request, item, "found in place when re-read"):
                item.settle(ALREADY_APPLIED, "the target is already in the wanted state; nothing sent")
    return items


def apply_step(
    request: GovernanceRequest,
    instance: InstanceConfig,
    items: list[Item],
    approval: Approval | None,
    lake: Lake,
    connection: ConnectionInfo,
    http: HttpContext | None = None,
) -> list[Item]:
    """Send the planned changes of an approved run. Each target is re-read first: a change already
    in place is not sent again, and a target that changed since the plan (other requests) fails
    rather than being changed in a way nobody approved."""
    pending = [item for item in items if item.result == PENDING and not item.sent]
    if request.dry_run or not pending:
        return items
    if approval is None and instance.governance.require_approval:
        raise GovernanceError(
            f"{instance.app}/{instance.name}: {request.action} changes the tenant and the instance requires "
            "approval: run it from the governance DAG, where an approver answers, or set "
            "governance.require_approval: false"
        )
    if approval is not None and not approval.approved:
        for item in pending:
            item.settle(REJECTED, f"{approval.refused or _rejected_by(approval)}; nothing sent")
        return items
    action = declared_action(registry.app_spec(instance.app), request.action)
    assert action.plan is not None and action.apply is not None
    intents = journal.Intents(lake, instance.app, instance.name)
    with open_connector(instance, connection, http) as connector:
        for item in pending:
            approved_plan = item.plan
            assert approved_plan is not None
            try:
                fresh = action.plan(connector, item.target)
            except NotFoundError as exc:
                if not _sent_before(intents, request, item, "the target is gone when re-read"):
                    _classify(item, exc, "re-read before apply")
                continue
            except ApiError as exc:
                _classify(item, exc, "re-read before apply")
                continue
            if fresh.noop:
                if not _sent_before(intents, request, item, "found in place when re-read"):
                    item.settle(ALREADY_APPLIED, "in the wanted state when re-read before apply; nothing sent")
                continue
            if _requests_of(fresh) != _requests_of(approved_plan):
                item.settle(
                    FAILED,
                    "the target changed since the plan was approved (the change it needs now differs); "
                    "nothing sent: plan again",
                )
                continue
            intents.write(
                request.action,
                item.target_id,
                {"run_id": request.run_id, "action": request.action, "target_id": item.target_id, "at": journal.now()},
            )
            item.sent = True
            try:
                outcome = action.apply(connector, fresh)
            except ApiError as exc:
                _classify(item, exc, "apply")
                if not isinstance(exc, NotFoundError | PermissionDeniedError | AuthenticationError):
                    continue  # may have reached the provider: verify finds out
                intents.clear(request.action, item.target_id)  # refused outright: nothing changed
                item.sent = False
                continue
            item.plan = fresh
            item.detail = redact(outcome.detail)
    return items


def verify_step(
    request: GovernanceRequest,
    instance: InstanceConfig,
    items: list[Item],
    connection: ConnectionInfo,
    http: HttpContext | None = None,
) -> list[Item]:
    """Re-read every target a change was sent to; applied only if the new state holds."""
    sent = [item for item in items if item.sent]
    if not sent:
        return items
    action = declared_action(registry.app_spec(instance.app), request.action)
    assert action.verify is not None
    with open_connector(instance, connection, http) as connector:
        for item in sent:
            assert item.plan is not None
            outcome = ActionOutcome(item.plan, applied=True, detail=item.detail)
            try:
                verification = action.verify(connector, outcome)
            except NotFoundError as exc:
                # For a removal (a grant, a share, a role) gone is the wanted state; verify says so
                # by returning holds=True itself. Raised here, the object vanished unexpectedly.
                item.verified = False
                item.settle(FAILED, f"verify: {exc}", exc)
                continue
            except ApiError as exc:
                item.verified = False
                if item.result == PENDING:
                    item.settle(FAILED, f"verify: could not re-read the target: {exc}", exc)
                continue
            item.after = journal.jsonable(dict(verification.after))
            item.verified = verification.holds
            if item.result != PENDING:
                continue  # apply already settled it (failed after possibly reaching the provider)
            if verification.holds:
                item.settle(APPLIED, "; ".join(filter(None, [item.detail, verification.detail, "verified by re-read"])))
            else:
                item.settle(
                    FAILED, f"the provider accepted the change but the re-read does not show it: {verification.detail}"
                )
    for item in sent:
        if item.result == FAILED and item.verified:
            # apply timed out but the change is there: it was applied after all.
            item.settle(APPLIED, f"{item.detail}; the re-read shows the change in place")
    return items


def record_step(
    request: GovernanceRequest,
    items: list[Item],
    approval: Approval | None,
    lake: Lake,
) -> list[dict[str, Any]]:
    """Write one governance_actions row per target (a retry rewrites the same rows), then remove
    the intents the rows now account for. Items still PENDING are a dry run's plans (planned), or an
    applied run's that never reached apply (failed)."""
    intents = journal.Intents(lake, request.app, request.instance)
    rows = []
    recorded_at = journal.now()
    for item in items:
        result = item.result
        if result == PENDING:
            if request.dry_run:
                result = PLANNED
            elif approval is not None and not approval.approved:
                result = REJECTED
                item.detail = item.detail or approval.refused or _rejected_by(approval)
            else:
                result, item.detail = FAILED, item.detail or "never applied: the run stopped before its apply step"
        row = {
            "app": request.app,
            "instance": request.instance,
            "action_id": journal.action_id(request.run_id, request.action, item.target.kind.value, item.target_id),
            "run_id": request.run_id,
            "action": request.action,
            "target_kind": item.target.kind.value,
            "target_id": item.target_id,
            "target_name": item.target.label or None,
            "requested_by": request.requested_by,
            "requested_at": request.requested_at,
            "reason": request.reason or None,
            "dry_run": request.dry_run,
            "approved_by": approval.by if approval is not None else None,
            "approved_at": approval.at if approval is not None else None,
            "result": result,
            "provider_status": item.provider_status,
            "provider_error": item.provider_error,
            "requests": journal.json_text(_requests_of(item.plan)) if item.plan is not None else None,
            "before": journal.json_text(dict(item.plan.before)) if item.plan is not None else None,
            "after": journal.json_text(item.after),
            "verified": item.verified,
            "detail": item.detail or None,
            "recorded_at": recorded_at,
        }
        journal.write_row(lake, row)
        rows.append(row)
    for item in items:
        if item.sent or item.result in (APPLIED, ALREADY_APPLIED):
            intents.clear(request.action, item.target_id)
    return rows


def act(
    instance: InstanceConfig,
    request: GovernanceRequest,
    lake: Lake,
    *,
    connection: ConnectionInfo | None = None,
    approval: Approval | None = None,
    http: HttpContext | None = None,
) -> list[dict[str, Any]]:
    """Plan, apply (unless a dry run), verify and record in one process: the CLI's and the tests'
    way. An applied run needs `approval` unless the instance has `governance.require_approval:
    false`; a rejected approval records rejected-by-approver rows and sends nothing."""
    if request.app != instance.app or request.instance != instance.name:
        raise GovernanceError(
            f"request for {request.app}/{request.instance} given instance {instance.app}/{instance.name}"
        )
    if not request.dry_run and approval is None and instance.governance.require_approval:
        raise GovernanceError(
            f"{instance.app}/{instance.name}: {request.action} changes the tenant and the instance requires "
            "approval: trigger the instance's governance DAG, where an approver answers in Airflow, or set "
            "governance.require_approval: false for the instance"
        )
    connection = connection or action_connection(instance)
    items = plan_step(request, instance, lake, connection, http)
    items = apply_step(request, instance, items, approval, lake, connection, http)
    items = verify_step(request, instance, items, connection, http)
    return record_step(request, items, approval, lake)


def summarise(rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Result counts, for logs and XCom."""
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["result"]] = counts.get(row["result"], 0) + 1
    return counts


def action_access(
    instance: InstanceConfig, connection: ConnectionInfo, http: HttpContext | None = None
) -> list[ActionAccess]:
    """What the action connection may do, per declared action (kit.action_access): changes nothing."""
    spec = registry.app_spec(instance.app)
    with open_connector(instance, connection, http) as connector:
        report = connector.authenticate()
    return kit_action_access(spec.actions, report)
