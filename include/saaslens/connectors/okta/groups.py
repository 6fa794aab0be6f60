"""The groups stage: Okta groups and their user members, and incremental through the `lastUpdated` /
`lastMembershipUpdated` filter with deletions from the System Log.

- List groups (`limit` up to 10,000, default 1,000) and group members (`limit` up to 1,000):
  https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Group/
- Deletions: group.lifecycle.delete events (https://developer.okta.com/docs/reference/api/event-types/)
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from saaslens.connectors.kit import JSON, Batch, Incremental, Probe, Row, SnapshotStage
from saaslens.connectors.okta import transform
from saaslens.connectors.okta.connector import OktaConnector
from saaslens.http.pagination import LinkHeaderPaginator
from saaslens.transform_utils import iso_z
from saaslens.vocabulary import Stage


def _group_pages(connector: OktaConnector, params: JSON) -> Iterator[list[Row]]:
    for page in connector.client.paginate("/api/v1/groups", LinkHeaderPaginator(), params):
        yield page.items


def _member_rows(connector: OktaConnector, group_id: str) -> list[Row]:
    return [transform.member_row(group_id, user) for user in connector.group_members(group_id)]


def scan_groups(connector: OktaConnector, resume: JSON | None) -> Iterator[Batch]:
    pages = _group_pages(connector, {"limit": connector.page_size(10000, 1000)})
    yield from connector.groups_then_members(pages, transform.group_row, lambda g: _member_rows(connector, g["id"]))


def start_cursor(connector: OktaConnector) -> JSON:
    return {"watermark": iso_z(datetime.now(UTC))}


def changes(connector: OktaConnector, cursor: JSON) -> Iterator[Batch]:
    """Groups whose profile or membership changed since the watermark (minus the lookback), each
    with its complete member list; groups the System Log reports deleted."""
    now = datetime.now(UTC)
    since = connector.changes_since(cursor)
    expression = f'lastUpdated gt "{since}" or lastMembershipUpdated gt "{since}"'
    group_ids: list[str] = []
    for groups in _group_pages(connector, {"limit": connector.page_size(10000, 1000), "filter": expression}):
        group_ids += [g["id"] for g in groups]
        yield Batch("groups", [transform.group_row(g) for g in groups])
    for group_id, rows in connector.fan_out(group_ids, lambda g: (g, _member_rows(connector, g))):
        yield Batch("group_members", children={group_id: rows})
    removed = connector.deleted_since(since, iso_z(now), "group.lifecycle.delete", "UserGroup")
    yield Batch("groups", removed=removed, cursor={"watermark": iso_z(now)})


STAGE = SnapshotStage(
    stage=Stage.GROUPS,
    scan=scan_groups,
    permission="okta.groups.read",
    probe=Probe("/api/v1/groups", {"limit": 1}),
    incremental=Incremental(start_cursor=start_cursor, changes=changes),
)
