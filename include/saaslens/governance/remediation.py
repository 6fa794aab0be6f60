"""Auto-remediation: after a report, run each opted-in finding's suggested action on its rows.

A policy (`auto_remediate:` in the connected-apps file) names a finding. For each instance its
rows fall in, the suggested action (the instance's app's action for the finding's remedy) runs on
at most `max_targets` of them (and never more than the instance's own governance.max_targets):
- a dry run (the default) plans and records here, changing nothing;
- an applied run waits for an approver: the reports DAG triggers the instance's governance DAG with
  the targets, where Airflow's approval shows the plan (`require_approval: false` runs it here, with
  the policy recorded as the approver).
What a policy could not do (an unknown finding, an instance without an action connection) is
returned as notes, for the task log, and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from saaslens.config import AutoRemediatePolicy, ConnectedApps, InstanceConfig
from saaslens.findings import Finding, suggestion_targets
from saaslens.governance.engine import Approval, GovernanceRequest, act
from saaslens.lake.writer import Lake

REQUESTER = "auto_remediate"


@dataclass(frozen=True)
class RemediationRun:
    policy: AutoRemediatePolicy
    instance: InstanceConfig
    action: str
    targets: tuple[str, ...]
    left_out: int  # rows over max_targets, for the next report

    @property
    def needs_approver(self) -> bool:
        return not self.policy.dry_run and self.policy.require_approval

    def reason(self, report_date: date) -> str:
        over = f"; {self.left_out} more left for later runs (max_targets)" if self.left_out else ""
        return f"auto_remediate: finding {self.policy.finding} in the report of {report_date.isoformat()}{over}"

    def conf(self, report_date: date) -> dict[str, Any]:
        """The governance DAG's params for this run."""
        return {
            "action": self.action,
            "targets": list(self.targets),
            "dry_run": self.policy.dry_run,
            "reason": self.reason(report_date),
        }


def plan_remediation(
    apps: ConnectedApps, findings: list[Finding], report_dir: Path
) -> tuple[list[RemediationRun], list[str]]:
    """The runs the policies ask for, from the findings' Parquet files in `report_dir`."""
    import pyarrow.parquet as pq

    by_id = {finding.id: finding for finding in findings}
    instances = {(i.app, i.name): i for i in apps.instances if i.enabled}
    runs: list[RemediationRun] = []
    notes: list[str] = []
    for policy in apps.auto_remediate:
        finding = by_id.get(policy.finding)
        if finding is None:
            notes.append(f"auto_remediate: no finding {policy.finding!r} (findings: {', '.join(sorted(by_id))})")
            continue
        if finding.suggests is None:
            notes.append(f"auto_remediate: finding {finding.id} suggests no remedy (no '-- suggests:' header)")
            continue
        path = report_dir / f"{finding.id}.parquet"
        if not path.exists():
            notes.append(f"auto_remediate: {path} is missing (the finding failed in this report)")
            continue
        rows = pq.read_table(path).to_pylist()
        for (app, name, action), refs in sorted(suggestion_targets(finding, rows).items()):
            label = f"{app}/{name}"
            if policy.instances is not None and label not in policy.instances:
                continue
            instance = instances.get((app, name))
            if instance is None:
                notes.append(f"auto_remediate {finding.id}: {label} is not an enabled instance; skipped")
                continue
            if not instance.actions_conn_id:
                notes.append(f"auto_remediate {finding.id}: {label} has no actions_conn_id; {len(refs)} target(s) left")
                continue
            cap = min(policy.max_targets, instance.governance.max_targets)
            runs.append(RemediationRun(policy, instance, action, tuple(refs[:cap]), max(0, len(refs) - cap)))
    return runs, notes


def run_here(
    run: RemediationRun, lake: Lake, report_date: date, *, run_id: str, inside_airflow: bool = True
) -> list[dict[str, Any]]:
    """A run that needs no approver in Airflow (a dry run, or `require_approval: false`), now."""
    from saaslens.governance.engine import action_connection

    now = datetime.now(UTC)
    request = GovernanceRequest(
        app=run.instance.app,
        instance=run.instance.name,
        action=run.action,
        targets=run.targets,
        requested_by=REQUESTER,
        requested_at=now,
        run_id=f"{run_id}:{run.policy.finding}",
        dry_run=run.policy.dry_run,
        reason=run.reason(report_date),
    )
    approval = None if run.policy.dry_run else Approval(True, f"auto_remediate policy ({run.policy.finding})", now)
    connection = action_connection(run.instance, inside_airflow=inside_airflow)
    return act(run.instance, request, lake, connection=connection, approval=approval)
