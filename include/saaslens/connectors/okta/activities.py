"""The activities stage: the System Log, one stream.

Polling in ascending order; a bounded query (with `until`) ends when the next link disappears, unlike
polling (`limit` up to 1,000): https://developer.okta.com/docs/reference/api/system-log/
"""

from __future__ import annotations

from collections.abc import Iterator

from saaslens.connectors.kit import JSON, ActivityStage, ActivityWindow, Batch
from saaslens.connectors.okta import transform
from saaslens.connectors.okta.connector import OktaConnector
from saaslens.http.pagination import LinkHeaderPaginator, PageRequest
from saaslens.transform_utils import iso_z

STREAMS = ("system_log",)


def scan_activities(
    connector: OktaConnector, stream: str, window: ActivityWindow, resume: JSON | None
) -> Iterator[Batch]:
    params = {
        "since": iso_z(window.since),
        "until": iso_z(window.until),
        "sortOrder": "ASCENDING",
        "limit": connector.page_size(1000),
    }
    request = PageRequest.from_state(resume) if resume is not None else None
    pages = connector.client.paginate("/api/v1/logs", LinkHeaderPaginator(), params, resume=request, prefetch=True)
    for page in pages:
        checkpoint = page.next_request.to_state() if page.next_request is not None else None
        yield Batch("activities", [transform.activity_row(event) for event in page.items], checkpoint)


STAGE = ActivityStage(streams=STREAMS, scan=scan_activities, permission="okta.logs.read")
