"""The groups stage: every group of the customer and its members.

Directory API groups.list and members.list (``maxResults`` <= 200):
https://developers.google.com/workspace/admin/directory/reference/rest/v1/groups/list ,
https://developers.google.com/workspace/admin/directory/reference/rest/v1/members/list
"""

from __future__ import annotations

from collections.abc import Iterator

from saaslens.connectors.google_workspace import transform
from saaslens.connectors.google_workspace.connector import DIRECTORY, GROUP_SCOPE, GoogleWorkspaceConnector
from saaslens.connectors.kit import JSON, Batch, Probe, Row, SnapshotStage
from saaslens.http.pagination import PageTokenPaginator
from saaslens.vocabulary import Stage


def scan_groups(connector: GoogleWorkspaceConnector, resume: JSON | None) -> Iterator[Batch]:
    params = {"customer": connector.customer, "maxResults": connector.page_size(200)}
    listing = connector.stage_client(Stage.GROUPS).paginate(f"{DIRECTORY}/groups", PageTokenPaginator("groups"), params)

    def member_rows(group: Row) -> list[Row]:
        return [transform.member_row(group["id"], member) for member in connector.group_members(group["id"])]

    yield from connector.groups_then_members((page.items for page in listing), transform.group_row, member_rows)


STAGE = SnapshotStage(
    stage=Stage.GROUPS,
    scan=scan_groups,
    permission=GROUP_SCOPE,
    probe=Probe(f"{DIRECTORY}/groups", {"customer": "{customer}", "maxResults": 1}),
)
