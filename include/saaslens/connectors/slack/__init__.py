"""Slack (Enterprise Grid): users, user groups, admins, security settings, access logs, the Audit Logs API
and files.

`APP` declares it: the connector, its stages (users and privileges share users.list, groups, grants,
activities, files), how file contents are downloaded for content inspection (contents.py), the control
actions Slack's APIs offer (actions.py), its OCSF action map, identity keys and broad scopes."""

from saaslens.connectors.kit import AppSpec, read_ocsf
from saaslens.connectors.slack import activities, files, grants, groups, identity, scopes, settings, users
from saaslens.connectors.slack.actions import ACTIONS
from saaslens.connectors.slack.connector import SlackConnector
from saaslens.connectors.slack.contents import CONTENTS
from saaslens.vocabulary import Capability

# Probes add the `team_id` option where it is set (an org-level token needs it): SlackConnector.authenticate.
APP = AppSpec(
    connector=SlackConnector,
    stages=(
        users.USERS_STAGE,
        groups.STAGE,
        users.PRIVILEGES_STAGE,
        grants.STAGE,
        settings.STAGE,
        activities.STAGE,
        files.STAGE,
    ),
    actions=ACTIONS,
    # File contents from Slack's file host (contents.py), rescanned at once after the audit log's
    # file_uploaded / file_shared / file_public_link_created. Slack has no sensitivity labels.
    contents=CONTENTS,
    # What Slack's APIs offer beyond what the declared stages collect and actions change. Not read
    # yet: message text through conversations.history (DLP of messages, not files) and the Events
    # API's file_shared. (The settings stage reads what the Web API exposes of the security settings.)
    api_capabilities=frozenset(
        {
            Capability.DLP_PERIODIC_SCAN,
            Capability.DLP_NEAR_REAL_TIME,
        }
    ),
    ocsf=read_ocsf(__name__),
    identity_keys=identity.KEYS,
    identity_provider=identity.IDENTITY_PROVIDER,
    broad_scopes=scopes.BROAD,
)

__all__ = ["APP", "SlackConnector"]
