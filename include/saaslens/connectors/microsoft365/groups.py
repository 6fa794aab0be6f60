"""The groups stage: Entra ID groups and their user members.

List groups / group members: group-list.md, group-list-members.md (members may be users, groups,
devices, service principals; only users become memberships).
"""

from __future__ import annotations

from collections.abc import Iterator

from saaslens.connectors.kit import JSON, Batch, Probe, Row, SnapshotStage
from saaslens.connectors.microsoft365 import transform
from saaslens.connectors.microsoft365.connector import Microsoft365Connector
from saaslens.vocabulary import Stage

GROUP_FIELDS = (
    "id",
    "displayName",
    "description",
    "groupTypes",
    "mailEnabled",
    "securityEnabled",
    "mail",
    "visibility",
    "isAssignableToRole",
    "createdDateTime",
)


def scan_groups(connector: Microsoft365Connector, resume: JSON | None) -> Iterator[Batch]:
    params = {"$select": ",".join(GROUP_FIELDS), "$top": connector.page_size(999)}
    pages = (page.items for page in connector.pages("/v1.0/groups", params))

    def user_members(group: Row) -> list[Row]:
        members = connector.group_member_objects(group["id"])
        return [transform.member_row(group["id"], member) for member in members if transform.is_user(member)]

    yield from connector.groups_then_members(pages, transform.group_row, user_members)


STAGE = SnapshotStage(
    stage=Stage.GROUPS,
    scan=scan_groups,
    permission="GroupMember.Read.All",
    probe=Probe("/v1.0/groups", {"$top": 1, "$select": "id"}),
)
