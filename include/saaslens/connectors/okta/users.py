"""The users stage: every Okta user (accounts), resumable page by page, and incremental through the
`lastUpdated` filter with deletions from the System Log.

- List users (Link-header paging, `limit` up to 200; DEPROVISIONED users only when asked for):
  https://developer.okta.com/docs/api/openapi/okta-management/management/tag/User/#tag/User/operation/listUsers
- Role holders, for is_admin: List all users with role assignments (/api/v1/iam/assignees/users)
- Deletions: user.lifecycle.delete.completed events (https://developer.okta.com/docs/reference/api/event-types/)
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from saaslens.connectors.kit import JSON, Batch, Incremental, Probe, Row, SnapshotStage
from saaslens.connectors.okta import transform
from saaslens.connectors.okta.connector import OktaConnector
from saaslens.http.pagination import LinkHeaderPaginator, PageRequest
from saaslens.transform_utils import iso_z
from saaslens.vocabulary import Stage


def scan_users(connector: OktaConnector, resume: JSON | None) -> Iterator[Batch]:
    """Every user, in two listings; each page is a checkpoint (which listing, its next request,
    and the admin ids, so a resumed scan asks for nothing it already read)."""
    if resume is not None:
        admin_list = resume.get("admin_ids")
        admin_ids = set(admin_list) if admin_list is not None else None
        first_query = int(resume["query"])
        request = PageRequest.from_state(resume["request"]) if resume.get("request") else None
    else:
        admin_ids, first_query, request = connector.admin_ids(), 0, None
    admin_state = sorted(admin_ids) if admin_ids is not None else None
    queries = connector.user_queries()
    for index in range(first_query, len(queries)):
        params = {"limit": connector.page_size(200), **queries[index]}
        pages = connector.client.paginate("/api/v1/users", LinkHeaderPaginator(), params, resume=request)
        request = None
        for page in pages:
            checkpoint: JSON | None = None
            if page.next_request is not None:
                checkpoint = {"admin_ids": admin_state, "query": index, "request": page.next_request.to_state()}
            elif index + 1 < len(queries):
                checkpoint = {"admin_ids": admin_state, "query": index + 1, "request": None}
            yield Batch("accounts", [transform.account_row(u, admin_ids) for u in page.items], checkpoint)


# -- incremental (lastUpdated filter, deletion events) ---------------------------------------------


def start_cursor(connector: OktaConnector) -> JSON:
    return {"watermark": iso_z(datetime.now(UTC))}


def changes(connector: OktaConnector, cursor: JSON) -> Iterator[Batch]:
    """Users whose lastUpdated is after the watermark (minus the lookback), and users whose deletion
    the System Log reports. Role assignments change without lastUpdated moving, so the current role
    holders travel in the context (sorted, JSON-able) for `merge` to refresh is_admin on every row."""
    now = datetime.now(UTC)
    since = connector.changes_since(cursor)
    admin_ids = connector.admin_ids()
    context: JSON = {"admin_ids": sorted(admin_ids) if admin_ids is not None else None}
    for query in connector.user_queries(f'lastUpdated gt "{since}"'):
        params = {"limit": connector.page_size(200), **query}
        for page in connector.client.paginate("/api/v1/users", LinkHeaderPaginator(), params):
            yield Batch("accounts", [transform.account_row(u, admin_ids) for u in page.items], context=context)
    removed = connector.deleted_since(since, iso_z(now), "user.lifecycle.delete.completed", "User")
    yield Batch("accounts", removed=removed, cursor={"watermark": iso_z(now)}, context=context)


def merge(table: str, previous: Row | None, changed: Row | None, context: Mapping[str, Any]) -> Row:
    """The listing's state over the previous row, with is_admin from the current role holders (when
    they could be read)."""
    row = dict(changed if changed is not None else previous or {})
    admin_ids: Sequence[str] | None = context.get("admin_ids")
    if admin_ids is not None:
        at = bisect_left(admin_ids, row["account_id"])  # O(log n): merge runs once per account
        row["is_admin"] = at < len(admin_ids) and admin_ids[at] == row["account_id"]
    return row


STAGE = SnapshotStage(
    stage=Stage.USERS,
    scan=scan_users,
    permission="okta.users.read",
    probe=Probe("/api/v1/users", {"limit": 1}),
    resumable=True,
    incremental=Incremental(start_cursor=start_cursor, changes=changes, merge=merge),
)
