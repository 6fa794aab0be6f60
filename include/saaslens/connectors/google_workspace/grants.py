"""The app_permissions stage: the OAuth tokens each user granted to third-party apps.

Directory API tokens.list, per user (needs ``admin.directory.user.security``; it has no read-only
scope): https://developers.google.com/workspace/admin/directory/reference/rest/v1/tokens/list
"""

from __future__ import annotations

from collections.abc import Iterator

from saaslens.connectors.google_workspace import transform
from saaslens.connectors.google_workspace.connector import DIRECTORY, TOKEN_SCOPE, USER_SCOPE, GoogleWorkspaceConnector
from saaslens.connectors.kit import JSON, Batch, Probe, Row, SnapshotStage
from saaslens.http import api_path
from saaslens.vocabulary import Stage


def scan_app_permissions(connector: GoogleWorkspaceConnector, resume: JSON | None) -> Iterator[Batch]:
    client = connector.stage_client(Stage.APP_PERMISSIONS)

    def tokens(user_id: str) -> list[Row]:
        payload = client.get_json(api_path(f"{DIRECTORY}/users", user_id, "tokens"))
        return list((payload or {}).get("items") or [])

    user_ids = (user["id"] for users in connector.user_pages() for user in users)
    for granted in connector.fan_out(user_ids, tokens):
        if granted:
            yield Batch("app_permissions", [transform.grant_row(token) for token in granted])


STAGE = SnapshotStage(
    stage=Stage.APP_PERMISSIONS,
    scan=scan_app_permissions,
    permission=f"{TOKEN_SCOPE} and {USER_SCOPE}",
    probe=Probe(f"{DIRECTORY}/users/{{subject}}/tokens"),
)
