"""Box (Business / Enterprise): users, groups, enterprise admin roles, the enterprise event log and
every managed user's files with their shared links and collaborations.

`APP` declares it: the connector (Client Credentials Grant for the app's Service Account), its
stages (users and privileges share GET /users, groups, activities from admin_logs, files walked per
user with the As-User header), file contents for content inspection (contents.py), the control
actions Box's API offers (actions.py), its OCSF action map, identity keys and broad scopes.

Box has no API listing the apps users authorized, so no app_permissions."""

from saaslens.connectors.box import activities, files, groups, identity, scopes, users
from saaslens.connectors.box.actions import ACTIONS
from saaslens.connectors.box.connector import BoxConnector
from saaslens.connectors.box.contents import CONTENTS
from saaslens.connectors.kit import AppSpec, read_ocsf
from saaslens.vocabulary import Capability

APP = AppSpec(
    connector=BoxConnector,
    stages=(users.USERS_STAGE, groups.STAGE, users.PRIVILEGES_STAGE, activities.STAGE, files.STAGE),
    actions=ACTIONS,
    # Offered by Box's API, not built yet: files can be moved, trashed and locked
    # (https://developer.box.com/reference/put-files-id/, https://developer.box.com/reference/delete-files-id/).
    api_capabilities=frozenset({Capability.FILE_GOVERNANCE}),
    ocsf=read_ocsf(__name__),
    identity_keys=identity.KEYS,
    identity_provider=identity.IDENTITY_PROVIDER,
    broad_scopes=scopes.BROAD,
    contents=CONTENTS,
)

__all__ = ["APP", "BoxConnector"]
