"""GitHub (an organization on GitHub Enterprise Cloud, through the REST API).

`APP` declares it: the connector, one stage per module (users, groups, privileges, grants,
settings, activities), each with the token permission it needs and the cheapest request that proves it (every
probe is below the organization, ``/orgs/{org}``, filled from the connection), the control actions the
API offers (actions.py), its OCSF action map, identity keys and broad scopes."""

from saaslens.connectors.github import activities, grants, groups, identity, privileges, scopes, settings, users
from saaslens.connectors.github.actions import ACTIONS
from saaslens.connectors.github.connector import GitHubConnector
from saaslens.connectors.kit import AppSpec, read_ocsf

APP = AppSpec(
    connector=GitHubConnector,
    stages=(users.STAGE, groups.STAGE, privileges.STAGE, grants.STAGE, settings.STAGE, activities.STAGE),
    actions=ACTIONS,
    ocsf=read_ocsf(__name__),
    identity_keys=identity.KEYS,
    identity_provider=identity.IDENTITY_PROVIDER,
    broad_scopes=scopes.BROAD,
)

__all__ = ["APP", "GitHubConnector"]
