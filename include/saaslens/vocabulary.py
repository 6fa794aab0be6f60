"""The shared vocabulary, declared once: capabilities, stages, the tables each stage publishes, the
order and edges of an instance's DAG, and the kinds of thing a control action targets.

Everything else reads it: connectors declare their stages and actions in these words
(saaslens.connectors.kit), the runner dispatches on them, the DAG factory wires tasks from
`STAGE_UPSTREAM`, and the capability matrix and docs are computed from them.

The capability names follow what cloud access security brokers publish for their API app connectors,
so a security team can read `saaslens capabilities` next to the matrix they already know.
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


class Stage(StrEnum):
    """A unit of scanning: one Airflow task per instance, one scan_runs row per attempt."""

    AUTHENTICATE = "authenticate"
    USERS = "users"
    GROUPS = "groups"
    PRIVILEGES = "privileges"
    APP_PERMISSIONS = "app_permissions"
    # The tenant's security configuration, evaluated by the posture rules (docs/posture.md).
    SETTINGS = "settings"
    ACTIVITIES = "activities"
    FILES = "files"


class TargetKind(StrEnum):
    """What a control action changes in a tenant (saaslens.connectors.kit.Action)."""

    ACCOUNT = "account"
    SESSION = "session"
    GROUP_MEMBERSHIP = "group_membership"
    PRIVILEGE = "privilege"
    APP_GRANT = "app_grant"
    FILE = "file"
    FILE_SHARE = "file_share"


class Remedy(StrEnum):
    """What a finding suggests doing about its rows, in words every app's actions answer to: an
    `Action` lists the remedies it performs, a finding file names one (`-- suggests: revoke_grant`),
    and the report and auto-remediation pick each row's app's action from them."""

    SUSPEND_ACCOUNT = "suspend_account"
    END_SESSIONS = "end_sessions"
    FORCE_PASSWORD_CHANGE = "force_password_change"
    REMOVE_ADMIN_ROLE = "remove_admin_role"
    REVOKE_GRANT = "revoke_grant"
    REMOVE_PUBLIC_LINK = "remove_public_link"
    REMOVE_EXTERNAL_SHARE = "remove_external_share"
    # File governance (docs/dlp.md): what a content-inspection policy may ask for a file.
    RESTRICT_TO_OWNER = "restrict_to_owner"
    QUARANTINE_FILE = "quarantine_file"
    TRASH_FILE = "trash_file"
    APPLY_SENSITIVITY_LABEL = "apply_sensitivity_label"


# Stages in the order a DAG runs them (and `saaslens sync` runs them one after the other).
STAGE_ORDER: tuple[Stage, ...] = tuple(Stage)

# The DAG's edges: each stage runs after these (those the app has). Snapshot stages after users, so
# memberships and grants are checked against the accounts of the same run; activities and files
# last, as the longest.
STAGE_UPSTREAM: dict[Stage, tuple[Stage, ...]] = {
    Stage.AUTHENTICATE: (),
    Stage.USERS: (Stage.AUTHENTICATE,),
    Stage.GROUPS: (Stage.USERS,),
    Stage.PRIVILEGES: (Stage.USERS,),
    Stage.APP_PERMISSIONS: (Stage.USERS,),
    # Settings stand alone (no rule reads accounts), so they need only the credentials checked.
    Stage.SETTINGS: (Stage.AUTHENTICATE,),
    Stage.ACTIVITIES: (Stage.GROUPS,),
    Stage.FILES: (Stage.ACTIVITIES,),
}

# What a declared stage collects, of the capabilities its app's API offers: what the matrix shows as
# built ("yes"). Listing files is the ground DLP, file governance and sharing control stand on, not
# one of them: those come from content scans and declared actions.
STAGE_COLLECTS: dict[Stage, frozenset[Capability]] = {
    Stage.AUTHENTICATE: frozenset(),
    Stage.USERS: frozenset({Capability.LIST_ACCOUNTS}),
    Stage.GROUPS: frozenset({Capability.LIST_GROUPS}),
    Stage.PRIVILEGES: frozenset({Capability.LIST_PRIVILEGES}),
    Stage.APP_PERMISSIONS: frozenset({Capability.VIEW_APP_PERMISSIONS}),
    Stage.SETTINGS: frozenset({Capability.SECURITY_POSTURE}),
    Stage.ACTIVITIES: frozenset({Capability.LOGON_ACTIVITY, Capability.USER_ACTIVITY, Capability.ADMIN_ACTIVITY}),
    Stage.FILES: frozenset(),
}

# Which canonical tables a stage publishes, parents before children (groups before their members).
STAGE_TABLES: dict[Stage, tuple[str, ...]] = {
    Stage.AUTHENTICATE: ("instance_permissions",),
    Stage.USERS: ("accounts",),
    Stage.GROUPS: ("groups", "group_members"),
    Stage.PRIVILEGES: ("privileges",),
    Stage.APP_PERMISSIONS: ("app_permissions",),
    Stage.SETTINGS: ("settings",),
    Stage.ACTIVITIES: ("activities",),
    Stage.FILES: ("files", "file_shares"),
}

# Which capability an action on each target kind gives the app in the matrix.
TARGET_CAPABILITY: dict[TargetKind, Capability] = {
    TargetKind.ACCOUNT: Capability.USER_GOVERNANCE,
    TargetKind.SESSION: Capability.USER_GOVERNANCE,
    TargetKind.GROUP_MEMBERSHIP: Capability.USER_GOVERNANCE,
    TargetKind.PRIVILEGE: Capability.USER_GOVERNANCE,
    TargetKind.APP_GRANT: Capability.REVOKE_APP_PERMISSIONS,
    TargetKind.FILE: Capability.FILE_GOVERNANCE,
    TargetKind.FILE_SHARE: Capability.SHARING_CONTROL,
}

ACTIVITY_CAPABILITIES = STAGE_COLLECTS[Stage.ACTIVITIES]


def ordered(stages: set[Stage] | frozenset[Stage] | list[Stage]) -> list[Stage]:
    """Stages in DAG order."""
    chosen = set(stages)
    return [stage for stage in STAGE_ORDER if stage in chosen]


def upstream_of(stage: Stage, present: set[Stage] | frozenset[Stage]) -> list[Stage]:
    """The stages `stage` waits for in a DAG that has only `present`: its declared upstreams, or theirs
    when one is absent (an app without groups runs activities after users)."""
    found: list[Stage] = []
    for parent in STAGE_UPSTREAM[stage]:
        if parent in present:
            found.append(parent)
        else:
            found.extend(p for p in upstream_of(parent, present) if p not in found)
    return found
