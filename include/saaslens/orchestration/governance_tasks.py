"""What the governance DAG's tasks run (imported at execution time only).

Plans, approvals and outcomes cross XCom as JSON (`Item.to_dict`): target keys, states the provider
reported and the requests planned, never a credential. The connection is resolved inside each task.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from airflow.sdk.exceptions import AirflowFailException

from saaslens import governance, settings
from saaslens.config import ConfigError, InstanceConfig
from saaslens.connections import ConnectionNotFoundError
from saaslens.connectors.instances import load_connected_apps
from saaslens.governance import Approval, GovernanceRequest, Item
from saaslens.lake.writer import Lake
from saaslens.orchestration.naming import APPLY, APPROVE, PLAN, RECORD, VERIFY

log = logging.getLogger(__name__)

# The XCom key the approve task writes the approver's answer under (its return value is lost when
# a rejection skips the tasks after it).
APPROVAL_KEY = "approval"
# Results that make the record task (and so the run) fail once the rows are written.
_FAILING = (governance.FAILED, governance.DENIED, governance.NOT_FOUND)


def _instance(app: str, instance_name: str) -> InstanceConfig:
    try:
        return load_connected_apps().get(f"{app}/{instance_name}")
    except ConfigError as exc:
        raise AirflowFailException(str(exc)) from None


def _request(instance: InstanceConfig, context: Any) -> GovernanceRequest:
    params = context["params"]
    dag_run = context["dag_run"]
    targets = params.get("targets") or []
    if isinstance(targets, str):  # the form's text area, one target per line
        targets = [line for line in targets.splitlines() if line.strip()]
    moment = getattr(dag_run, "run_after", None) or getattr(dag_run, "start_date", None) or datetime.now(UTC)
    return GovernanceRequest(
        app=instance.app,
        instance=instance.name,
        action=str(params["action"]),
        targets=tuple(str(t) for t in targets),
        requested_by=getattr(dag_run, "triggering_user_name", None) or "airflow",
        requested_at=moment,
        run_id=str(context["run_id"]),
        dry_run=bool(params.get("dry_run", True)),
        reason=str(params.get("reason") or ""),
    )


def _pulled(context: Any, task_id: str) -> Any:
    return context["ti"].xcom_pull(task_ids=task_id)


def _approval(context: Any) -> Approval | None:
    answer = context["ti"].xcom_pull(task_ids=APPROVE, key=APPROVAL_KEY) or _pulled(context, APPROVE)
    return Approval.from_dict(answer)


def _latest_items(context: Any) -> tuple[GovernanceRequest, list[Item]] | None:
    for task_id in (VERIFY, APPLY, PLAN):
        value = _pulled(context, task_id)
        if value:
            return GovernanceRequest.from_dict(value["request"]), [Item.from_dict(i) for i in value["items"]]
    return None


def _payload(request: GovernanceRequest, items: list[Item]) -> dict[str, Any]:
    return {"request": request.to_dict(), "items": [item.to_dict() for item in items]}


def run_step(app: str, instance_name: str, step: str, context: Any) -> dict[str, Any]:
    instance = _instance(app, instance_name)
    lake = Lake(settings.lake_root())
    try:
        connection = governance.action_connection(instance, inside_airflow=True)
        if step == PLAN:
            request = _request(instance, context)
            items = governance.plan_step(request, instance, lake, connection)
            for item in items:
                log.info("%s %s: %s %s", request.action, item.target_id, item.result, item.detail)
            return _payload(request, items)
        if step == RECORD:
            return _record(context, lake)
        found = _latest_items(context)
        if found is None:
            raise AirflowFailException("no plan to act on: the plan task left none")
        request, items = found
        if step == APPLY:
            approval = _approval(context)
            items = governance.apply_step(request, instance, items, approval, lake, connection)
        elif step == VERIFY:
            items = governance.verify_step(request, instance, items, connection)
        else:
            raise AirflowFailException(f"unknown governance step {step!r}")
        return _payload(request, items)
    except (governance.GovernanceError, governance.TargetError, ConnectionNotFoundError) as exc:
        # A request that cannot run: retrying would not help, and nothing was sent.
        raise AirflowFailException(str(exc)) from None


def _record(context: Any, lake: Lake) -> dict[str, Any]:
    found = _latest_items(context)
    if found is None:
        log.warning("nothing to record: the plan task failed before planning any target (see its log)")
        return {"results": {}}
    request, items = found
    approval = _approval(context)
    apply_ran = _pulled(context, APPLY) is not None
    if not request.dry_run and approval is None and not apply_ran:
        # Neither approved nor applied: the approval task failed or timed out; nothing was sent.
        for item in items:
            if item.result == governance.PENDING:
                item.settle(governance.FAILED, "not applied: the approval step did not complete")
    rows = governance.record_step(request, items, approval, lake)
    results = governance.summarise(rows)
    log.info("%s on %d target(s): %s", request.action, len(rows), results)
    failing = {r["target_id"]: r["result"] for r in rows if r["result"] in _FAILING}
    if failing:
        raise AirflowFailException(f"recorded, but not every target was changed: {failing}")
    return {"results": results}


def approval_needed(app: str, instance_name: str, context: Any) -> tuple[bool, str]:
    """Whether this run needs an approver, and what to show them (or why not)."""
    instance = _instance(app, instance_name)
    plan = _pulled(context, PLAN)
    if not plan:
        return False, "no plan (the plan task failed)"
    request = GovernanceRequest.from_dict(plan["request"])
    items = [Item.from_dict(i) for i in plan["items"]]
    pending = [item for item in items if item.result == governance.PENDING and not item.sent]
    if request.dry_run:
        return False, "dry run: nothing will be sent, no approval asked"
    if not pending:
        return False, "the plan changes nothing: no approval asked"
    if not instance.governance.require_approval:
        return False, "the instance's governance.require_approval is false: no approval asked"
    return True, approval_body(request, items)


def approval_body(request: GovernanceRequest, items: list[Item]) -> str:
    """The plan as Markdown for the approver: every target, its state now, the exact requests."""

    def cell(value: Any) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = [
        f"**{request.action}** on {len(items)} target(s) of `{request.app}/{request.instance}`, "
        f"asked by **{cell(request.requested_by)}**" + (f": {cell(request.reason)}" if request.reason else ""),
        "",
        "| target | name | now | will send | plan |",
        "|---|---|---|---|---|",
    ]
    for item in items:
        plan = item.plan
        sends = "; ".join(f"{r.method} {r.path}" for r in plan.requests) if plan is not None else ""
        before = ", ".join(f"{k}={v}" for k, v in plan.before.items()) if plan is not None else ""
        outcome = "change" if item.result == governance.PENDING else f"{item.result}: {item.detail}"
        lines.append(
            f"| {cell(item.target_id)} | {cell(item.target.label)} | {cell(before)} | {cell(sends)} | {cell(outcome)} |"
        )
    return "\n".join(lines)


def approval_from_answer(
    answer: Any, *, approve_option: str, requester: str | None = None, allow_self_approval: bool = True
) -> dict[str, Any]:
    """The approver's answer (Airflow's HITL payload) as saaslens' Approval, for XCom. Unless
    self-approval is allowed, "Approve" from the user who triggered the run (`requester`, Airflow's
    triggering user) does not count: the Approval is a refusal that says why."""
    chosen = (answer.get("chosen_options") or [None])[0]
    user = answer.get("responded_by_user") or {}
    names = {user.get("name"), user.get("id")} if isinstance(user, dict) else {str(user)}
    by = (user.get("name") or user.get("id")) if isinstance(user, dict) else str(user)
    at = answer.get("responded_at")
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    approved = chosen == approve_option
    refused = None
    if approved and not allow_self_approval and requester and requester in names:
        approved = False
        refused = (
            f"approved by {requester}, who asked for the run: a second person must approve "
            "(governance.allow_self_approval is false)"
        )
    return Approval(approved=approved, by=by or None, at=at, refused=refused).to_dict()


def judge_answer(app: str, instance_name: str, context: Any, answer: Any, *, approve_option: str) -> dict[str, Any]:
    """The approval task's answer under the instance's rules (see approval_from_answer)."""
    instance = _instance(app, instance_name)
    return approval_from_answer(
        answer,
        approve_option=approve_option,
        requester=getattr(context.get("dag_run"), "triggering_user_name", None),
        allow_self_approval=instance.governance.allow_self_approval,
    )
