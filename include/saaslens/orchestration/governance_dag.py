"""One governance DAG per instance that has an action connection (`actions_conn_id`).

Why one per instance rather than one DAG taking the instance as a parameter: Airflow's permissions
are per DAG, so who may trigger (and who may approve) changes to one tenant is set on that tenant's
DAG alone; the form offers exactly that app's implemented actions; and the tasks run in the
instance's own pool, the same one that bounds its scans' calls against the tenant.

Tasks: plan -> approve -> apply -> verify -> record. A dry run (the form's default) plans and
records; approve asks nothing when the run is a dry run, changes nothing, or the instance needs no
approver. A rejection skips apply and verify; record runs whatever happened and writes one
governance_actions row per target. Parse-time imports stay light, like the scan DAGs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from saaslens.config import InstanceConfig
from saaslens.connectors import registry
from saaslens.connectors.instances import load_connected_apps
from saaslens.orchestration.naming import APPLY, APPROVE, PLAN, RECORD, VERIFY, governance_dag_id, pool_name

if TYPE_CHECKING:
    from airflow.sdk import DAG


def _doc(instance: InstanceConfig, actions: list[str]) -> str:
    spec = registry.app_spec(instance.app)
    settings = instance.governance
    return (
        f"### Governance actions on {spec.title} instance `{instance.name}`\n\n"
        f"Acts through Airflow connection `{instance.actions_conn_id}` (scans keep `{instance.conn_id}`).\n\n"
        f"- actions: {', '.join(actions)}\n"
        f"- dry run by default; approval {'required' if settings.require_approval else 'not required'}; "
        f"at most {settings.max_targets} targets; admin targets "
        f"{'allowed' if settings.allow_admin_targets else 'refused'}\n"
        "- every target of every run is a row in the lake's `governance_actions` table\n"
    )


def governance_dag(instance: InstanceConfig) -> DAG | None:
    """The instance's governance DAG, or None when it has no action connection or no implemented
    action (nothing to offer)."""
    if not instance.actions_conn_id:
        return None
    actions = [a.name for a in registry.app_spec(instance.app).actions if a.implemented]
    if not actions:
        return None
    from airflow.sdk import DAG, Param, TriggerRule

    from saaslens.orchestration.governance_operators import GovernanceApprovalOperator, GovernanceStepOperator

    pool = pool_name(instance)
    common: dict[str, Any] = {"app": instance.app, "instance_name": instance.name}
    with DAG(
        dag_id=governance_dag_id(instance),
        description=f"saaslens governance actions on {instance.app} instance {instance.name}",
        schedule=None,
        catchup=False,
        # Runs on one tenant one at a time: two runs acting on one account would race.
        max_active_runs=1,
        default_args={"owner": "saaslens", "retries": 2, "pool": pool},
        tags=["saaslens", "governance", f"app:{instance.app}", f"instance:{instance.name}"],
        doc_md=_doc(instance, actions),
        params={
            "action": Param(actions[0], type="string", enum=actions, title="Action"),
            "targets": Param(
                [],
                type="array",
                items={"type": "string"},
                minItems=1,
                title="Targets",
                description="Lake ids (account_id, grant_id, file_id/share_id ...) or account emails, one per line",
            ),
            "dry_run": Param(True, type="boolean", title="Dry run", description="Only plan; send no change"),
            "reason": Param("", type="string", title="Reason", description="Why; stored with every row"),
        },
        render_template_as_native_obj=True,
    ) as dag:
        plan = GovernanceStepOperator.for_step(task_id=PLAN, step=PLAN, **common)
        approve = GovernanceApprovalOperator.for_instance(
            task_id=APPROVE,
            subject=f"Approve a governance action on {instance.app}/{instance.name}",
            # Only these Airflow users may answer; Airflow's API server refuses anyone else (403).
            assigned_users=[{"id": user, "name": user} for user in instance.governance.approvers] or None,
            **common,
        )
        apply = GovernanceStepOperator.for_step(task_id=APPLY, step=APPLY, **common)
        verify = GovernanceStepOperator.for_step(task_id=VERIFY, step=VERIFY, **common)
        record = GovernanceStepOperator.for_step(
            task_id=RECORD, step=RECORD, trigger_rule=TriggerRule.ALL_DONE, **common
        )
        plan >> approve >> apply >> verify >> record
    return dag


def build_governance_dags(config: Path | str | None = None, *, only_dag_id: str | None = None) -> dict[str, DAG]:
    """Governance DAGs for every enabled, valid instance with an action connection."""
    dags = {}
    for instance in load_connected_apps(config).instances:
        if not instance.enabled or (only_dag_id and governance_dag_id(instance) != only_dag_id):
            continue
        dag = governance_dag(instance)
        if dag is not None:
            dags[dag.dag_id] = dag
    return dags


def governance_dags_for_current_parse(config: Path | str | None = None) -> dict[str, DAG]:
    from airflow.sdk import get_parsing_context

    return build_governance_dags(config, only_dag_id=get_parsing_context().dag_id)
