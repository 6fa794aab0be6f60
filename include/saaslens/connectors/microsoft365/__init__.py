"""Microsoft 365 (Entra ID, audit logs, OneDrive and SharePoint) through Microsoft Graph v1.0.

`APP` declares it: the connector, one stage per module (users, groups, privileges, grants,
settings, activities, files), how file contents are downloaded for content inspection (contents.py), the control
actions Graph offers (actions.py), its OCSF action map, identity keys and broad scopes."""

from saaslens.connectors.kit import AppSpec, read_ocsf
from saaslens.connectors.microsoft365 import (
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
from saaslens.connectors.microsoft365.actions import ACTIONS
from saaslens.connectors.microsoft365.connector import Microsoft365Connector
from saaslens.connectors.microsoft365.contents import CONTENTS
from saaslens.vocabulary import Capability

APP = AppSpec(
    connector=Microsoft365Connector,
    stages=(users.STAGE, groups.STAGE, privileges.STAGE, grants.STAGE, settings.STAGE, activities.STAGE, files.STAGE),
    actions=ACTIONS,
    # What Graph offers beyond what the declared stages collect and actions change: near-real-time
    # inspection would need the unified audit log's file records mapped to driveItem ids (contents.py).
    api_capabilities=frozenset({Capability.DLP_NEAR_REAL_TIME}),
    contents=CONTENTS,
    reads_labels=True,
    ocsf=read_ocsf(__name__),
    identity_keys=identity.KEYS,
    identity_provider=identity.IDENTITY_PROVIDER,
    broad_scopes=scopes.BROAD,
)

__all__ = ["APP", "Microsoft365Connector"]
