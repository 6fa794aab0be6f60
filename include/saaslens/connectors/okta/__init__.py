"""Okta through its Management API: users, groups, admin roles, user grants, the security
configuration (policies, authenticators, network zones, API token metadata) and the System Log.

`APP` declares it: the connector, one stage per module (users, groups, privileges, grants, settings,
activities), the control actions the Management API offers (actions.py), its OCSF action map,
identity keys and broad scopes."""

from saaslens.connectors.kit import AppSpec, read_ocsf
from saaslens.connectors.okta import activities, grants, groups, identity, privileges, scopes, settings, users
from saaslens.connectors.okta.actions import ACTIONS
from saaslens.connectors.okta.connector import OktaConnector

APP = AppSpec(
    connector=OktaConnector,
    stages=(users.STAGE, groups.STAGE, privileges.STAGE, grants.STAGE, settings.STAGE, activities.STAGE),
    actions=ACTIONS,
    ocsf=read_ocsf(__name__),
    identity_keys=identity.KEYS,
    identity_provider=identity.IDENTITY_PROVIDER,
    broad_scopes=scopes.BROAD,
)

__all__ = ["APP", "OktaConnector"]
