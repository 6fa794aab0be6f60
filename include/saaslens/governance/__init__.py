"""Governance actions: change a tenant from what the lake shows, safely (docs/governance.md).

`act` runs one request end to end (the CLI, tests); the governance DAG runs `plan_step`,
the approval, `apply_step`, `verify_step` and `record_step` as tasks. Every target of every run,
dry runs and refusals included, becomes a row in the lake's `governance_actions` table.
"""

from saaslens.connectors.kit import ActionAccess
from saaslens.governance.engine import (
    ALREADY_APPLIED,
    APPLIED,
    DENIED,
    FAILED,
    NOT_FOUND,
    PENDING,
    PLANNED,
    REFUSED,
    REJECTED,
    Approval,
    GovernanceError,
    GovernanceRequest,
    Item,
    act,
    action_access,
    action_connection,
    apply_step,
    declared_action,
    plan_step,
    record_step,
    summarise,
    verify_step,
)
from saaslens.governance.targets import TargetError, parse_reference, resolve_targets

__all__ = [
    "ALREADY_APPLIED",
    "APPLIED",
    "DENIED",
    "FAILED",
    "NOT_FOUND",
    "PENDING",
    "PLANNED",
    "REFUSED",
    "REJECTED",
    "ActionAccess",
    "Approval",
    "GovernanceError",
    "GovernanceRequest",
    "Item",
    "TargetError",
    "act",
    "action_access",
    "action_connection",
    "apply_step",
    "declared_action",
    "parse_reference",
    "plan_step",
    "record_step",
    "resolve_targets",
    "summarise",
    "verify_step",
]
