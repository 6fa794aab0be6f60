"""The capability vocabulary of the app-connector matrix, and which stage needs which.

The names follow what cloud access security brokers publish for their API app connectors, so a
security team can read `saaslens capabilities` next to the matrix they already know.
"""

from __future__ import annotations

from enum import StrEnum


class Capability(StrEnum):
    LIST_ACCOUNTS = "list accounts"
    LIST_GROUPS = "list groups"
    LIST_PRIVILEGES = "list privileges"
    LOGON_ACTIVITY = "logon activity"
    USER_ACTIVITY = "user activity"
    ADMIN_ACTIVITY = "administrative activity"
    USER_GOVERNANCE = "user governance"
    VIEW_APP_PERMISSIONS = "view app permissions"
    REVOKE_APP_PERMISSIONS = "revoke app permissions"
    SECURITY_POSTURE = "security posture"
    DLP_PERIODIC_SCAN = "DLP periodic scan"
    DLP_NEAR_REAL_TIME = "DLP near-real-time scan"
    SHARING_CONTROL = "sharing control"
    FILE_GOVERNANCE = "file governance"
    SENSITIVITY_LABELS = "sensitivity labels"


# What saaslens itself does today with an app that has the capability. The rest of the
# vocabulary (governance actions, content scanning, posture checks) is declared by connectors
# whose provider API supports it, and shown as such, until those features are built.
IMPLEMENTED = frozenset(
    {
        Capability.LIST_ACCOUNTS,
        Capability.LIST_GROUPS,
        Capability.LIST_PRIVILEGES,
        Capability.LOGON_ACTIVITY,
        Capability.USER_ACTIVITY,
        Capability.ADMIN_ACTIVITY,
        Capability.VIEW_APP_PERMISSIONS,
    }
)

ACTIVITY_CAPABILITIES = frozenset({Capability.LOGON_ACTIVITY, Capability.USER_ACTIVITY, Capability.ADMIN_ACTIVITY})

# Stages in the order a DAG runs them. A stage exists for an app only when the connector has
# at least one of the capabilities listed for it; `authenticate` always exists.
STAGE_ORDER: tuple[str, ...] = (
    "authenticate",
    "users",
    "groups",
    "privileges",
    "app_permissions",
    "activities",
    "files",
)

STAGE_CAPABILITIES: dict[str, frozenset[Capability]] = {
    "users": frozenset({Capability.LIST_ACCOUNTS}),
    "groups": frozenset({Capability.LIST_GROUPS}),
    "privileges": frozenset({Capability.LIST_PRIVILEGES}),
    "app_permissions": frozenset({Capability.VIEW_APP_PERMISSIONS}),
    "activities": ACTIVITY_CAPABILITIES,
    "files": frozenset({Capability.DLP_PERIODIC_SCAN, Capability.FILE_GOVERNANCE, Capability.SHARING_CONTROL}),
}

# Which canonical tables a stage publishes.
STAGE_TABLES: dict[str, tuple[str, ...]] = {
    "authenticate": ("instance_permissions",),
    "users": ("accounts",),
    "groups": ("groups", "group_members"),
    "privileges": ("privileges",),
    "app_permissions": ("app_permissions",),
    "activities": ("activities",),
    "files": ("files", "file_shares"),
}


def stages_for(capabilities: frozenset[Capability]) -> list[str]:
    """The stages a connector with these capabilities runs, in DAG order."""
    return [stage for stage in STAGE_ORDER if stage == "authenticate" or STAGE_CAPABILITIES[stage] & capabilities]
