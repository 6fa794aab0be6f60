"""The groups stage: team/groups/list and /continue, then each group's members through
team/groups/members/list and /continue (groups.read; `limit` up to 1,000),
https://www.dropbox.com/developers/documentation/http/teams#team-groups-list"""

from __future__ import annotations

from collections.abc import Iterator

from saaslens.connectors.dropbox import transform
from saaslens.connectors.dropbox.connector import DropboxConnector
from saaslens.connectors.kit import JSON, Batch, Row, SnapshotStage
from saaslens.vocabulary import Stage


def scan_groups(connector: DropboxConnector, resume: JSON | None) -> Iterator[Batch]:
    limit = connector.page_size(1000, 200)
    pages = (
        page.items
        for page in connector.listing("team/groups/list", "team/groups/list/continue", "groups", {"limit": limit})
    )

    def members_of(group: Row) -> list[Row]:
        args = {"group": {".tag": "group_id", "group_id": group["group_id"]}, "limit": limit}
        listing = connector.listing("team/groups/members/list", "team/groups/members/list/continue", "members", args)
        return [transform.member_row(group["group_id"], entry) for page in listing for entry in page.items]

    yield from connector.groups_then_members(pages, transform.group_row, members_of)


STAGE = SnapshotStage(stage=Stage.GROUPS, scan=scan_groups, permission="groups.read")
