"""GitHub (an organization on GitHub Enterprise Cloud, through the REST API).

`APP` declares it: the connector, one stage per module (users, groups, privileges, grants,
activities), each with the token permission it needs and the cheapest request that proves it (every
probe is below the organization, ``/orgs/{org}``, filled from the connection), the control actions the
API offers (actions.py), its OCSF action map, identity keys and broad scopes."""

from saaslens.connectors.github import (
    activities,
    grants,
    groups,
    identity,
    privileges,
    scopes,
    users,
)
from saaslens.connectors.github.actions import ACTIONS
from saaslens.connectors.github.connector import ORG, GitHubConnector
from saaslens.connectors.kit import ActivityStage, AppSpec, Probe, SnapshotStage, read_ocsf
from saaslens.vocabulary import Capability, Stage

MEMBERS_READ = "read:org (classic PAT) or Members: read (fine-grained PAT, GitHub App)"

APP = AppSpec(
    app=GitHubConnector.app,
    title=GitHubConnector.title,
    connector=GitHubConnector,
    stages=(
        SnapshotStage(
            stage=Stage.USERS,
            scan=users.scan_users,
            permission=f"{MEMBERS_READ}; owner for 2FA state",
            probe=Probe(f"{ORG}/members", {"per_page": 1}),
        ),
        SnapshotStage(
            stage=Stage.GROUPS,
            scan=groups.scan_groups,
            permission=MEMBERS_READ,
            probe=Probe(f"{ORG}/teams", {"per_page": 1}),
        ),
        SnapshotStage(
            stage=Stage.PRIVILEGES,
            scan=privileges.scan_privileges,
            permission=MEMBERS_READ,
            probe=Probe(f"{ORG}/members", {"role": "admin", "per_page": 1}),
        ),
        SnapshotStage(
            stage=Stage.APP_PERMISSIONS,
            scan=grants.scan_app_permissions,
            permission="organization owner with read:org, or Administration: read (GitHub App)",
            probe=Probe(f"{ORG}/installations", {"per_page": 1}),
        ),
        ActivityStage(
            streams=("audit_log",),
            scan=activities.scan_activities,
            permission="organization owner with read:audit_log (classic PAT), or Administration: read",
            # authenticate narrows it to the last five minutes (phrase) with the configured include.
            probe=Probe(f"{ORG}/audit-log", {"per_page": 1}),
        ),
    ),
    actions=ACTIONS,
    # What the API offers beyond what the declared stages collect and actions change. Posture:
    # organization and repository settings (two-factor requirement, base permissions, visibility).
    api_capabilities=frozenset({Capability.SECURITY_POSTURE}),
    ocsf=read_ocsf(__name__),
    identity_keys=identity.KEYS,
    identity_provider=identity.IDENTITY_PROVIDER,
    broad_scopes=scopes.BROAD,
)

__all__ = ["APP", "GitHubConnector"]
