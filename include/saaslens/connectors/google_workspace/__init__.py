"""Google Workspace (Admin SDK Directory and Reports, Drive v3) with domain-wide delegation.

`APP` declares it: the connector, one stage per module (users, groups, privileges, grants,
activities, files), each with the OAuth scope it delegates and the cheapest request that proves it
(a probe's ``{customer}`` and ``{subject}`` are the connection's customer id and admin), the control
actions the APIs offer (actions.py), its OCSF action map, identity keys and broad scopes."""

from saaslens.connectors.google_workspace import (
    activities,
    files,
    grants,
    groups,
    identity,
    privileges,
    scopes,
    users,
)
from saaslens.connectors.google_workspace.actions import ACTIONS
from saaslens.connectors.google_workspace.connector import (
    AUDIT_SCOPE,
    DIRECTORY,
    DRIVE_SCOPE,
    GROUP_SCOPE,
    REPORTS,
    ROLE_SCOPE,
    STREAMS,
    TOKEN_SCOPE,
    USER_SCOPE,
    GoogleWorkspaceConnector,
)
from saaslens.connectors.kit import ActivityStage, AppSpec, Probe, SnapshotStage, read_ocsf
from saaslens.vocabulary import Capability, Stage

APP = AppSpec(
    app=GoogleWorkspaceConnector.app,
    title=GoogleWorkspaceConnector.title,
    connector=GoogleWorkspaceConnector,
    stages=(
        SnapshotStage(
            stage=Stage.USERS,
            scan=users.scan_users,
            permission=USER_SCOPE,
            probe=Probe(f"{DIRECTORY}/users", {"customer": "{customer}", "maxResults": 1}),
        ),
        SnapshotStage(
            stage=Stage.GROUPS,
            scan=groups.scan_groups,
            permission=GROUP_SCOPE,
            probe=Probe(f"{DIRECTORY}/groups", {"customer": "{customer}", "maxResults": 1}),
        ),
        SnapshotStage(
            stage=Stage.PRIVILEGES,
            scan=privileges.scan_privileges,
            permission=f"{ROLE_SCOPE} (and {GROUP_SCOPE} for roles assigned to groups)",
            probe=Probe(f"{DIRECTORY}/customer/{{customer}}/roleassignments", {"maxResults": 1}),
        ),
        SnapshotStage(
            stage=Stage.APP_PERMISSIONS,
            scan=grants.scan_app_permissions,
            permission=f"{TOKEN_SCOPE} and {USER_SCOPE}",
            probe=Probe(f"{DIRECTORY}/users/{{subject}}/tokens"),
        ),
        ActivityStage(
            streams=STREAMS,
            scan=activities.scan_activities,
            permission=AUDIT_SCOPE,
            probe=Probe(f"{REPORTS}/activity/users/all/applications/admin", {"maxResults": 1}),
        ),
        SnapshotStage(
            stage=Stage.FILES,
            scan=files.scan_files,
            permission=f"{DRIVE_SCOPE} and {USER_SCOPE}",
            probe=Probe("drive/v3/files", {"pageSize": 1, "fields": "files(id)"}),
        ),
    ),
    actions=ACTIONS,
    # What the APIs offer beyond what the declared stages collect and actions change.
    api_capabilities=frozenset(
        {
            Capability.SECURITY_POSTURE,  # Cloud Identity Policy API: the Admin console's security settings
            Capability.DLP_PERIODIC_SCAN,  # files.get?alt=media / files.export
            Capability.DLP_NEAR_REAL_TIME,  # changes.watch push notifications
            Capability.SENSITIVITY_LABELS,  # Drive Labels API, files.modifyLabels
        }
    ),
    ocsf=read_ocsf(__name__),
    identity_keys=identity.KEYS,
    identity_provider=identity.IDENTITY_PROVIDER,
    broad_scopes=scopes.BROAD,
)

__all__ = ["APP", "GoogleWorkspaceConnector"]
