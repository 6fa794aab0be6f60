"""Google Workspace (Admin SDK Directory and Reports, Drive v3) with domain-wide delegation.

`APP` declares it: the connector, one stage per module (users, groups, privileges, grants,
settings, activities, files), how file contents are downloaded for content inspection
(contents.py), each with the OAuth scope it delegates and the cheapest request that proves it
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
    settings,
    users,
)
from saaslens.connectors.google_workspace.actions import ACTIONS
from saaslens.connectors.google_workspace.connector import GoogleWorkspaceConnector
from saaslens.connectors.google_workspace.contents import CONTENTS
from saaslens.connectors.kit import AppSpec, read_ocsf
from saaslens.vocabulary import Capability

APP = AppSpec(
    connector=GoogleWorkspaceConnector,
    stages=(
        users.STAGE,
        groups.STAGE,
        privileges.STAGE,
        grants.STAGE,
        settings.STAGE,
        activities.STAGE,
        files.STAGE,
    ),
    actions=ACTIONS,
    contents=CONTENTS,
    reads_labels=True,
    # What the APIs offer beyond what the declared stages collect and actions change.
    api_capabilities=frozenset(
        {
            Capability.DLP_NEAR_REAL_TIME,  # changes.watch push notifications
        }
    ),
    ocsf=read_ocsf(__name__),
    identity_keys=identity.KEYS,
    identity_provider=identity.IDENTITY_PROVIDER,
    broad_scopes=scopes.BROAD,
)

__all__ = ["APP", "GoogleWorkspaceConnector"]
