"""Slack (Enterprise Grid): users, user groups, admins, access logs, the Audit Logs API and files.

`APP` declares it: the connector, its stages (users and privileges share users.list, groups, grants,
activities, files), the control actions Slack's APIs offer (actions.py), its OCSF action map,
identity keys and broad scopes."""

from saaslens.connectors.kit import ActivityStage, AppSpec, Probe, SnapshotStage, read_ocsf
from saaslens.connectors.slack import activities, files, grants, groups, identity, scopes, users
from saaslens.connectors.slack.actions import ACTIONS
from saaslens.connectors.slack.connector import SlackConnector
from saaslens.vocabulary import Capability, Stage

# Probes add the `team_id` option where it is set (an org-level token needs it): SlackConnector.authenticate.
APP = AppSpec(
    app=SlackConnector.app,
    title=SlackConnector.title,
    connector=SlackConnector,
    stages=(
        SnapshotStage(
            stage=Stage.USERS,
            scan=users.scan_users,
            permission="users:read (and users:read.email for emails)",
            probe=Probe("users.list", {"limit": 1}),
        ),
        SnapshotStage(
            stage=Stage.GROUPS,
            scan=groups.scan_groups,
            permission="usergroups:read",
            probe=Probe("usergroups.list"),
        ),
        # The users stage's probe answers for it: both read users.list.
        SnapshotStage(stage=Stage.PRIVILEGES, scan=users.scan_privileges, permission="users:read"),
        SnapshotStage(
            stage=Stage.APP_PERMISSIONS,
            scan=grants.scan_app_permissions,
            permission="admin.apps:read (Enterprise Grid org admin or owner)",
            probe=Probe("admin.apps.approved.list", {"limit": 1}),
        ),
        # Probed stream by stream, on the Audit Logs API's own host: SlackConnector.authenticate.
        ActivityStage(
            streams=activities.STREAMS,
            scan=activities.scan_activities,
            permission="auditlogs:read (Audit Logs API) and admin (team.accessLogs)",
        ),
        SnapshotStage(
            stage=Stage.FILES,
            scan=files.scan_files,
            permission="files:read",
            probe=Probe("files.list", {"count": 1}),
        ),
    ),
    actions=ACTIONS,
    # What Slack's APIs offer beyond what the declared stages collect and actions change. Not read
    # yet: admin.teams.settings.info and org session / SSO settings (posture), file content with
    # conversations history (DLP) and the Events API's file_shared (near-real-time DLP).
    api_capabilities=frozenset(
        {
            Capability.SECURITY_POSTURE,
            Capability.DLP_PERIODIC_SCAN,
            Capability.DLP_NEAR_REAL_TIME,
        }
    ),
    ocsf=read_ocsf(__name__),
    identity_keys=identity.KEYS,
    identity_provider=identity.IDENTITY_PROVIDER,
    broad_scopes=scopes.BROAD,
)

__all__ = ["APP", "SlackConnector"]
