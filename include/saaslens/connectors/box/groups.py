"""The groups stage: GET /groups and, per group, GET /groups/{id}/memberships (both offset paging,
`limit` up to 1,000, `offset` at most 10,000; "Manage groups" scope),
https://developer.box.com/reference/get-groups/ , https://developer.box.com/reference/get-groups-id-memberships/ ."""

from __future__ import annotations

from collections.abc import Iterator

from saaslens.connectors.box import transform
from saaslens.connectors.box.connector import MANAGE_GROUPS, MAX_PAGE, BoxConnector
from saaslens.connectors.kit import JSON, Batch, Probe, Row, SnapshotStage
from saaslens.http import api_path
from saaslens.http.pagination import OffsetPaginator
from saaslens.vocabulary import Stage

GROUP_FIELDS = "id,type,name,group_type,description,provenance,external_sync_identifier,created_at,modified_at"


def _paginator(connector: BoxConnector) -> OffsetPaginator:
    return OffsetPaginator("entries", limit=connector.page_size(MAX_PAGE), total_path="total_count")


def scan_groups(connector: BoxConnector, resume: JSON | None) -> Iterator[Batch]:
    pages = (
        page.items for page in connector.client.paginate("groups", _paginator(connector), {"fields": GROUP_FIELDS})
    )

    def members_of(group: Row) -> list[Row]:
        path = api_path("groups", group["id"], "memberships")
        return [transform.member_row(m) for m in connector.client.iter_items(path, _paginator(connector))]

    yield from connector.groups_then_members(pages, transform.group_row, members_of)


STAGE = SnapshotStage(
    stage=Stage.GROUPS,
    scan=scan_groups,
    permission=f"{MANAGE_GROUPS} (Manage groups)",
    probe=Probe("groups", {"limit": 1}),
)
