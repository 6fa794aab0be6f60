"""Okta through its Management API: users, groups, admin roles, user grants and the System Log.

`APP` declares it: the connector, one stage per module (users, groups, privileges, grants,
activities), the control actions the Management API offers (actions.py), its OCSF action map,
identity keys and broad scopes."""

from saaslens.connectors.kit import ActivityStage, AppSpec, Incremental, Probe, SnapshotStage, read_ocsf
from saaslens.connectors.okta import activities, grants, groups, identity, privileges, scopes, users
from saaslens.connectors.okta.actions import ACTIONS
from saaslens.connectors.okta.connector import OktaConnector
from saaslens.vocabulary import Capability, Stage

APP = AppSpec(
    app=OktaConnector.app,
    title=OktaConnector.title,
    connector=OktaConnector,
    stages=(
        SnapshotStage(
            stage=Stage.USERS,
            scan=users.scan_users,
            permission="okta.users.read",
            probe=Probe("/api/v1/users", {"limit": 1}),
            resumable=True,
            incremental=Incremental(start_cursor=users.start_cursor, changes=users.changes, merge=users.merge),
        ),
        SnapshotStage(
            stage=Stage.GROUPS,
            scan=groups.scan_groups,
            permission="okta.groups.read",
            probe=Probe("/api/v1/groups", {"limit": 1}),
            incremental=Incremental(start_cursor=groups.start_cursor, changes=groups.changes),
        ),
        SnapshotStage(
            stage=Stage.PRIVILEGES,
            scan=privileges.scan_privileges,
            permission="okta.roles.read",
            probe=Probe("/api/v1/iam/assignees/users", {"limit": 1}),
        ),
        # Probed per user (grants are listed per user): OktaConnector.authenticate.
        SnapshotStage(stage=Stage.APP_PERMISSIONS, scan=grants.scan_app_permissions, permission="okta.users.read"),
        ActivityStage(streams=activities.STREAMS, scan=activities.scan_activities, permission="okta.logs.read"),
    ),
    actions=ACTIONS,
    # Beyond what the declared stages collect and actions change, the Management API offers security
    # posture (/api/v1/policies, authenticators, network zones), not read yet.
    api_capabilities=frozenset({Capability.SECURITY_POSTURE}),
    ocsf=read_ocsf(__name__),
    identity_keys=identity.KEYS,
    identity_provider=identity.IDENTITY_PROVIDER,
    broad_scopes=scopes.BROAD,
)

__all__ = ["APP", "OktaConnector"]
