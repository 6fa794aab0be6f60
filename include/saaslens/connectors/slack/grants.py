"""The app_permissions stage: the apps approved for installation (admin.apps.approved.list;
admin.apps:read, Enterprise Grid; Tier 2; cursor paging, `limit` 1-1000),
https://api.slack.com/methods/admin.apps.approved.list"""

from __future__ import annotations

from collections.abc import Iterator

from saaslens.connectors.kit import JSON, Batch, Probe, SnapshotStage
from saaslens.connectors.slack import transform
from saaslens.connectors.slack.connector import SlackConnector
from saaslens.http.pagination import BodyCursorPaginator
from saaslens.vocabulary import Stage


def scan_app_permissions(connector: SlackConnector, resume: JSON | None) -> Iterator[Batch]:
    params = {"limit": connector.page_size(1000, 100), **connector.team()}
    paginator = BodyCursorPaginator("approved_apps")
    for page in connector.client.paginate("admin.apps.approved.list", paginator, params):
        if page.items:
            rows = [transform.app_grant_row(approved, connector.options.team_id) for approved in page.items]
            yield Batch("app_permissions", rows)


STAGE = SnapshotStage(
    stage=Stage.APP_PERMISSIONS,
    scan=scan_app_permissions,
    permission="admin.apps:read (Enterprise Grid org admin or owner)",
    probe=Probe("admin.apps.approved.list", {"limit": 1}),
)
