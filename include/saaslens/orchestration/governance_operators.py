"""The governance DAG's operators: thin shells over saaslens.orchestration.governance_tasks.

`GovernanceApprovalOperator` is Airflow's own human-in-the-loop ApprovalOperator: it shows the
approver the plan (targets, their state now, the exact requests) and waits in Airflow's
awaiting-input state; on "Reject" Airflow skips apply and verify. It asks nothing when the run is
a dry run, when the plan changes nothing, or when the instance needs no approver, and returns the
answer as saaslens' Approval (who, when) for the record step. An approval given by the user who
triggered the run counts as a rejection unless the instance allows self-approval (four eyes).
"""

from __future__ import annotations

from typing import Any

from airflow.providers.standard.operators.hitl import ApprovalOperator
from airflow.sdk import BaseOperator


class GovernanceStepOperator(BaseOperator):
    """One step (plan, apply, verify, record) of a governance run. Build it with `for_step`."""

    template_fields = ()
    ui_color = "#fde68a"
    app: str
    instance_name: str
    step: str

    @classmethod
    def for_step(cls, *, app: str, instance_name: str, step: str, **kwargs: Any) -> GovernanceStepOperator:
        operator = cls(**kwargs)
        operator.app, operator.instance_name, operator.step = app, instance_name, step
        return operator

    def execute(self, context: Any) -> dict[str, Any]:
        from saaslens.orchestration.governance_tasks import run_step

        return run_step(self.app, self.instance_name, self.step, context)


class GovernanceApprovalOperator(ApprovalOperator):
    """Approve or reject the planned changes, in the Airflow UI or through its REST API."""

    ui_color = "#fca5a5"
    app: str
    instance_name: str

    @classmethod
    def for_instance(cls, *, app: str, instance_name: str, **kwargs: Any) -> GovernanceApprovalOperator:
        operator = cls(body="(the plan is shown when the run reaches this task)", **kwargs)
        operator.app, operator.instance_name = app, instance_name
        return operator

    def execute(self, context: Any) -> Any:
        from saaslens.orchestration.governance_tasks import approval_needed

        needed, body = approval_needed(self.app, self.instance_name, context)
        if not needed:
            self.log.info("%s", body)
            return None  # the record step reads "no approval asked"
        self.body = body
        return super().execute(context)

    def execute_complete(self, context: Any, event: dict[str, Any]) -> Any:
        from saaslens.orchestration.governance_tasks import APPROVAL_KEY, judge_answer

        if "error" in event:
            return super().execute_complete(context=context, event=event)  # timeout or error: fails
        # Pushed before the parent handles a rejection: a task that skips its downstream tasks
        # returns no value to XCom, and the record step must still say who rejected it.
        approval = judge_answer(self.app, self.instance_name, context, event, approve_option=self.APPROVE)
        context["ti"].xcom_push(key=APPROVAL_KEY, value=approval)
        if approval["refused"]:
            # An approval that does not count is handled as Airflow handles "Reject": apply and
            # verify are skipped, so nothing is sent.
            self.log.warning("%s", approval["refused"])
            event = {**event, "chosen_options": [self.REJECT]}
        super().execute_complete(context=context, event=event)  # skips apply on Reject
        return approval
