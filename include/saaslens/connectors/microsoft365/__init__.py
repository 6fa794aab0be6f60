"""Microsoft 365 (Entra ID, audit logs, OneDrive and SharePoint) through Microsoft Graph v1.0.

`APP` declares it: the connector, one stage per module (users, groups, privileges, grants,
activities, files), the control actions Graph offers (actions.py), its OCSF action map, identity
keys and broad scopes."""

from saaslens.connectors.kit import ActivityStage, AppSpec, Incremental, Probe, SnapshotStage, read_ocsf
from saaslens.connectors.microsoft365 import (
    activities,
    files,
    grants,
    groups,
    identity,
    privileges,
    scopes,
    users,
)
from saaslens.connectors.microsoft365.actions import ACTIONS
from saaslens.connectors.microsoft365.connector import STREAMS, Microsoft365Connector
from saaslens.vocabulary import Capability, Stage

APP = AppSpec(
    app=Microsoft365Connector.app,
    title=Microsoft365Connector.title,
    connector=Microsoft365Connector,
    stages=(
        SnapshotStage(
            stage=Stage.USERS,
            scan=users.scan_users,
            permission="User.Read.All",
            probe=Probe("/v1.0/users", {"$top": 1, "$select": "id"}),
            resumable=True,
            incremental=Incremental(start_cursor=users.start_cursor, changes=users.changes, merge=users.merge),
        ),
        SnapshotStage(
            stage=Stage.GROUPS,
            scan=groups.scan_groups,
            permission="GroupMember.Read.All",
            probe=Probe("/v1.0/groups", {"$top": 1, "$select": "id"}),
        ),
        SnapshotStage(
            stage=Stage.PRIVILEGES,
            scan=privileges.scan_privileges,
            permission="RoleManagement.Read.Directory",
            probe=Probe("/v1.0/directoryRoles"),
        ),
        SnapshotStage(
            stage=Stage.APP_PERMISSIONS,
            scan=grants.scan_app_permissions,
            permission="Application.Read.All and DelegatedPermissionGrant.Read.All (or Directory.Read.All)",
        ),
        ActivityStage(
            streams=tuple(STREAMS),
            scan=activities.scan_activities,
            permission="AuditLog.Read.All (sign-ins also need Entra ID P1/P2)",
        ),
        SnapshotStage(
            stage=Stage.FILES,
            scan=files.scan_files,
            permission="Files.Read.All and Sites.Read.All",
            resumable=True,
        ),
    ),
    actions=ACTIONS,
    # What Graph offers beyond what the declared stages collect and actions change.
    api_capabilities=frozenset(
        {
            Capability.SECURITY_POSTURE,
            Capability.DLP_PERIODIC_SCAN,
            Capability.DLP_NEAR_REAL_TIME,
            Capability.SENSITIVITY_LABELS,
        }
    ),
    ocsf=read_ocsf(__name__),
    identity_keys=identity.KEYS,
    identity_provider=identity.IDENTITY_PROVIDER,
    broad_scopes=scopes.BROAD,
)

__all__ = ["APP", "Microsoft365Connector"]
