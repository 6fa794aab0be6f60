"""The activities stage: the enterprise event history, GET /events with `stream_type=admin_logs`
(admin or co-admin with "Run new reports and access existing reports", app scope "Manage
enterprise properties"; `created_after` / `created_before`, `limit` up to 500, `stream_position`
paging), https://developer.box.com/guides/events/enterprise-events/for-enterprise/ ,
https://developer.box.com/reference/get-events/ .

admin_logs is chronological and without duplicates within one query, which is what a window needs;
admin_logs_streaming (no date filters, two weeks, "may return events more than once") is not used.
Events are still de-duplicated on `event_id` inside a window, Box's key for duplicates, as the lake
does across windows. The stream position is carried as the exact integer text (connector.
exact_stream_position), never as a float."""

from __future__ import annotations

from collections.abc import Iterator

from saaslens.connectors.box import transform
from saaslens.connectors.box.connector import (
    ADMIN_LOGS,
    EVENTS_MAX_PAGE,
    MANAGE_ENTERPRISE,
    BoxConnector,
    StreamPositionPaginator,
)
from saaslens.connectors.kit import JSON, ActivityStage, ActivityWindow, Batch, Probe
from saaslens.http.pagination import PageRequest
from saaslens.transform_utils import iso_z

STREAMS = (ADMIN_LOGS,)


def scan_activities(
    connector: BoxConnector, stream: str, window: ActivityWindow, resume: JSON | None
) -> Iterator[Batch]:
    if stream != ADMIN_LOGS:
        raise ValueError(f"unknown Box activity stream {stream!r} (streams: {', '.join(STREAMS)})")
    params = {
        "stream_type": ADMIN_LOGS,
        "created_after": iso_z(window.since),
        "created_before": iso_z(window.until),
        "limit": connector.page_size(EVENTS_MAX_PAGE),
    }
    request = PageRequest.from_state(resume) if resume is not None else None
    seen: set[str] = set()
    paginator = StreamPositionPaginator("entries")
    for page in connector.client.paginate("events", paginator, params, resume=request):
        rows = []
        for event in page.items:
            event_id = str(event.get("event_id") or "")
            if event_id in seen:
                continue
            seen.add(event_id)
            row = transform.activity_row(event)
            # created_before is inclusive at Box: an event on the boundary belongs to the next window
            if row["occurred_at"] is not None and window.since <= row["occurred_at"] < window.until:
                rows.append(row)
        checkpoint = page.next_request.to_state() if page.next_request is not None else None
        yield Batch("activities", rows, checkpoint)


STAGE = ActivityStage(
    streams=STREAMS,
    scan=scan_activities,
    permission=f"{MANAGE_ENTERPRISE} (Manage enterprise properties), admin or co-admin with reports access",
    probe=Probe("events", {"stream_type": ADMIN_LOGS, "limit": 1}),
)
