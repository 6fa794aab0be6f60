"""The users stage: every Directory user (accounts).

Directory API users.list (``customer=my_customer``, ``maxResults`` <= 500, ``pageToken``):
https://developers.google.com/workspace/admin/directory/reference/rest/v1/users/list
"""

from __future__ import annotations

from collections.abc import Iterator

from saaslens.connectors.google_workspace import transform
from saaslens.connectors.google_workspace.connector import GoogleWorkspaceConnector
from saaslens.connectors.kit import JSON, Batch


def scan_users(connector: GoogleWorkspaceConnector, resume: JSON | None) -> Iterator[Batch]:
    for users in connector.user_pages():
        yield Batch("accounts", [transform.account_row(user) for user in users])
