"""Box (Business / Enterprise): users, groups, enterprise admin roles and the enterprise event log.

`APP` declares it: the connector (Client Credentials Grant for the app's Service Account), its
stages (users and privileges share GET /users, groups, activities from admin_logs), the control
actions Box's API offers (actions.py), its OCSF action map, identity keys and broad scopes.

Not collected yet, though Box's API offers them (the matrix shows them as API): files with their
shared links and collaborations (per user, with the As-User header) and their contents
(GET /files/{id}/content). Box has no API listing the apps users authorized, so no app_permissions."""

from saaslens.connectors.box import activities, groups, identity, scopes, users
from saaslens.connectors.box.actions import ACTIONS
from saaslens.connectors.box.connector import BoxConnector
from saaslens.connectors.kit import AppSpec, read_ocsf
from saaslens.vocabulary import Capability

APP = AppSpec(
    connector=BoxConnector,
    stages=(users.USERS_STAGE, groups.STAGE, users.PRIVILEGES_STAGE, activities.STAGE),
    actions=ACTIONS,
    # Offered by Box's API, not built yet: GET /files/{id}/content would feed content inspection once
    # files are listed, and the admin_logs_streaming events (UPLOAD, SHARE ...) would trigger it near
    # real time (https://developer.box.com/guides/events/enterprise-events/for-enterprise/); files can
    # be moved, trashed and locked (https://developer.box.com/reference/put-files-id/,
    # https://developer.box.com/reference/delete-files-id/).
    api_capabilities=frozenset(
        {Capability.DLP_PERIODIC_SCAN, Capability.DLP_NEAR_REAL_TIME, Capability.FILE_GOVERNANCE}
    ),
    ocsf=read_ocsf(__name__),
    identity_keys=identity.KEYS,
    identity_provider=identity.IDENTITY_PROVIDER,
    broad_scopes=scopes.BROAD,
)

__all__ = ["APP", "BoxConnector"]
