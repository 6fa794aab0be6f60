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

APP = AppSpec(
    connector=DropboxConnector,
    stages=(users.USERS_STAGE, groups.STAGE, users.PRIVILEGES_STAGE, grants.STAGE, activities.STAGE),
    actions=ACTIONS,
    ocsf=read_ocsf(__name__),
    identity_keys=identity.KEYS,
    identity_provider=identity.IDENTITY_PROVIDER,
    broad_scopes=scopes.BROAD,
)

__all__ = ["APP", "DropboxConnector"]
