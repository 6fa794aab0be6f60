"""The users stage: every Directory user (accounts).

Directory API users.list (``customer=my_customer``, ``maxResults`` <= 500, ``pageToken``):
https://developers.google.com/workspace/admin/directory/reference/rest/v1/users/list
"""

from __future__ import annotations

from collections.abc import Iterator

from saaslens.connectors.google_workspace import transform
from saaslens.connectors.google_workspace.connector import DIRECTORY, USER_SCOPE, GoogleWorkspaceConnector
from saaslens.connectors.kit import JSON, Batch, Probe, SnapshotStage
from saaslens.vocabulary import Stage


def scan_users(connector: GoogleWorkspaceConnector, resume: JSON | None) -> Iterator[Batch]:
    for users in connector.user_pages():
        yield Batch("accounts", [transform.account_row(user) for user in users])


STAGE = SnapshotStage(
    stage=Stage.USERS,
    scan=scan_users,
    permission=USER_SCOPE,
    probe=Probe(f"{DIRECTORY}/users", {"customer": "{customer}", "maxResults": 1}),
)
