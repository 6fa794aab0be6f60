"""Dropbox (Business / team API): members, groups, admin roles, linked apps and the team audit log.

`APP` declares it: the connector, its stages (users and privileges share members/list_v2, groups,
app permissions from the members' linked apps, activities from team_log/get_events), the control
actions the team API offers (actions.py), its OCSF action map, identity keys and broad scopes.

Not read yet: files and their sharing (files/list_folder and sharing/list_shared_links as each member,
Dropbox-API-Select-User) and their contents; the stage is left out rather than declared half-built."""

from saaslens.connectors.dropbox import activities, grants, groups, identity, scopes, users
from saaslens.connectors.dropbox.actions import ACTIONS
from saaslens.connectors.dropbox.connector import DropboxConnector
from saaslens.connectors.kit import AppSpec, read_ocsf
from saaslens.vocabulary import Capability

APP = AppSpec(
    connector=DropboxConnector,
    stages=(users.USERS_STAGE, groups.STAGE, users.PRIVILEGES_STAGE, grants.STAGE, activities.STAGE),
    actions=ACTIONS,
    # Offered by Dropbox's API, not built yet: files/download as each member (Dropbox-API-Select-User)
    # would feed content inspection once files are listed
    # (https://www.dropbox.com/developers/documentation/http/documentation#files-download), webhooks
    # and files/list_folder/continue would trigger it near real time
    # (https://www.dropbox.com/developers/reference/webhooks); files can be deleted and moved
    # (files/delete_v2, files/move_v2).
    api_capabilities=frozenset(
        {Capability.DLP_PERIODIC_SCAN, Capability.DLP_NEAR_REAL_TIME, Capability.FILE_GOVERNANCE}
    ),
    ocsf=read_ocsf(__name__),
    identity_keys=identity.KEYS,
    identity_provider=identity.IDENTITY_PROVIDER,
    broad_scopes=scopes.BROAD,
)

__all__ = ["APP", "DropboxConnector"]
