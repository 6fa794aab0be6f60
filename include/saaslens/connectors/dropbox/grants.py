"""The app_permissions stage: the apps each member linked to their Dropbox
(team/linked_apps/list_members_linked_apps, sessions.list; the cursor goes back to the same route),
https://www.dropbox.com/developers/documentation/http/teams#team-linked_apps-list_members_linked_apps"""

from __future__ import annotations

from collections.abc import Iterator

from saaslens.connectors.dropbox import transform
from saaslens.connectors.dropbox.connector import DropboxConnector
from saaslens.connectors.kit import JSON, Batch, SnapshotStage
from saaslens.vocabulary import Stage

ROUTE = "team/linked_apps/list_members_linked_apps"


def scan_app_permissions(connector: DropboxConnector, resume: JSON | None) -> Iterator[Batch]:
    for page in connector.listing(ROUTE, None, "apps", {}):
        rows = [row for linked in page.items for row in transform.app_grant_rows(linked)]
        if rows:
            yield Batch("app_permissions", rows)


STAGE = SnapshotStage(stage=Stage.APP_PERMISSIONS, scan=scan_app_permissions, permission="sessions.list")
