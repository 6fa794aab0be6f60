"""The activities stage: two streams.

- audit_logs: the Audit Logs API /logs (auditlogs:read, org owner's token; Tier 3; `oldest` /
  `latest` in epoch seconds, `limit` up to 9999, cursor paging), https://docs.slack.dev/admins/audit-logs-api
- access_logs: team.accessLogs (admin scope, paid plans; Tier 2; newest first, `before`, `count`
  <= 1000, `page` <= 100), https://api.slack.com/methods/team.accessLogs
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from saaslens.connectors.kit import JSON, ActivityStage, ActivityWindow, Batch, Row
from saaslens.connectors.slack import transform
from saaslens.connectors.slack.connector import ACCESS_STREAM, AUDIT_STREAM, AccessLogPaginator, SlackConnector
from saaslens.http.listing import Page
from saaslens.http.pagination import BodyCursorPaginator, PageRequest

STREAMS = (AUDIT_STREAM, ACCESS_STREAM)


def _batch(page: Page, rows: list[Row]) -> Batch:
    return Batch("activities", rows, page.next_request.to_state() if page.next_request is not None else None)


def scan_activities(
    connector: SlackConnector, stream: str, window: ActivityWindow, resume: JSON | None
) -> Iterator[Batch]:
    oldest, latest = math.floor(window.since.timestamp()), math.floor(window.until.timestamp())
    request = PageRequest.from_state(resume) if resume is not None else None
    if stream == AUDIT_STREAM:
        params = {"oldest": oldest, "latest": latest, "limit": connector.page_size(9999, 1000)}
        pages = connector.audit_client.paginate("logs", BodyCursorPaginator("entries"), params, resume=request)
        for page in pages:
            yield _batch(page, [transform.audit_row(entry) for entry in page.items])
        return
    if stream == ACCESS_STREAM:
        paginator = AccessLogPaginator(count=connector.page_size(1000), since=oldest)
        access: dict[str, Any] = {"before": latest, **connector.team()}
        for page in connector.client.paginate("team.accessLogs", paginator, access, resume=request):
            # Newest first, so the last page reaches past the window's start: only the window is kept.
            rows = [transform.access_log_row(x) for x in page.items if oldest <= int(x["date_last"]) <= latest]
            yield _batch(page, rows)
        return
    raise ValueError(f"unknown Slack activity stream {stream!r} (streams: {', '.join(STREAMS)})")


# Probed stream by stream, on the Audit Logs API's own host: SlackConnector.authenticate.
STAGE = ActivityStage(
    streams=STREAMS,
    scan=scan_activities,
    permission="auditlogs:read (Audit Logs API) and admin (team.accessLogs)",
)
