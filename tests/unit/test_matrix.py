"""The capability matrix is computed from the apps' declarations: stages and actions."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from saaslens.connectors.base import Connector
from saaslens.connectors.kit import (
    Action,
    ActionOutcome,
    ActionPlan,
    AppSpec,
    Batch,
    PlannedRequest,
    SnapshotStage,
    Target,
    Verification,
)
from saaslens.matrix import BUILT, NOT_POSSIBLE, PROVIDER_API_ONLY, capability_matrix, capability_state
from saaslens.vocabulary import Capability, Stage, TargetKind


def scan_users(connector: Any, resume: Any) -> Iterator[Batch]:
    yield Batch("accounts", [])


def plan_suspend(connector: Any, target: Target) -> ActionPlan:
    return ActionPlan("suspend_user", target, (PlannedRequest("POST", f"/users/{target.keys['account_id']}/suspend"),))


def apply_suspend(connector: Any, plan: ActionPlan) -> ActionOutcome:
    return ActionOutcome(plan, applied=True, detail="suspended")


def verify_suspend(connector: Any, outcome: ActionOutcome) -> Verification:
    return Verification(holds=True, after={"status": "suspended"})


def suspend(implemented: bool) -> Action[Any]:
    declared = Action[Any](
        name="suspend_user",
        target=TargetKind.ACCOUNT,
        permission="users:write",
        reversible=True,
        description="Suspend an account",
        docs="https://example.test/api/users#suspend",
    )
    if not implemented:
        return declared
    return replace(declared, plan=plan_suspend, apply=apply_suspend, verify=verify_suspend)


class ExampleConnector(Connector):
    """Never instantiated: the matrix reads declarations, it never connects."""

    app = "example"
    title = "Example"


def example_app(*actions: Action[Any]) -> AppSpec:
    return AppSpec(
        connector=ExampleConnector,  # type: ignore[type-abstract]
        stages=(SnapshotStage(stage=Stage.USERS, scan=scan_users, permission="users:read"),),
        actions=actions,
        api_capabilities=frozenset({Capability.LIST_ACCOUNTS, Capability.SECURITY_POSTURE}),
    )


def states(spec: AppSpec) -> dict[str, str]:
    entry = capability_matrix([spec])["apps"][spec.app]
    return {c.value: capability_state(entry, c.value) for c in Capability}


def test_governance_is_provider_api_only_while_the_action_is_declared_but_not_implemented() -> None:
    cells = states(example_app(suspend(implemented=False)))
    assert cells[Capability.USER_GOVERNANCE] == PROVIDER_API_ONLY
    assert cells[Capability.LIST_ACCOUNTS] == BUILT  # collected by the declared users stage
    assert cells[Capability.SECURITY_POSTURE] == PROVIDER_API_ONLY  # offered, no stage collects it
    assert cells[Capability.LIST_GROUPS] == NOT_POSSIBLE  # no groups stage, not offered


def test_governance_is_built_only_when_plan_apply_and_verify_are_given() -> None:
    assert states(example_app(suspend(implemented=True)))[Capability.USER_GOVERNANCE] == BUILT


def test_without_a_declared_action_there_is_no_governance_cell() -> None:
    cells = states(example_app())
    for capability in (
        Capability.USER_GOVERNANCE,
        Capability.REVOKE_APP_PERMISSIONS,
        Capability.SHARING_CONTROL,
        Capability.FILE_GOVERNANCE,
    ):
        assert cells[capability] == NOT_POSSIBLE, capability


def test_each_action_target_gives_its_own_capability() -> None:
    revoke = Action[Any](
        name="revoke_grant",
        target=TargetKind.APP_GRANT,
        permission="grants:write",
        reversible=False,
        description="Revoke an OAuth grant",
        docs="https://example.test/api/grants#delete",
        plan=plan_suspend,
        apply=apply_suspend,
        verify=verify_suspend,
    )
    cells = states(example_app(revoke))
    assert cells[Capability.REVOKE_APP_PERMISSIONS] == BUILT
    assert cells[Capability.USER_GOVERNANCE] == NOT_POSSIBLE


def test_json_form_lists_the_declared_actions_and_stages() -> None:
    entry = capability_matrix([example_app(suspend(implemented=False))])["apps"]["example"]
    assert entry["stages"] == ["authenticate", "users"]
    assert entry["stage_permissions"] == {"users": "users:read"}
    assert entry["actions"] == [
        {
            "name": "suspend_user",
            "target": "account",
            "capability": "user governance",
            "permission": "users:write",
            "reversible": True,
            "implemented": False,
        }
    ]
